"""The nginx container in front of a one-host deployment: start it, point it at replicas.

The configuration is copied into the container (no host folder to mount, so a remote engine
works too), checked with ``nginx -t`` and swapped in with ``nginx -s reload``: old workers
finish their requests, new ones use the new upstream list.

    >>> lb = start_balancer(engine, spec, network, ["cancer-1-ab12:8080"])
    >>> point_balancer(engine, lb, ["cancer-2-cd34:8080"])
"""

from __future__ import annotations

import io
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

from shipyard.contract import CONTAINER_PORT
from shipyard.deploy.images import has_image
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.docker.container import RunningContainer, log_tail
from shipyard.deploy.targets.docker.nginx import LB_CONFIG_PATH, LB_HEALTH_PATH, render_nginx_conf
from shipyard.docker_engine import DockerEngine, engine_errors
from shipyard.errors import DeployError, NotFoundError

__all__ = ["point_balancer", "reload_balancer", "start_balancer", "wait_balancer"]

_CONFIG_DIR, _, _CONFIG_NAME = LB_CONFIG_PATH.rpartition("/")
_RELOAD_SETTLE_S = 0.5  # nginx reloads asynchronously: give the new workers a moment


def start_balancer(
    engine: DockerEngine,
    spec: DeploymentSpec,
    network: str,
    servers: Sequence[str],
    labels: Mapping[str, str],
) -> RunningContainer:
    """Create the nginx container, copy its configuration in, start it, wait until it answers."""
    name = f"{spec.name}-lb"
    with engine_errors(f"starting the load balancer {name}"):
        if not has_image(engine, spec.lb_image):
            raise NotFoundError(
                f"no load balancer image {spec.lb_image!r} in the engine: `docker pull "
                f"{spec.lb_image}`, or pass --lb-image (SHIPYARD_DEPLOY_LB_IMAGE) naming a local "
                "image with nginx"
            )
        container = engine.client.containers.create(
            spec.lb_image,
            command=["nginx", "-g", "daemon off;"],
            name=name,
            labels=dict(labels),
            network=network,
            ports={f"{CONTAINER_PORT}/tcp": (spec.host, spec.port or None)},
            stop_signal="SIGQUIT",
            restart_policy={"Name": "unless-stopped"},
        )
        container.put_archive(
            _CONFIG_DIR, _tar(_CONFIG_NAME, render_nginx_conf(servers, client_keepalive=False))
        )
        container.start()
        container.reload()
    port = int(container.attrs["NetworkSettings"]["Ports"][f"{CONTAINER_PORT}/tcp"][0]["HostPort"])
    running = RunningContainer(container.id, name, spec.lb_image, spec.host, port)
    wait_balancer(engine, running)
    return running


def wait_balancer(engine: DockerEngine, lb: RunningContainer, timeout: float = 30.0) -> None:
    """Wait until nginx answers its own health path."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{lb.url}{LB_HEALTH_PATH}", timeout=1):  # noqa: S310
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    with engine_errors(f"reading {lb.name}'s log"):
        tail = log_tail(engine.client.containers.get(lb.id))
    raise DeployError(f"the load balancer {lb.name} did not answer in {timeout:.0f}s:\n{tail}")


def point_balancer(
    engine: DockerEngine,
    lb_id: str,
    servers: Sequence[str],
    weights: Mapping[str, int] | None = None,
) -> None:
    """Balance over ``servers`` from now on: write, check and reload the configuration."""
    text = render_nginx_conf(servers, weights=weights, client_keepalive=False)
    reload_balancer(engine, lb_id, text)


def reload_balancer(
    engine: DockerEngine, lb_id: str, text: str, *, config_path: str = LB_CONFIG_PATH
) -> None:
    """Copy ``text`` into the nginx container ``lb_id`` at ``config_path``, check it with
    ``nginx -t`` and ``nginx -s reload``: old workers finish their requests, new ones use it."""
    folder, _, file_name = config_path.rpartition("/")
    with engine_errors("reconfiguring the load balancer"):
        container = engine.client.containers.get(lb_id)
        container.put_archive(folder, _tar(f"{file_name}.new", text))
        checked = container.exec_run(["nginx", "-t", "-q", "-c", f"{config_path}.new"])
        if checked.exit_code != 0:
            raise DeployError(f"nginx refused the new configuration: {checked.output.decode()}")
        container.put_archive(folder, _tar(file_name, text))
        reloaded = container.exec_run(["nginx", "-s", "reload", "-c", config_path])
        if reloaded.exit_code != 0:
            raise DeployError(f"nginx did not reload: {reloaded.output.decode()}")
    time.sleep(_RELOAD_SETTLE_S)


def _tar(name: str, text: str) -> bytes:
    data = text.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
