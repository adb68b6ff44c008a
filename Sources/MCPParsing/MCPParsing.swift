// MCP traffic understanding: see the files of this module.
