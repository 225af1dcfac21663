"""The docker executor: each step in its own container, one image per distinct environment.

Images are planned and built before anything runs (``prepare``), reused when their tag exists.
A step's folder is mounted at ``/work`` (inputs hard-linked from the artifact store, outputs
written back), the project read-only at ``/opt/shipyard/code``. Containers run as a non-root
user, without network unless the step asks (``@step(network=True)``), with the step's cpu and
memory limits; a timeout kills the container. Independent steps run in parallel.

    >>> launcher = DockerLauncher.connect(base_image="python:3.11-slim", cache_dir=cache)
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests

from shipyard.contract import IMAGE_UID
from shipyard.docker_engine import DockerEngine, engine_errors
from shipyard.errors import BuildError, ConfigError
from shipyard.image.buildlog import BuildLog
from shipyard.image.context import default_service_source, link_wheels, write_service
from shipyard.image.wheelhouse import Target, resolve_wheelhouse
from shipyard.pipelines.executors.base import ExecutorName, LaunchResult, environment_digests
from shipyard.pipelines.executors.stepimage import (
    CODE_DIR,
    WORK_DIR,
    StepImagePlan,
    plan_step_image,
    render_step_dockerfile,
    shipyard_source_digest,
)
from shipyard.pipelines.graph import Node, PipelineGraph

__all__ = ["CONTAINER_PREFIX", "DockerLauncher", "build_step_image"]

CONTAINER_PREFIX = "shipyard-step-"
_WAIT_CHUNK_S = 300


def build_step_image(
    engine: DockerEngine, plan: StepImagePlan, cache_dir: Path, on_line: Callable[[str], None]
) -> str:
    """The id of ``plan``'s image: the existing one, or a new offline build."""
    try:
        return engine.inspect(plan.tag).id
    except BuildError:
        pass
    on_line(f"building step image {plan.tag} ({len(plan.requirements)} requirements)")
    target = Target.for_python(plan.python_version)
    wheelhouse = resolve_wheelhouse(list(plan.requirements), target, cache_dir)
    with tempfile.TemporaryDirectory(prefix="shipyard-step-image-") as tmp:
        context = Path(tmp)
        (context / "Dockerfile").write_text(render_step_dockerfile(plan))
        (context / "requirements.lock").write_text(wheelhouse.lock_text())
        link_wheels(wheelhouse, context / "wheelhouse")
        write_service(context / "service", default_service_source())
        log = BuildLog()
        with engine_errors(f"building step image {plan.tag}"):
            stream = engine.client.api.build(
                path=str(context), tag=plan.tag, rm=True, forcerm=True, pull=False, decode=True
            )
            for message in stream:
                line = log.feed(message)
                if line is not None and line.startswith("Step "):
                    on_line(line)
        if log.failed or log.image_id is None:
            raise BuildError(f"building step image {plan.tag}: {log.failure_report()}")
    return engine.inspect(plan.tag).id


def _owner() -> tuple[str, int | None]:
    """Run as the host user (non-root); as root, run as the image's user and hand it the folder."""
    uid = os.getuid()
    if uid != 0:
        return f"{uid}:{os.getgid()}", None
    return f"{IMAGE_UID}:{IMAGE_UID}", IMAGE_UID


def _kill_quietly(container: Any) -> None:
    try:
        container.kill()
    except Exception:  # noqa: S110 - it exited already; launch removes it
        pass


