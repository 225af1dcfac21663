"""``--workers N`` sharing one copy of the model: the parent loads it once, then forks.

The parent has bound the socket. It loads and warms the model (``LoadingHealth`` answers
``/healthz`` meanwhile), runs ``gc.collect()`` and ``gc.freeze()`` (so no worker's collector
writes to the model's object headers and un-shares their pages) and forks the workers. Each
worker builds its own app over the loaded model (its batcher, metrics and prediction log) and
serves the inherited socket; the model's pages stay shared copy-on-write.

With ``--follow-alias`` the parent polls the source. When the alias moves it loads the new
version and replaces the workers one at a time: fork a new one, wait until it says it is ready,
SIGTERM an old one (which drains; see ``HttpProtocol.shutdown``), wait for it to exit. A worker
that dies is forked again. SIGTERM or SIGINT stops every worker (each drains) and the parent
returns 0.

Only flavors that declare ``fork_safe`` are forked, and only when loading started no thread
(``thread_count``): a thread pool made at load (onnxruntime, OpenMP) is not copied by ``fork``.
Otherwise ``server.py`` starts workers that each load their own copy.

    ForkedWorkers(source, served, sock, workers=4, serve_worker=serve_forked).run()
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from shipyard.contract import DRAIN_SECONDS
from shipyard.models.flavors import flavor_named
from shipyard.serve.runtime import ServedModel
from shipyard.serve.sources import ModelSource, warm_up

__all__ = [
    "READY_TIMEOUT_S",
    "ForkedWorkers",
    "ServeWorker",
    "load_before_fork",
    "load_for_fork",
    "may_fork",
    "thread_count",
]

logger = logging.getLogger("shipyard.serve")

READY_TIMEOUT_S = 120.0
_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}
_STOP = (signal.SIGTERM, signal.SIGINT)
_EXIT_WAIT_S = DRAIN_SECONDS + 5.0

ServeWorker = Callable[[ServedModel, socket.socket, int], int]
"""In a forked worker: serve ``served`` on the socket, write a byte to the fd once ready, and
return the exit code once stopped."""


def thread_count() -> int:
    """Threads in this process, native ones included (``/proc/self/task`` where there is one)."""
    with contextlib.suppress(OSError):
        return len(os.listdir("/proc/self/task"))
    return threading.active_count()


def may_fork(source: ModelSource) -> str | None:
    """None when the version ``source`` points at may be loaded once and forked, else why not."""
    flavor = flavor_named(source.flavor())
    if flavor.fork_safe:
        return None
    return f"the {flavor.name} flavor cannot be forked safely after loading"


@dataclass
class _Worker:
    pid: int
    served: ServedModel
    ready_fd: int  # -1 once read


class ForkedWorkers:
    """The parent of the forked workers: forks, replaces and stops them."""

    def __init__(
        self,
        source: ModelSource,
        served: ServedModel,
        sock: socket.socket,
        *,
        workers: int,
        serve_worker: ServeWorker,
        follow_alias: bool = False,
        poll_seconds: float = 2.0,
    ) -> None:
        self._source = source
        self._served = served
        self._sock = sock
        self._count = workers
        self._serve_worker = serve_worker
        self._follow = follow_alias
        self._poll_seconds = poll_seconds
        self._workers: list[_Worker] = []
        self._refused: int | None = None  # a version that cannot be forked: not loaded again

    def run(self) -> int:
        """Fork the workers, look after them until SIGTERM or SIGINT; 0 or a failed start's code."""
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            for _ in range(self._count):
                worker = self._fork(self._served)
                self._workers.append(worker)
                if not self._wait_ready(worker):
                    return self._stop_all(failed=worker)
            logger.info(
                "%d workers share one copy of %s version %s (loaded before the fork)",
                self._count,
                self._served.name,
                self._served.version_label,
            )
            self._supervise()
            return self._stop_all()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)

    # -- the parent's loop ------------------------------------------------------------------
    def _supervise(self) -> None:
        next_poll = time.monotonic() + self._poll_seconds
        while True:
            timeout = max(0.0, next_poll - time.monotonic()) if self._follow else 1.0
            info = signal.sigtimedwait(_SIGNALS, min(timeout, 1.0))
            if info is not None and info.si_signo in _STOP:
                logger.info("stopping %d workers", len(self._workers))
                return
            self._reap()
            if self._follow and time.monotonic() >= next_poll:
                self._follow_alias()
                next_poll = time.monotonic() + self._poll_seconds

    def _reap(self) -> None:
        """Fork a worker again for each one that exited on its own."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for index, worker in enumerate(self._workers):
                if worker.pid == pid:
                    logger.warning(
                        "worker %d exited with %s: forking another",
                        pid,
                        os.waitstatus_to_exitcode(status),
                    )
                    self._close_ready(worker)
                    self._workers[index] = self._fork(self._served)

    def _follow_alias(self) -> None:
        try:
            version = self._source.current_version()
            if version not in (self._served.version, self._refused):
                logger.info(
                    "%s now points at version %s: loading it once for %d workers",
                    self._source.describe(),
                    version,
                    self._count,
                )
                loaded = load_for_fork(self._source)
                if isinstance(loaded, str):
                    self._refused = version
                    logger.error(
                        "cannot serve version %s: %s; restart the server to serve it (each "
                        "worker then loads its own copy)",
                        version,
                        loaded,
                    )
                    return
                if loaded.version != self._served.version:
                    self._served = loaded
        except Exception as exc:
            logger.warning("following %s failed (will retry): %s", self._source.describe(), exc)
            return
        self._roll()

    def _roll(self) -> None:
        """Replace, one at a time, every worker that is not on the current version."""
        for old in [w for w in self._workers if w.served is not self._served]:
            new = self._fork(self._served)
            if not self._wait_ready(new):
                logger.error(
                    "a worker for version %s did not start: the others keep serving version %s; "
                    "will try again",
                    self._served.version_label,
                    old.served.version_label,
                )
                self._end(new)
                return
            self._workers[self._workers.index(old)] = new
            self._end(old)
        logger.info("every worker serves version %s", self._served.version_label)

    # -- one worker -------------------------------------------------------------------------
    def _fork(self, served: ServedModel) -> _Worker:
        gc.collect()
        gc.freeze()  # what the parent holds now stays out of every collection in the workers
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the parent's code
            code = 1
            try:
                os.close(read_fd)
                for worker in self._workers:
                    self._close_ready(worker)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
                code = self._serve_worker(served, self._sock, write_fd)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                logger.exception("worker %d failed", os.getpid())
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        os.close(write_fd)
        return _Worker(pid, served, read_fd)

    def _wait_ready(self, worker: _Worker) -> bool:
        """True once ``worker`` says it is ready; False when it exits or takes too long."""
        readable, _, _ = select.select([worker.ready_fd], [], [], READY_TIMEOUT_S)
        ready = bool(readable) and os.read(worker.ready_fd, 1) == b"r"
        self._close_ready(worker)
        return ready

    @staticmethod
    def _close_ready(worker: _Worker) -> None:
        if worker.ready_fd >= 0:
            os.close(worker.ready_fd)
            worker.ready_fd = -1

    def _end(self, worker: _Worker) -> int:
        """SIGTERM ``worker`` (it drains), wait for it to exit; its exit code."""
        self._close_ready(worker)
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGTERM)
        return self._wait_exit(worker.pid)

    def _wait_exit(self, pid: int) -> int:
        deadline = time.monotonic() + _EXIT_WAIT_S
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return 0
            if done:
                return os.waitstatus_to_exitcode(status)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                logger.error("worker %d did not stop in %.0f s: killing it", pid, _EXIT_WAIT_S)
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + _EXIT_WAIT_S
                continue
            signal.sigtimedwait({signal.SIGCHLD}, min(remaining, 0.2))

    def _stop_all(self, failed: _Worker | None = None) -> int:
        for worker in self._workers:
            self._close_ready(worker)
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
        codes = {worker.pid: self._wait_exit(worker.pid) for worker in self._workers}
        self._workers = []
        if failed is None:
            return 0
        code = codes.get(failed.pid) or 1
        logger.error("a worker exited with %d before it was ready: stopping", code)
        return code


def load_for_fork(source: ModelSource, sock: socket.socket | None = None) -> ServedModel | str:
    """Load and warm ``source`` in the parent, or say why the workers must load their own
    copies instead; with ``sock``, answer ``/healthz`` on it meanwhile.

    Threads are counted around the load and the warm-up: a Python thread started by either
    (an async custom model's loop), or a native one started by the warm-up (an OpenMP pool,
    e.g. a HistGradientBoosting in a Pipeline) would be missing in a forked worker, which then
    hangs or fails. Native pools started by importing a library (OpenBLAS, jemalloc) survive a
    fork and are not counted.
    """
    from shipyard.serve.loadinghealth import LoadingHealth

    refused = may_fork(source)
    if refused is not None:
        return refused
    python_threads = threading.active_count()
    with LoadingHealth(sock) if sock is not None else contextlib.nullcontext():
        served = source.load()
        native_threads = thread_count()
        warm_up(served)
        started_native = thread_count() - native_threads
    started = max(started_native, threading.active_count() - python_threads)
    if started > 0:
        return f"loading the model started {started} thread(s), which a fork does not copy"
    return served


def load_before_fork(source: ModelSource, sock: socket.socket) -> ServedModel | str:
    """``load_for_fork`` at start-up: SIGTERM or SIGINT meanwhile ends the process, with 0."""
    stopping = {sig: signal.signal(sig, _exit_while_loading) for sig in _STOP}
    try:
        return load_for_fork(source, sock)
    finally:
        for sig, handler in stopping.items():
            signal.signal(sig, handler)


def _exit_while_loading(signum: int, frame: object) -> None:
    logger.info("stopped while loading the model")
    raise SystemExit(0)
