"""Shared fixtures for the end-to-end tests: the built binaries."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def bin_dir() -> pathlib.Path:
    path = os.environ.get("MCP_RECORDER_BIN_DIR")
    if not path:
        path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    directory = pathlib.Path(path)
    assert (directory / "mcp-recorder").exists(), f"build first: no mcp-recorder in {directory}"
    return directory


@pytest.fixture(scope="session")
def recorder(bin_dir):
    return str(bin_dir / "mcp-recorder")
