"""A forked child of the daemon: become the client's process, run its command, report the code.

The child takes the client's stdin, stdout and stderr (``dup2`` onto 0, 1 and 2), working
folder, environment, umask, ``sys.argv`` and ``sys.path``, and then imports the CLI itself, so
its consoles size and colour themselves for the client's terminal.
"""

from __future__ import annotations

import atexit
import io
import os
import signal
import socket
import sys
import threading
import time
import traceback
from typing import Any

from shipyard.cli.daemon import protocol

__all__ = ["run_command"]


def _become_client(message: dict[str, Any], fds: list[int]) -> None:
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(message["cwd"])
    os.environ.clear()
    os.environ.update(message["env"])
    time.tzset()
    os.umask(int(message["umask"]))
    sys.argv = list(message["argv"])
    sys.path[:] = list(message["path"])
    for stream, line_buffered in ((sys.stdout, os.isatty(1)), (sys.stderr, True)):
        if isinstance(stream, io.TextIOWrapper):  # buffered as for the client's file
            stream.reconfigure(line_buffering=line_buffered)


def _reset_signals() -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(number, signal.SIG_DFL)


def _interrupt_when_client_leaves(conn: socket.socket) -> None:
    """The client sends nothing after its request: end of stream means it is gone."""

    def watch() -> None:
        try:
            gone = conn.recv(1) == b""
        except OSError:
            gone = True
        if gone:
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="shipyard-daemon-client", daemon=True).start()


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def run_command(conn: socket.socket, message: dict[str, Any], fds: list[int]) -> int:
    """Run the client's command in this process and send its exit code; returns it."""
    _reset_signals()
    try:
        _become_client(message, fds)
        _interrupt_when_client_leaves(conn)
        from shipyard.cli.main import app

        app(prog_name=str(message.get("prog_name") or "shipyard"))
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # what the interpreter would print for an uncaught error
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    try:
        protocol.send(conn, {"exit": code})
    except OSError:
        pass  # the client is gone; nobody waits for the code
    return code
