"""The local executor: each step in its own Python process (``subprocess``), on this host.

The environment is this interpreter: a step's requirements are checked against what is installed
before anything runs, and its environment digest is the Python version plus the installed
version of each requirement. A timeout kills the step's whole process group. cpu and memory are
not enforced locally (the docker and kubernetes executors enforce them).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

import shipyard
from shipyard.errors import ConfigError
from shipyard.pipelines.executors.base import ExecutorName, LaunchResult, environment_digests
from shipyard.pipelines.graph import Node, PipelineGraph

__all__ = ["LocalLauncher", "local_environment_digest"]

_WORKER = ["-m", "shipyard.pipelines.worker"]


def _installed(requirement: str) -> str:
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement as exc:
        raise ConfigError(f"requirement {requirement!r} is not valid: {exc}") from None
    try:
        version = metadata.version(parsed.name)
    except metadata.PackageNotFoundError:
        raise ConfigError(
            f"the pipeline needs {requirement} but {parsed.name} is not installed here: "
            f"pip install '{requirement}', or run with --executor docker"
        ) from None
    if parsed.specifier and not parsed.specifier.contains(version, prereleases=True):
        raise ConfigError(
            f"the pipeline needs {requirement} but {parsed.name} {version} is installed here: "
            f"pip install '{requirement}', or run with --executor docker"
        )
    return f"{parsed.name.lower()}=={version}"


def local_environment_digest(requirements: tuple[str, ...]) -> str:
    """sha256 of this Python's version and the installed version of every requirement."""
    pins = sorted(_installed(line) for line in requirements)
    text = "\n".join([f"python {sys.version.split()[0]}", *pins])
    return "local:" + hashlib.sha256(text.encode()).hexdigest()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


class LocalLauncher:
    """Runs ``python -m shipyard.pipelines.worker STEP_DIR`` with this interpreter."""

    name: ExecutorName = "local"

    def __init__(self) -> None:
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._cancelled = False

    def prepare(
        self,
        graph: PipelineGraph,
        requirements: tuple[str, ...],
        on_line: Callable[[str], None],
    ) -> Mapping[str, str]:
        return environment_digests(graph.nodes.values(), requirements, local_environment_digest)

    def task_source(self, file: Path, project: Path) -> str:
        return str(file)

    def launch(
        self,
        node: Node,
        step_dir: Path,
        project: Path,
        log_path: Path,
        env: Mapping[str, str],
    ) -> LaunchResult:
        source_root = str(Path(shipyard.__file__).resolve().parent.parent)
        path = os.pathsep.join(
            p for p in (str(project), source_root, os.environ.get("PYTHONPATH", "")) if p
        )
        child_env = {**os.environ, **env, **node.step.env, "PYTHONPATH": path}
        timeout = node.step.resources.timeout_s
        started = time.monotonic()
        with log_path.open("ab") as log, self._lock:
            if self._cancelled:
                return LaunchResult(None, False, 0.0, interrupted=True)
            process = subprocess.Popen(  # noqa: S603 - argv list, our own interpreter
                [sys.executable, *_WORKER, str(step_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_env,
                cwd=step_dir,
                start_new_session=True,
            )
            self._running.add(process)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            with log_path.open("ab") as log:
                log.write(f"\n[shipyard] step killed after its timeout of {timeout} s\n".encode())
            return LaunchResult(None, True, time.monotonic() - started)
        except BaseException:
            _kill_group(process)
            raise
        finally:
            with self._lock:
                self._running.discard(process)
        duration = time.monotonic() - started
        if self._cancelled:
            return LaunchResult(code, False, duration, interrupted=True)
        return LaunchResult(code, False, duration)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            running = list(self._running)
        for process in running:
            _kill_group(process)

    def close(self) -> None:
        return None
