"""Run a model image: publish its port on 127.0.0.1, wait until it is healthy, stop it cleanly.

>>> running = start_container(engine, "shipyard/iris:3", port=8080)
>>> running.url
'http://127.0.0.1:8080'
>>> stop_container(engine, running)   # SIGTERM: the server drains in-flight requests
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import docker.errors

from shipyard.contract import CONTAINER_PORT, READY_PATH
from shipyard.docker_engine import DockerEngine
from shipyard.errors import BuildError, NotFoundError

__all__ = ["RunningContainer", "start_container", "stop_container", "wait_until_healthy"]


@dataclass(frozen=True, slots=True)
class RunningContainer:
    """A started container and where to reach it from this host."""

    id: str
    name: str
    image: str
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "image": self.image, "url": self.url}


def start_container(
    engine: DockerEngine,
    image: str,
    *,
    port: int = 8080,
    host: str = "127.0.0.1",
    environment: Mapping[str, str] | None = None,
    volumes: Mapping[str, str] | None = None,
    name: str | None = None,
) -> RunningContainer:
    """Start ``image`` detached with its port published on ``host:port`` (0: any free port);
    ``volumes`` maps host folders to container folders (e.g. for ``/var/log/shipyard``)."""
    container_port = _exposed_port(engine, image)
    try:
        container = engine.client.containers.run(
            image,
            detach=True,
            name=name,
            environment=dict(environment or {}),
            volumes={src: {"bind": dst, "mode": "rw"} for src, dst in (volumes or {}).items()},
            ports={f"{container_port}/tcp": (host, port or None)},
        )
        container.reload()
    except docker.errors.DockerException as exc:
        raise BuildError(f"could not start {image}: {exc}") from exc
    bindings = container.attrs["NetworkSettings"]["Ports"][f"{container_port}/tcp"]
    return RunningContainer(
        id=container.id,
        name=container.name,
        image=image,
        host=host,
        port=int(bindings[0]["HostPort"]),
    )


def wait_until_healthy(
    engine: DockerEngine, running: RunningContainer, timeout: float = 180.0
) -> float:
    """Wait until Docker reports the container healthy (or, without a HEALTHCHECK, until
    ``/readyz`` answers 200); return the seconds it took. A container that exits or turns
    unhealthy raises ``BuildError`` with the end of its log."""
    started = time.monotonic()
    container = engine.client.containers.get(running.id)
    while time.monotonic() - started < timeout:
        container.reload()
        state = container.attrs["State"]
        health = (state.get("Health") or {}).get("Status")
        if state.get("Status") in ("exited", "dead"):
            raise BuildError(
                f"{running.image} exited with code {state.get('ExitCode')}:\n{_log_tail(container)}"
            )
        if health == "healthy" or (health is None and _is_ready(running.url)):
            return time.monotonic() - started
        if health == "unhealthy":
            raise BuildError(f"{running.image} is unhealthy:\n{_log_tail(container)}")
        time.sleep(0.1)
    raise BuildError(
        f"{running.image} was not healthy after {timeout:.0f}s:\n{_log_tail(container)}"
    )


def stop_container(
    engine: DockerEngine, running: RunningContainer, *, remove: bool = True, grace_seconds: int = 30
) -> int:
    """Send SIGTERM (the server drains), wait up to ``grace_seconds``; return the exit code."""
    try:
        container = engine.client.containers.get(running.id)
    except docker.errors.NotFound:
        return 0
    container.stop(timeout=grace_seconds)
    code = int(container.wait(timeout=grace_seconds + 10).get("StatusCode", -1))
    if remove:
        container.remove(force=True)
    return code


def _exposed_port(engine: DockerEngine, image: str) -> int:
    try:
        exposed = engine.client.api.inspect_image(image)["Config"].get("ExposedPorts") or {}
    except docker.errors.ImageNotFound:
        raise NotFoundError(f"no image {image!r}: build it first with `shipyard build`") from None
    ports = sorted(int(key.partition("/")[0]) for key in exposed)
    return ports[0] if ports else CONTAINER_PORT


def _is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}{READY_PATH}", timeout=1) as response:  # noqa: S310
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _log_tail(container: Any, lines: int = 40) -> str:
    try:
        return str(container.logs(tail=lines).decode(errors="replace"))
    except docker.errors.DockerException:
        return "(no log)"