class DockerLauncher:
    """Runs each step folder in a container of its environment's image."""

    name: ExecutorName = "docker"

    def __init__(self, engine: DockerEngine, base_image: str, cache_dir: Path) -> None:
        self.engine = engine
        self.base_image = base_image
        self.cache_dir = cache_dir
        self.images: dict[str, str] = {}
        self.source_digest = shipyard_source_digest()
        self._running: dict[str, Any] = {}  # container name -> container
        self._lock = threading.Lock()
        self._cancelled = False

    @classmethod
    def connect(cls, *, base_image: str | None, cache_dir: Path) -> DockerLauncher:
        """Connect to the engine and check the base image is there (nothing is pulled)."""
        engine = DockerEngine.connect()
        base = base_image or plan_step_image((), source_digest="-").base_image
        try:
            engine.inspect(base)
        except BuildError:
            engine.close()
            raise ConfigError(
                f"base image {base} is not in the Docker engine: `docker pull {base}` or pass "
                "--base-image with a local image that has Python 3"
            ) from None
        return cls(engine, base, cache_dir)

    def prepare(
        self,
        graph: PipelineGraph,
        requirements: tuple[str, ...],
        on_line: Callable[[str], None],
    ) -> Mapping[str, str]:
        def image_of(needed: tuple[str, ...]) -> str:
            plan = plan_step_image(
                needed, base_image=self.base_image, source_digest=self.source_digest
            )
            return build_step_image(self.engine, plan, self.cache_dir, on_line)

        nodes = [n for n in graph.nodes.values() if n.step.runs_on != "driver"]
        digests = environment_digests(nodes, requirements, image_of)
        self.images.update(digests)
        return digests

    def task_source(self, file: Path, project: Path) -> str:
        return f"{CODE_DIR}/{file.relative_to(project).as_posix()}"

    def launch(
        self,
        node: Node,
        step_dir: Path,
        project: Path,
        log_path: Path,
        env: Mapping[str, str],
    ) -> LaunchResult:
        user, chown_to = _owner()
        if chown_to is not None:
            for folder in (step_dir, step_dir / "out", step_dir / "work"):
                os.chown(folder, chown_to, chown_to)
        resources = node.step.resources
        options: dict[str, Any] = {
            "command": [WORK_DIR],
            "user": user,
            "environment": {**env, **node.step.env},
            "volumes": {
                str(step_dir): {"bind": WORK_DIR, "mode": "rw"},
                str(project): {"bind": CODE_DIR, "mode": "ro"},
            },
            "network_disabled": not node.step.network,
            "labels": {"io.shipyard.pipeline-step": node.id},
            "name": f"{CONTAINER_PREFIX}{node.id.replace('_', '-')}-{secrets.token_hex(4)}",
            "detach": True,
            "security_opt": ["no-new-privileges"],
            "cap_drop": ["ALL"],
        }
        if resources.cpu is not None:
            options["nano_cpus"] = int(resources.cpu * 1e9)
        if resources.memory_bytes is not None:
            options["mem_limit"] = resources.memory_bytes
        started = time.monotonic()
        if self._cancelled:
            return LaunchResult(None, False, 0.0, interrupted=True)
        with engine_errors(f"running step {node.id}"):  # parallel steps start side by side
            container = self.engine.client.containers.run(self.images[node.id], **options)
        with self._lock:
            self._running[options["name"]] = container
            cancelled_meanwhile = self._cancelled
        try:
            if cancelled_meanwhile:  # cancel() ran while this one started: it did not see it
                _kill_quietly(container)
            code, timed_out = self._wait(container, resources.timeout_s, started)
            with log_path.open("ab") as log:
                log.write(container.logs(stdout=True, stderr=True))
                if timed_out:
                    limit = resources.timeout_s
                    log.write(f"\n[shipyard] container killed after {limit} s\n".encode())
        finally:
            with self._lock:
                self._running.pop(options["name"], None)
            try:
                container.remove(force=True)
            except Exception:  # noqa: S110 - already gone; nothing else to clean
                pass
        return LaunchResult(code, timed_out, time.monotonic() - started, self._cancelled)

    def _wait(
        self, container: Any, timeout: float | None, started: float
    ) -> tuple[int | None, bool]:
        while True:
            remaining = None if timeout is None else timeout - (time.monotonic() - started)
            if remaining is not None and remaining <= 0:
                container.kill()
                return None, True
            chunk = _WAIT_CHUNK_S if remaining is None else min(remaining, _WAIT_CHUNK_S)
            try:
                status = container.wait(timeout=max(chunk, 0.1))
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
                continue
            return int(status.get("StatusCode", 1)), False

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            running = list(self._running.values())
        for container in running:
            _kill_quietly(container)

    def close(self) -> None:
        self.engine.close()
