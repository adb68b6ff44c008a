"""What the test-server harnesses (scripts/s3/radosgw.py, scripts/postgres/postgres.py) share: a free
port, and the command line that runs one server until it is told to stop."""
from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import sys
import threading
from typing import Callable, ContextManager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(name: str, server: Callable[[pathlib.Path, set[str]], ContextManager], banner: Callable[[object], str]) -> None:
    """`python3 HARNESS [--until-stdin-closes] [--FLAG…] [WORKDIR]`: starts `server(workdir, flags)`,
    prints `banner(server)` once it is ready and waits. Ctrl-C or SIGTERM stops it; with
    `--until-stdin-closes`, so does the end of stdin (the test process that started it ended, even by
    kill -9), and the work directory is removed."""
    # A parent may hand us signals blocked (Foundation's Process does, in a test runner), and the
    # daemons inherit our mask: unblock them, or SIGTERM would stop nothing.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    # SIGTERM stops the daemons too (they run in sessions of their own, so they would outlive us).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--until-stdin-closes" in flags:
        def watch_stdin() -> None:
            while sys.stdin.buffer.read(4096):
                pass
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch_stdin, daemon=True).start()
    workdir = pathlib.Path(args[0] if args else f"/tmp/{name}-{os.getpid()}")
    try:
        with server(workdir, flags) as running:
            print(banner(running), flush=True)
            try:
                signal.pause()
            except KeyboardInterrupt:
                pass
    finally:
        if "--until-stdin-closes" in flags:
            shutil.rmtree(workdir, ignore_errors=True)
