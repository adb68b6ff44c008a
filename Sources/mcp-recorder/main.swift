import RecorderCLI

await MCPRecorderCommand.runMain()
