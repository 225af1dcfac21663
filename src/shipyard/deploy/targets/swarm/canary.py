"""A canary on Swarm: one more service in the stack, and the balancer's split between the two.

The canary is a service ``canary`` (one replica) added with a stack file that names only it, so
``docker stack deploy`` leaves stable and the balancer alone (``render_canary``, pure). nginx then
splits the requests by weight between the DNS names ``model`` and ``canary``; a Swarm config is a
read-only file, so the balancer task runs nginx from a copy and the split is swapped in through
the engine with ``nginx -s reload`` (``split_requests``): no task restart, no dropped connection.
The host cannot reach the stack's overlay network, but the balancer can: it also gets one exact
route per replica to that replica's ``/metrics`` (``REPLICA_PATH``), for the canary analysis.

    >>> files = render_canary(spec, revision=4, weight=10)
    >>> split_requests(engine, "cancer", weight=10, replicas=["10.0.3.5:8080"])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipyard.contract import CONTAINER_PORT
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.base import REVISION_LABEL, ROLE_LABEL, WEIGHT_LABEL
from shipyard.deploy.targets.docker.balancer import reload_balancer
from shipyard.deploy.targets.docker.compose import (
    CANARY_SERVICE,
    LB_SERVICE,
    MODEL_SERVICE,
    SERVING_NETWORK,
    render_compose,
    to_yaml,
    validate_compose,
)
from shipyard.deploy.targets.docker.nginx import LB_LIVE_CONFIG_PATH, render_nginx_conf
from shipyard.docker_engine import DockerEngine, engine_errors
from shipyard.errors import DeployError

__all__ = ["STABLE_SERVER", "SWARM_DNS", "render_canary", "split_requests", "task_addresses"]

SWARM_DNS = "127.0.0.11"
STABLE_SERVER = f"{MODEL_SERVICE}:{CONTAINER_PORT}"
_CANARY_SERVER = f"{CANARY_SERVICE}:{CONTAINER_PORT}"


def render_canary(spec: DeploymentSpec, revision: int, weight: int) -> dict[str, str]:
    """A ``stack.yaml`` with only the canary service (and the network and secret it uses), so
    ``docker stack deploy`` adds it beside stable without touching stable or the balancer."""
    doc = render_compose(spec, mode="swarm")
    canary = doc["services"][MODEL_SERVICE]
    canary["deploy"]["replicas"] = 1
    canary["deploy"]["labels"].update(
        {REVISION_LABEL: str(revision), ROLE_LABEL: "canary", WEIGHT_LABEL: str(weight)}
    )
    stack: dict[str, Any] = {"services": {CANARY_SERVICE: canary}, "networks": doc["networks"]}
    if "secrets" in doc:
        stack["secrets"] = doc["secrets"]
    validate_compose(stack)
    return {"stack.yaml": to_yaml(stack)}


def split_requests(
    engine: DockerEngine, stack: str, *, weight: int | None, replicas: Sequence[str]
) -> None:
    """Send ``weight`` percent of the requests to the canary (``None``: all to stable) and route
    the ``/metrics`` of each ``ip:port`` in ``replicas``, in the balancer of ``stack``."""
    servers = [STABLE_SERVER]
    weights: dict[str, int] = {}
    if weight is not None:
        servers.append(_CANARY_SERVER)
        weights = {STABLE_SERVER: 100 - weight, _CANARY_SERVER: weight}
    text = render_nginx_conf(
        servers,
        weights=weights,
        resolver=SWARM_DNS,
        client_keepalive=False,
        replica_metrics=replicas,
    )
    reload_balancer(engine, _balancer(engine, stack), text, config_path=LB_LIVE_CONFIG_PATH)


def task_addresses(engine: DockerEngine, stack: str, service: str) -> list[str]:
    """``ip:port`` of each running task of ``service`` on the stack's network."""
    network = f"{stack}_{SERVING_NETWORK}"
    found = []
    with engine_errors(f"listing {stack}_{service}'s tasks"):
        tasks = engine.client.api.tasks(
            filters={"service": f"{stack}_{service}", "desired-state": "running"}
        )
    for task in tasks:
        if (task.get("Status") or {}).get("State") != "running":
            continue
        for attachment in task.get("NetworksAttachments") or []:
            if attachment["Network"]["Spec"]["Name"] == network:
                found += [
                    f"{address.partition('/')[0]}:{CONTAINER_PORT}"
                    for address in attachment["Addresses"]
                ]
    return sorted(found)


def _balancer(engine: DockerEngine, stack: str) -> str:
    """The nginx container of ``stack``'s balancer task, on this engine."""
    filters = {"label": f"com.docker.swarm.service.name={stack}_{LB_SERVICE}", "status": "running"}
    with engine_errors(f"looking for {stack}'s balancer"):
        found = engine.client.api.containers(filters=filters)
    if not found:
        raise DeployError(
            f"the balancer of {stack} does not run on this engine: a canary's split is set "
            "through the engine that runs the balancer's task (its node, on a larger swarm)"
        )
    return str(found[0]["Id"])
