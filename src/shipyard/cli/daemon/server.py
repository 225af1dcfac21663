"""The fork server: import the heavy modules once, then fork a child per command.

    python -m shipyard.cli.daemon.server   (started by the client, detached, in the background)

It holds ``<name>.lock`` for its whole life (one daemon per install), imports :data:`PRELOAD`,
and only then listens, so a client never waits on a cold daemon. It is single-threaded: a
fork copies only the thread that forks.
"""

from __future__ import annotations

import fcntl
import importlib
import os
import select
import signal
import socket
import struct
import sys
import time
from typing import Any

from shipyard.cli.daemon import protocol
from shipyard.cli.daemon.identity import (
    DaemonPaths,
    daemon_paths,
    ensure_private_dir,
    install_signature,
)

__all__ = ["PRELOAD", "serve"]

PRELOAD = (
    "sqlalchemy",
    "sqlalchemy.dialects.sqlite",
    "typer",
    "typer.main",
    "typer._adapters",
    "rich.console",
    "rich.live",
    "rich.table",
    "rich.tree",
    "packaging.requirements",
    "shipyard.pipelines.runner",
    "shipyard.pipelines.export",
    "shipyard.tracking.run",
    "shipyard.registry.registry",
)
"""What the daemon imports before it forks: no module that reads the terminal or the
environment at import (the CLI modules make their consoles at import, so each child imports
them itself), and none of the user's code."""

DEFAULT_IDLE_S = 1800.0
REQUEST_TIMEOUT_S = 5.0
_PEERCRED = struct.Struct("3i")


def _idle_timeout(environ: dict[str, str]) -> float:
    try:
        return max(1.0, float(environ.get("SHIPYARD_DAEMON_IDLE", DEFAULT_IDLE_S)))
    except ValueError:
        return DEFAULT_IDLE_S


def _peer_uid(conn: socket.socket) -> int:
    data = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    return int(_PEERCRED.unpack(data)[1])


class Daemon:
    """The accept loop: one forked child per ``run``; ``status`` and ``stop`` answered inline."""

    def __init__(
        self,
        paths: DaemonPaths,
        listener: socket.socket,
        idle_s: float,
        signature: str,
        lock_fd: int,
    ) -> None:
        self.paths = paths
        self.lock_fd = lock_fd
        self.listener = listener
        self.idle_s = idle_s
        self.signature = signature
        self.started = time.time()
        self.served = 0
        self.children: set[int] = set()
        self.running = True

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "socket": str(self.paths.socket),
            "started": self.started,
            "served": self.served,
            "children": len(self.children),
            "idle_timeout_s": self.idle_s,
            "python": sys.executable,
        }

    def reap(self) -> None:
        while self.children:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.discard(pid)

    def loop(self) -> None:
        last_activity = time.monotonic()
        while self.running:
            ready, _, _ = select.select([self.listener], [], [], 1.0)
            self.reap()
            if self.children:
                last_activity = time.monotonic()
            if not ready:
                if time.monotonic() - last_activity > self.idle_s:
                    return
                continue
            conn, _ = self.listener.accept()
            last_activity = time.monotonic()
            try:
                self.handle(conn)
            except (OSError, protocol.ProtocolError) as exc:
                print(f"shipyard daemon: a request failed: {exc}", file=sys.stderr, flush=True)
            finally:
                conn.close()

    def handle(self, conn: socket.socket) -> None:
        if _peer_uid(conn) != os.getuid():
            return  # the folder is private already; never serve another user
        conn.settimeout(REQUEST_TIMEOUT_S)  # a client that sends nothing must not hold the loop
        message, fds = protocol.receive_with_fds(conn)
        try:
            op = message.get("op")
            if op == "run" and message.get("signature") != self.signature:
                protocol.send(conn, {"stale": True})
                self.running = False  # the client starts a fresh daemon
            elif op == "run" and len(fds) == 3:
                self.fork(conn, message, fds)
            elif op == "stop":
                protocol.send(conn, {**self.status(), "stopping": True})
                self.running = False
            else:
                protocol.send(conn, self.status())
        finally:
            for fd in fds:
                os.close(fd)

    def fork(self, conn: socket.socket, message: dict[str, Any], fds: list[int]) -> None:
        pid = os.fork()
        if pid == 0:  # the child: never returns into the loop
            code = 1
            try:
                self.listener.close()
                os.close(self.lock_fd)  # the lock is the daemon's, not its children's
                conn.settimeout(None)  # the child waits on its client as long as it runs
                from shipyard.cli.daemon.child import run_command

                code = run_command(conn, message, fds)
            finally:
                os._exit(code)
        self.children.add(pid)
        self.served += 1
        protocol.send(conn, {"pid": pid})


def _take_lock(paths: DaemonPaths, wait_s: float = 5.0) -> int | None:
    """The install's lock, waiting ``wait_s`` for a stale daemon to leave; None if it stays."""
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError:
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(0.05)


def serve(environ: dict[str, str], expected_name: str | None = None) -> int:
    """Run the daemon of this install until it is idle, stale or stopped; 0 when it ran.

    ``expected_name`` is the socket name the client computed: a daemon whose own differs (its
    ``sys.path`` is not the client's) would never be reached, so it does not start."""
    paths = daemon_paths(environ)
    if expected_name is not None and paths.socket.stem != expected_name:
        print(f"shipyard daemon: sys.path differs from the client's: {sys.path}", file=sys.stderr)
        return 2
    if not ensure_private_dir(paths.folder):
        print(f"shipyard daemon: {paths.folder} is not a private folder", file=sys.stderr)
        return 2
    lock = _take_lock(paths)
    if lock is None:
        return 0  # another daemon of this install is running
    try:
        signature = install_signature()  # of what is on disk before the imports read it
        for module in PRELOAD:
            importlib.import_module(module)
        os.chdir(paths.folder)  # hold no user folder open; children chdir to their client's
        paths.socket.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(paths.socket))
        os.chmod(paths.socket, 0o600)
        listener.listen(16)
        daemon = Daemon(paths, listener, _idle_timeout(environ), signature, lock)
        signal.signal(signal.SIGTERM, lambda *_: setattr(daemon, "running", False))
        try:
            daemon.loop()
        finally:
            paths.socket.unlink(missing_ok=True)
            listener.close()
    finally:
        os.close(lock)
    return 0


if __name__ == "__main__":
    sys.exit(serve(dict(os.environ), sys.argv[1] if len(sys.argv) > 1 else None))
