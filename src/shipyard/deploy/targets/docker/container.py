"""Run one model container: publish its port on 127.0.0.1, wait until it is ready, stop it.

``wait_until_ready`` fails fast: it watches the container's state and asks the server itself
(``/healthz`` reports a model that failed to load, ``/readyz`` one that is ready), so a broken
model is reported within seconds with the end of its log, not after Docker's start period.

>>> running = start_container(engine, "shipyard/iris:3", port=8080, name="iris")
>>> running.url
'http://127.0.0.1:8080'
>>> stop_container(engine, running)   # SIGTERM: the server drains in-flight requests
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import docker.errors

from shipyard.contract import CONTAINER_PORT, DRAIN_SECONDS, HEALTH_PATH, READY_PATH
from shipyard.docker_engine import DockerEngine, engine_errors
from shipyard.errors import BuildError, ConflictError, ModelLoadError, NotFoundError

__all__ = [
    "RUN_LABEL",
    "RunningContainer",
    "find_container",
    "is_ready",
    "log_tail",
    "start_container",
    "stop_container",
    "wait_until_ready",
]

RUN_LABEL = "io.shipyard.run"
"""Marks containers started by ``shipyard run`` (its value is the model image)."""


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
    read_only: Mapping[str, str] | None = None,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
    network: str | None = None,
    nano_cpus: int | None = None,
    mem_limit: int | None = None,
) -> RunningContainer:
    """Start ``image`` detached with its port published on ``host:port`` (0: any free port);
    ``volumes`` maps host folders to container folders (e.g. for ``/var/log/shipyard``).

    A taken ``name`` is a ``ConflictError``; a missing image a ``NotFoundError``."""
    container_port = _exposed_port(engine, image)
    if name is not None and _exists(engine, name):
        raise ConflictError(
            f"a container named {name!r} exists already: stop it with `shipyard stop {name}` "
            "or pick another --name"
        )
    with engine_errors(f"starting {image}"):
        container = engine.client.containers.run(
            image,
            detach=True,
            name=name,
            environment=dict(environment or {}),
            volumes={
                **{src: {"bind": dst, "mode": "rw"} for src, dst in (volumes or {}).items()},
                **{src: {"bind": dst, "mode": "ro"} for src, dst in (read_only or {}).items()},
            },
            ports={f"{container_port}/tcp": (host, port or None)},
            labels=dict(labels or {}),
            network=network,
            nano_cpus=nano_cpus,
            mem_limit=mem_limit,
            stop_signal="SIGTERM",
        )
        container.reload()
    bindings = container.attrs["NetworkSettings"]["Ports"][f"{container_port}/tcp"]
    return RunningContainer(
        id=container.id,
        name=container.name,
        image=image,
        host=host,
        port=int(bindings[0]["HostPort"]),
    )


def wait_until_ready(
    engine: DockerEngine, running: RunningContainer, timeout: float = 180.0
) -> float:
    """Wait until ``/readyz`` answers 200; return the seconds it took.

    A container that exits raises ``BuildError``, one whose server reports a failed model load
    on ``/healthz`` ``ModelLoadError``, at once, with the server's error and the end of its log."""
    started = time.monotonic()
    with engine_errors(f"watching {running.name}"):
        container = engine.client.containers.get(running.id)
    while time.monotonic() - started < timeout:
        with engine_errors(f"watching {running.name}"):
            container.reload()
        state = container.attrs["State"]
        if state.get("Status") in ("exited", "dead"):
            raise BuildError(
                f"{running.image} exited with code {state.get('ExitCode')}:\n{log_tail(container)}"
            )
        failure = _load_failure(running.url)
        if failure is not None:
            raise ModelLoadError(
                f"{running.image} could not load its model: {failure}\n{log_tail(container)}"
            )
        if is_ready(running.url):
            return time.monotonic() - started
        time.sleep(0.1)
    raise BuildError(f"{running.image} was not ready after {timeout:.0f}s:\n{log_tail(container)}")


def stop_container(
    engine: DockerEngine,
    running: RunningContainer | str,
    *,
    remove: bool = True,
    grace_seconds: int = DRAIN_SECONDS + 5,
) -> int:
    """Send SIGTERM (the server drains), wait up to ``grace_seconds``; return the exit code."""
    ident = running if isinstance(running, str) else running.id
    with engine_errors(f"stopping {ident}"):
        try:
            container = engine.client.containers.get(ident)
        except docker.errors.NotFound:
            return 0
        container.stop(timeout=grace_seconds)
        code = int(container.wait(timeout=grace_seconds + 10).get("StatusCode", -1))
        if remove:
            try:
                container.remove(force=True)
            except docker.errors.NotFound:  # removed meanwhile (--rm)
                pass
    return code


def find_container(engine: DockerEngine, name: str, *, label: str = RUN_LABEL) -> str:
    """The id of the container ``name`` (or id) that carries ``label``; ``NotFoundError`` lists
    the ones that exist."""
    with engine_errors(f"looking for {name}"):
        try:
            container = engine.client.containers.get(name)
        except docker.errors.NotFound:
            container = None
        if container is not None and label in (container.labels or {}):
            return str(container.id)
        known = sorted(c.name for c in engine.client.containers.list(filters={"label": label}))
    shown = ", ".join(known) or "none"
    raise NotFoundError(f"no container {name!r} started by `shipyard run` (running: {shown})")


def log_tail(container: Any, lines: int = 40) -> str:
    """The last ``lines`` of a container's log, for error messages."""
    try:
        return str(container.logs(tail=lines).decode(errors="replace"))
    except docker.errors.DockerException:
        return "(no log)"


def _exists(engine: DockerEngine, name: str) -> bool:
    with engine_errors(f"looking for {name}"):
        try:
            engine.client.api.inspect_container(name)
        except docker.errors.NotFound:
            return False
    return True


def _exposed_port(engine: DockerEngine, image: str) -> int:
    with engine_errors(f"inspecting {image}"):
        try:
            exposed = engine.client.api.inspect_image(image)["Config"].get("ExposedPorts") or {}
        except docker.errors.ImageNotFound:
            raise NotFoundError(
                f"no image {image!r}: build it first with `shipyard build`"
            ) from None
    ports = sorted(int(key.partition("/")[0]) for key in exposed)
    return ports[0] if ports else CONTAINER_PORT


def is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}{READY_PATH}", timeout=1) as response:  # noqa: S310
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _load_failure(url: str) -> str | None:
    """The server's own load error when ``/healthz`` reports one, else ``None``."""
    try:
        with urllib.request.urlopen(f"{url}{HEALTH_PATH}", timeout=1):  # noqa: S310
            return None
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            return None
        if isinstance(body, dict) and body.get("status") == "failed":
            return str(body.get("error"))
        return None
    except (urllib.error.URLError, OSError):
        return None
