"""The client side: hand a routed command to the daemon, or say it must run here.

Stdlib only, and nothing heavy: this runs before the CLI is imported.

    >>> code = run_in_daemon(["pipeline", "run", "pipe.py"])   # None: run it in this process
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from typing import Any

from shipyard.cli.daemon import protocol
from shipyard.cli.daemon.identity import (
    DaemonPaths,
    daemon_paths,
    ensure_private_dir,
    install_signature,
    is_enabled,
    is_routed,
)

__all__ = ["connect", "request", "run_in_daemon", "start_daemon", "wait_until_listening"]

FIRST_REPLY_TIMEOUT_S = 30.0
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def connect(paths: DaemonPaths) -> socket.socket | None:
    """A connection to the daemon, or None when none listens (or its folder is not private)."""
    if not ensure_private_dir(paths.folder):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(paths.socket))
    except OSError:
        sock.close()
        return None
    return sock


def start_daemon(paths: DaemonPaths, environ: Mapping[str, str]) -> int:
    """Start this install's daemon in the background, detached; returns its pid."""
    import subprocess

    log = os.open(paths.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "shipyard.cli.daemon.server", paths.socket.stem],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=dict(environ),  # and this folder: a relative PYTHONPATH means what it means here
            start_new_session=True,
        )
    finally:
        os.close(log)
    return process.pid


def wait_until_listening(paths: DaemonPaths, timeout_s: float) -> bool:
    """Whether the daemon accepts connections within ``timeout_s`` (it imports first)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sock = connect(paths)
        if sock is not None:
            sock.close()
            return True
        time.sleep(0.05)
    return False


def request(paths: DaemonPaths, op: str) -> dict[str, Any] | None:
    """The daemon's answer to ``status`` or ``stop``; None when no daemon listens."""
    sock = connect(paths)
    if sock is None:
        return None
    with sock:
        protocol.send(sock, {"op": op})
        try:
            return protocol.receive(sock)
        except protocol.ProtocolError:
            return None


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def program_name() -> str:
    """What usage lines call the command: ``shipyard``, or ``python -m shipyard`` (as Click
    would say it in this process; the child's ``__main__`` is the daemon's)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if os.path.basename(sys.argv[0]) == "__main__.py" and spec is not None and spec.name:
        return f"python -m {spec.name.removesuffix('.__main__')}"
    return os.path.basename(sys.argv[0])


def _relay(sock: socket.socket, reply: dict[str, Any]) -> int:
    """Forward signals to the child until it reports its exit code (the replies can come in
    either order: the daemon sends the child's pid, the child its exit code)."""
    child: list[int] = []
    received: list[int] = []

    def forward(number: int, _frame: object) -> None:
        received.append(number)
        if child:
            os.kill(child[0], number)

    for forwarded in FORWARDED_SIGNALS:
        signal.signal(forwarded, forward)
    while "exit" not in reply:
        if "pid" in reply:
            child.append(int(reply["pid"]))
            for number in received:  # they came before the child was known
                os.kill(child[0], number)
        try:
            reply = protocol.receive(sock)
        except protocol.ProtocolError:
            if received:
                return 128 + received[-1]
            print(
                "shipyard: the daemon's worker ended without an exit code; run the command "
                "again with SHIPYARD_DAEMON=0 to run it in its own process",
                file=sys.stderr,
            )
            return 1
    return int(reply["exit"])


def run_in_daemon(args: list[str], environ: Mapping[str, str] = os.environ) -> int | None:
    """Run ``shipyard ARGS`` in the daemon and return its exit code, or None to run it here.

    With no daemon listening (or an out-of-date one) a new one is started in the background for
    the next command, and this one runs here.
    """
    if not is_routed(args) or not is_enabled(environ):
        return None
    paths = daemon_paths(environ)
    sock = connect(paths)
    if sock is None:
        if ensure_private_dir(paths.folder):
            start_daemon(paths, environ)
        return None
    with sock:
        try:
            message = {
                "op": "run",
                "argv": sys.argv,
                "prog_name": program_name(),
                "cwd": os.getcwd(),  # fails in a removed folder: then the command runs here
                "env": dict(environ),
                "umask": _umask(),
                "path": sys.path,
                "signature": install_signature(),
            }
            protocol.send(sock, message, [0, 1, 2])
        except OSError:
            return None  # nothing was started: the daemon forks only after a whole request
        sock.settimeout(FIRST_REPLY_TIMEOUT_S)
        try:
            first = protocol.receive(sock)
        except TimeoutError:
            print(
                f"shipyard: the daemon did not answer in {FIRST_REPLY_TIMEOUT_S:.0f} s; "
                "`shipyard daemon stop`, or run with SHIPYARD_DAEMON=0",
                file=sys.stderr,
            )
            return 1  # not run here: the daemon may have started it
        except (OSError, protocol.ProtocolError):
            return None  # it closed without forking (another user, a bad request)
        sock.settimeout(None)
        if first.get("stale"):
            start_daemon(paths, environ)
            return None
        return _relay(sock, first)
