"""The Swarm target: a stack (compose-spec with ``deploy:``) applied with ``docker stack deploy``.

N replicas with healthchecks, a restart policy, resource limits and ``update_config``
(start-first, ``failure_action: rollback``, a monitor window from the measured load time); the
replicas on DNS round-robin and nginx in front of them, published in host mode (the ingress
routing mesh needs IPVS, which not every host has). Swarm rolls back a failed update by itself;
``apply`` watches the service's ``UpdateStatus`` and reports the outcome (``wait=False``:
``--no-wait`` returns after ``docker stack deploy``; Swarm's own ``failure_action: rollback``
still acts, but Shipyard does not watch or report it). A canary is one more service in the stack
with the balancer splitting by weight (``swarm/canary.py``).

The stack file applied is exactly the one ``--dry-run -o DIR`` writes (plus the revision label),
applied with the ``docker`` CLI (``docker stack deploy`` has no Engine API; argv, no shell).

    >>> target = SwarmTarget.connect()              # must be a Swarm manager
    >>> target.apply(spec, 1, previous=None, progress=print).url
    'http://127.0.0.1:8080'
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import docker.errors

from shipyard.contract import DRAIN_SECONDS
from shipyard.deploy.images import has_image
from shipyard.deploy.probes import start_budget_seconds
from shipyard.deploy.spec import DeploymentSpec, TargetName
from shipyard.deploy.targets.base import (
    REVISION_LABEL,
    WEIGHT_LABEL,
    DeploymentStatus,
    Progress,
    ReplicaStatus,
)
from shipyard.deploy.targets.docker.compose import (
    CANARY_SERVICE,
    LB_SERVICE,
    MODEL_SERVICE,
    render_files,
)
from shipyard.deploy.targets.docker.nginx import (
    LB_HEALTH_PATH,
    REPLICA_PATH,
    render_nginx_conf,
)
from shipyard.deploy.targets.engine import EngineTarget
from shipyard.deploy.targets.swarm.canary import (
    STABLE_SERVER,
    SWARM_DNS,
    render_canary,
    split_requests,
    task_addresses,
)
from shipyard.docker_engine import DockerEngine, engine_errors
from shipyard.errors import (
    ClusterUnavailableError,
    ConfigError,
    ConflictError,
    DeployError,
    NotFoundError,
    RolloutError,
)

__all__ = ["SwarmTarget"]

_STACK_LABEL = "com.docker.stack.namespace"


class SwarmTarget(EngineTarget):
    """Deployments as stacks on a Swarm whose manager this engine is."""

    name: ClassVar[TargetName] = "swarm"
    scales_in_place: ClassVar[bool] = False  # a new replica count is a stack deploy (a rollout)
    reads_replica_metrics: ClassVar[bool] = True

    @classmethod
    def check_engine(cls, engine: DockerEngine) -> None:
        with engine_errors("asking the engine about its swarm"):
            swarm = engine.client.info().get("Swarm") or {}
        if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
            raise ClusterUnavailableError(
                "this Docker engine is not a Swarm manager: run `docker swarm init "
                "--advertise-addr 127.0.0.1` (one node) or point DOCKER_HOST at a manager"
            )

    # -- pure ------------------------------------------------------------------------------

    @classmethod
    def render(cls, spec: DeploymentSpec) -> dict[str, str]:
        """``stack.yaml`` (valid compose-spec) and the ``nginx.conf`` it uses."""
        return _files(spec, revision=None)

    # -- apply -----------------------------------------------------------------------------

    def check(self, spec: DeploymentSpec) -> None:
        if spec.port == 0:
            raise ConfigError("--port 0 does not work on swarm (host-mode publishing): give a port")
        for image in (spec.image, spec.lb_image):
            if not has_image(self.engine, image):
                raise NotFoundError(
                    f"no image {image!r} on this node: build or pull it first (every node of "
                    "a larger swarm needs it, e.g. through a registry)"
                )
        if shutil.which("docker") is None:
            raise DeployError("the `docker` CLI is needed for `docker stack deploy`: install it")

    def apply(
        self,
        spec: DeploymentSpec,
        revision: int,
        *,
        previous: tuple[DeploymentSpec, int] | None,
        progress: Progress,
        wait: bool = True,
    ) -> DeploymentStatus:
        self.check(spec)
        started = datetime.now(UTC)
        progress(f"docker stack deploy {spec.name} (revision {revision})")
        self._stack_deploy(spec.name, _files(spec, revision=revision))
        if not wait:
            progress("not waiting for readiness (--no-wait): Shipyard reports no rollback")
            return self.status(spec.name)
        service = f"{spec.name}_{MODEL_SERVICE}"
        template_changed = previous is not None and _template(previous[0]) != _template(spec)
        per_task = start_budget_seconds(spec.load_seconds) + 30
        budget = 120 + per_task * max(spec.replicas, 1)
        if template_changed:
            progress("rolling update (start-first, one replica at a time)")
            state, message = self._wait_update(service, started, budget)
            if state != "completed":
                raise RolloutError(
                    f"revision {revision} failed on swarm ({state}: {message}); swarm rolled "
                    f"back to revision {previous[1] if previous else '?'}"
                )
        progress("waiting for every replica to be healthy")
        self._wait_healthy(service, spec.replicas, budget)
        self._wait_balancer(spec, timeout=60)
        return self.status(spec.name)

    def status(self, name: str) -> DeploymentStatus:
        replicas = []
        url = None
        for service in self._services(name):
            attrs = service.attrs
            if service.name.endswith(f"_{LB_SERVICE}"):
                ports = (
                    (attrs.get("Endpoint") or {}).get("Ports")
                    or attrs["Spec"].get("EndpointSpec", {}).get("Ports")
                    or []
                )
                if ports:
                    url = f"http://127.0.0.1:{ports[0]['PublishedPort']}"
                continue
            revision = int((attrs["Spec"].get("Labels") or {}).get(REVISION_LABEL, "0"))
            role = "canary" if service.name == f"{name}_{CANARY_SERVICE}" else "stable"
            for task in service.tasks(filters={"desired-state": "running"}):
                replicas.append(self._replica(task, revision, role))
        return DeploymentStatus(name=name, target=self.name, url=url, replicas=tuple(replicas))

    def exists(self, name: str) -> bool:
        return bool(self._services(name))

    def remove(self, name: str) -> list[str]:
        removed = [service.name for service in self._services(name)]
        if not removed:
            return []
        filters = {"label": f"{_STACK_LABEL}={name}"}
        with engine_errors(f"listing the stack {name}"):
            removed += [c["Spec"]["Name"] for c in self.engine.client.api.configs(filters=filters)]
            removed += [n["Name"] for n in self.engine.client.api.networks(filters=filters)]
        result = _docker_cli(["stack", "rm", name])
        if result.returncode != 0:
            raise DeployError(f"docker stack rm {name} failed: {result.stderr.strip()}")
        deadline = time.monotonic() + 90
        with engine_errors(f"removing the stack {name}"):
            while time.monotonic() < deadline:
                left = [  # the low-level calls: no per-item inspect racing the removal
                    *self.engine.client.api.services(filters=filters),
                    *self.engine.client.api.networks(filters=filters),
                    *self.engine.client.api.containers(all=True, filters=filters),
                ]
                if not left:
                    break
                time.sleep(0.5)
        return removed

    # -- canary ----------------------------------------------------------------------------

    def start_canary(
        self, spec: DeploymentSpec, revision: int, weight: int, progress: Progress
    ) -> DeploymentStatus:
        """A ``canary`` service of ``spec`` (one replica) in the stack, taking ``weight`` percent
        of the requests once it is healthy; one that never gets healthy is removed again."""
        if not self._services(spec.name):
            raise NotFoundError(f"deployment {spec.name!r} is not running on swarm")
        if self._canary(spec.name) is not None:
            raise ConflictError(
                f"{spec.name!r} has a canary already: `deployments promote` or `abort` it first"
            )
        progress(f"docker stack deploy {spec.name}: a canary of revision {revision}")
        self._stack_deploy(spec.name, render_canary(spec, revision, weight))
        try:
            self._wait_canary(f"{spec.name}_{CANARY_SERVICE}", revision, spec)
            progress(f"giving the canary {weight}% of the requests")
            self._point(spec.name)
        except BaseException:
            progress("undoing: removing the canary")
            self._remove_canary(spec.name)
            raise
        return self.status(spec.name)

    def retire_canary(self, spec: DeploymentSpec, progress: Progress) -> None:
        """Take the canary out of the balancer, then remove its service (its task drains)."""
        name = spec.name
        if self._canary(name) is None:
            return
        progress("taking the canary out of the balancer")
        self._point(name, with_canary=False)
        progress(f"removing {name}_{CANARY_SERVICE}")
        self._remove_canary(name)

    def replica_urls(self, name: str) -> dict[str, list[str]]:
        """``{"stable": [...], "canary": [...]}``: each replica's ``/metrics`` through the
        balancer (the host cannot reach the stack's network; the balancer can)."""
        addresses = self._point(name)
        lb = self.status(name).url
        if lb is None:
            raise DeployError(f"the balancer of {name} publishes no port")
        return {
            role: [f"{lb}{REPLICA_PATH}{address}" for address in found]
            for role, found in addresses.items()
        }

    def _point(self, name: str, *, with_canary: bool = True) -> dict[str, list[str]]:
        """Split the requests between stable and the canary at its weight (or send them all to
        stable) and route each running replica's ``/metrics``; returns their addresses."""
        canary = self._canary(name) if with_canary else None
        addresses = {"stable": task_addresses(self.engine, name, MODEL_SERVICE), "canary": []}
        weight = None
        if canary is not None:
            weight = int((canary.attrs["Spec"].get("Labels") or {}).get(WEIGHT_LABEL, "0"))
            addresses["canary"] = task_addresses(self.engine, name, CANARY_SERVICE)
        replicas = [*addresses["stable"], *addresses["canary"]]
        split_requests(self.engine, name, weight=weight, replicas=replicas)
        return addresses

    def _canary(self, name: str) -> Any | None:
        for service in self._services(name):
            if service.name == f"{name}_{CANARY_SERVICE}":
                return service
        return None

    def _wait_canary(self, service: str, revision: int, spec: DeploymentSpec) -> None:
        """Wait until the canary's task is healthy; a task that ends (its model cannot load:
        the healthcheck stops the server) is a ``RolloutError`` at once."""
        timeout = start_budget_seconds(spec.load_seconds) + 60
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with engine_errors(f"watching {service}"):
                tasks = self.engine.client.services.get(service).tasks()
            for task in tasks:
                status = task.get("Status") or {}
                if status.get("State") in ("complete", "failed", "rejected"):
                    raise RolloutError(
                        f"canary revision {revision} failed readiness ({status.get('State')}: "
                        f"{status.get('Err') or status.get('Message')}); stable keeps serving"
                    )
                if task.get("DesiredState") == "running" and self._is_healthy(task):
                    return
            time.sleep(1)
        raise RolloutError(
            f"canary revision {revision} was not healthy after {timeout:.0f}s; stable keeps serving"
        )

    def _remove_canary(self, name: str) -> None:
        service = f"{name}_{CANARY_SERVICE}"
        filters = {"label": f"com.docker.swarm.service.name={service}"}
        with engine_errors(f"removing {service}"):
            try:
                self.engine.client.api.remove_service(service)
            except docker.errors.NotFound:
                return
            deadline = time.monotonic() + DRAIN_SECONDS + 20
            while time.monotonic() < deadline:
                if not self.engine.client.api.containers(all=True, filters=filters):
                    return
                time.sleep(0.5)
        raise DeployError(f"{service} was removed but its container is still there")

    # -- steps -----------------------------------------------------------------------------

    def _stack_deploy(self, name: str, files: dict[str, str]) -> None:
        """``docker stack deploy`` the ``stack.yaml`` of ``files``: the services it names are
        created or updated, the others (a canary, or stable beside a canary) are left alone."""
        with tempfile.TemporaryDirectory(prefix="shipyard-stack-") as tmp:
            for file_name, text in files.items():
                (Path(tmp) / file_name).write_text(text)
            argv = ["stack", "deploy", "--resolve-image", "never", "-c", "stack.yaml", name]
            result = _docker_cli(argv, cwd=tmp)
        if result.returncode != 0:
            raise DeployError(f"docker stack deploy {name} failed: {result.stderr.strip()}")

    def _wait_update(self, service: str, started: datetime, timeout: float) -> tuple[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self._service_attrs(service).get("UpdateStatus") or {}
            began = _parse_time(status.get("StartedAt"))
            state = str(status.get("State") or "")
            if (
                began is not None
                and began >= started.replace(microsecond=0)
                and state
                in (
                    "completed",
                    "rollback_completed",
                    "rollback_paused",
                    "paused",
                )
            ):
                return state, str(status.get("Message") or "")
            time.sleep(1)
        raise DeployError(f"{service} did not finish its update in {timeout:.0f}s")

    def _wait_healthy(self, service: str, replicas: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with engine_errors(f"watching {service}"):
                tasks = self.engine.client.services.get(service).tasks(
                    filters={"desired-state": "running"}
                )
            healthy = [t for t in tasks if self._is_healthy(t)]
            if len(healthy) == replicas == len(tasks):
                return
            time.sleep(1)
        raise DeployError(f"{service} did not get {replicas} healthy replicas in {timeout:.0f}s")

    def _wait_balancer(self, spec: DeploymentSpec, timeout: float) -> None:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{spec.port}{LB_HEALTH_PATH}"
                with urllib.request.urlopen(url, timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        raise DeployError(f"the balancer of {spec.name} did not answer on port {spec.port}")

    def _is_healthy(self, task: dict[str, Any]) -> bool:
        container = (task.get("Status") or {}).get("ContainerStatus", {}).get("ContainerID")
        if not container:
            return False
        try:
            attrs = self.engine.client.api.inspect_container(container)
        except docker.errors.NotFound:
            return False
        return bool((attrs["State"].get("Health") or {}).get("Status") == "healthy")

    def _replica(self, task: dict[str, Any], revision: int, role: str) -> ReplicaStatus:
        spec = task["Spec"]["ContainerSpec"]
        return ReplicaStatus(
            name=f"{task['ServiceID'][:12]}.{task.get('Slot', 0)}",
            revision=revision,
            image=str(spec["Image"]).partition("@")[0],
            ready=self._is_healthy(task),
            role=role,
        )

    def _services(self, name: str) -> list[Any]:
        with engine_errors(f"listing the stack {name}"):
            return list(
                self.engine.client.services.list(filters={"label": f"{_STACK_LABEL}={name}"})
            )

    def _service_attrs(self, service: str) -> dict[str, Any]:
        with engine_errors(f"inspecting {service}"):
            attrs: dict[str, Any] = self.engine.client.api.inspect_service(service)
        return attrs


def _files(spec: DeploymentSpec, *, revision: int | None) -> dict[str, str]:
    labels = {} if revision is None else {REVISION_LABEL: str(revision)}
    nginx = render_nginx_conf([STABLE_SERVER], resolver=SWARM_DNS)
    return render_files(spec, mode="swarm", nginx_conf=nginx, labels=labels)


def _template(spec: DeploymentSpec) -> tuple[Any, ...]:
    """What changes the task template (a rolling update); replicas alone do not."""
    return (
        spec.image,
        spec.env,
        spec.cpu,
        spec.memory_bytes,
        spec.api_key_secret,
        spec.prediction_log,
    )


def _docker_cli(args: list[str], cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI (argv, no shell; the names in it are validated deployment names)."""
    binary = shutil.which("docker")
    if binary is None:
        raise DeployError("the `docker` CLI is needed for `docker stack deploy`: install it")
    return subprocess.run(  # noqa: S603
        [binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    head, _, _ = text.partition(".")
    try:
        return datetime.strptime(head.rstrip("Z"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
