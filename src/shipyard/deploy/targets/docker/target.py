"""The Docker target: N replicas and an nginx load balancer on one host, all on 127.0.0.1.

Replicas and the balancer share a bridge network ``shipyard-<name>``; each replica is also
published on a free 127.0.0.1 port, so readiness and ``/metrics`` are read from the host. The
engine's labels are the state: nothing else has to be kept in step.

A rolling update replaces one replica at a time: start the new one, wait for ``/readyz``, put it
in the balancer, take an old one out (rewrite upstreams, ``nginx -s reload``), then stop it
(SIGTERM: it drains). A new replica that fails readiness is removed before it ever gets traffic,
and any already replaced are put back: the update rolls back by itself. ``wait=False``
(``--no-wait``) starts the replicas without waiting for ``/readyz`` and so never rolls back.

    >>> target = DockerTarget(engine)
    >>> target.apply(spec, 1, previous=None, progress=print).url
    'http://127.0.0.1:8080'
"""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

import docker.errors

from shipyard.contract import CONTAINER_PORT, DRAIN_SECONDS, LOG_DIR, SERVE_ENV_PREFIX
from shipyard.deploy.images import has_image
from shipyard.deploy.spec import DeploymentSpec, TargetName
from shipyard.deploy.targets.base import (
    DEPLOYMENT_LABEL,
    REVISION_LABEL,
    ROLE_LABEL,
    WEIGHT_LABEL,
    DeploymentStatus,
    Progress,
    ReplicaStatus,
)
from shipyard.deploy.targets.docker.balancer import point_balancer, start_balancer
from shipyard.deploy.targets.docker.compose import render_files
from shipyard.deploy.targets.docker.container import (
    RunningContainer,
    is_ready,
    start_container,
    stop_container,
    wait_until_ready,
)
from shipyard.deploy.targets.docker.nginx import render_nginx_conf
from shipyard.deploy.targets.engine import EngineTarget
from shipyard.docker_engine import engine_errors
from shipyard.errors import (
    BuildError,
    ConflictError,
    DeployError,
    ModelLoadError,
    NotFoundError,
    RolloutError,
)

__all__ = ["DockerTarget"]

_API_KEYS_IN_CONTAINER = "/run/secrets/shipyard-api-keys"


class DockerTarget(EngineTarget):
    """Deployments on one Docker engine."""

    name: ClassVar[TargetName] = "docker"
    scales_in_place: ClassVar[bool] = True
    reads_replica_metrics: ClassVar[bool] = True

    # -- pure ------------------------------------------------------------------------------

    @classmethod
    def render(cls, spec: DeploymentSpec) -> dict[str, str]:
        """``compose.yaml`` (valid compose-spec) and the ``nginx.conf`` it mounts."""
        return render_files(spec, mode="compose", nginx_conf=render_nginx_conf(["model:8080"]))

    # -- apply -----------------------------------------------------------------------------

    def check(self, spec: DeploymentSpec) -> None:
        """Refuse before anything changes: a missing image, a name taken by something else."""
        if not has_image(self.engine, spec.image):
            raise NotFoundError(f"no image {spec.image!r} in the engine: build it first")
        if not has_image(self.engine, spec.lb_image):
            raise NotFoundError(
                f"no load balancer image {spec.lb_image!r} in the engine: `docker pull "
                f"{spec.lb_image}` or pass --lb-image (SHIPYARD_DEPLOY_LB_IMAGE) naming a "
                "local image with nginx"
            )
        with engine_errors(f"looking for {spec.name}-lb"):
            try:
                other = self.engine.client.containers.get(f"{spec.name}-lb")
            except docker.errors.NotFound:
                return
        if (other.labels or {}).get(DEPLOYMENT_LABEL) != spec.name:
            raise ConflictError(
                f"a container named {spec.name}-lb exists and is not Shipyard's: pick another "
                "--name or remove it"
            )

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
        lb = self._balancer(spec.name)
        if lb is None:
            return self._create(spec, revision, progress, wait=wait)
        if not wait:
            try:
                self._roll(spec, revision, lb, progress, wait=False)
            except RolloutError as failure:  # a replica that did not even start: nothing undone
                raise DeployError(f"{failure} (--no-wait: nothing was rolled back)") from None
            return self.status(spec.name)
        try:
            self._roll(spec, revision, lb, progress)
        except RolloutError as failure:
            if previous is not None:
                progress(f"rolling back to revision {previous[1]}")
                self._roll(previous[0], previous[1], lb, progress)
            raise RolloutError(
                f"{failure}; revision {previous[1] if previous else '?'} kept"
            ) from None
        return self.status(spec.name)

    def scale(
        self, spec: DeploymentSpec, revision: int, progress: Progress, *, wait: bool = True
    ) -> DeploymentStatus:
        """Add or remove replicas of the running revision (the balancer follows)."""
        lb = self._balancer(spec.name)
        if lb is None:
            raise NotFoundError(f"deployment {spec.name!r} is not running on docker")
        current = self._replicas(spec.name)
        for _ in range(spec.replicas - len(current)):
            self._start_replica(spec, revision, progress, wait=wait)
            self._point(lb, spec.name)
        for extra in current[spec.replicas :]:
            self._retire(lb, spec.name, extra, progress)
        return self.status(spec.name)

    def start_canary(
        self, spec: DeploymentSpec, revision: int, weight: int, progress: Progress
    ) -> DeploymentStatus:
        """One canary replica of ``spec`` taking ``weight`` percent of the traffic."""
        lb = self._balancer(spec.name)
        if lb is None:
            raise NotFoundError(f"deployment {spec.name!r} is not running on docker")
        if self._replicas(spec.name, role="canary"):
            raise ConflictError(
                f"{spec.name!r} has a canary already: `deployments promote` or `abort` it first"
            )
        self._start_replica(spec, revision, progress, role="canary", weight=weight)
        self._point(lb, spec.name)
        return self.status(spec.name)

    def retire_canary(self, spec: DeploymentSpec, progress: Progress) -> None:
        """Take the canary out of the balancer and stop it (promote has rolled stable first)."""
        name = spec.name
        lb = self._balancer(name)
        for canary in self._replicas(name, role="canary"):
            if lb is not None:
                self._retire(lb, name, canary, progress)
            else:
                stop_container(self.engine, canary.id, grace_seconds=DRAIN_SECONDS + 5)

    def replica_urls(self, name: str) -> dict[str, list[str]]:
        """``{"stable": [...], "canary": [...]}``: where each replica's /metrics is."""
        urls: dict[str, list[str]] = {"stable": [], "canary": []}
        for replica in self._replicas(name, role=None):
            if replica.url is not None:
                urls[replica.role].append(replica.url)
        return urls

    def status(self, name: str) -> DeploymentStatus:
        lb_id = self._balancer(name)
        url = None
        if lb_id is not None:
            url = self._published_url(lb_id)
        replicas = tuple(
            ReplicaStatus(
                name=c.name,
                revision=c.revision,
                image=c.image,
                ready=c.url is not None and is_ready(c.url),
                url=c.url,
                role=c.role,
            )
            for c in self._replicas(name, role=None)
        )
        return DeploymentStatus(name=name, target=self.name, url=url, replicas=replicas)

    def exists(self, name: str) -> bool:
        return bool(self._containers(name))

    def remove(self, name: str) -> list[str]:
        removed: list[str] = []
        lb = self._balancer(name)
        with engine_errors(f"removing {name}"):
            if lb is not None:
                container = self.engine.client.containers.get(lb)
                removed.append(container.name)
                container.remove(force=True)
            for replica in self._replicas(name, role=None):
                stop_container(self.engine, replica.id, grace_seconds=5)
                removed.append(replica.name)
            for network in self.engine.client.networks.list(
                filters={"label": f"{DEPLOYMENT_LABEL}={name}"}
            ):
                removed.append(network.name)
                network.remove()
        return removed

    # -- steps -----------------------------------------------------------------------------

    def _create(
        self, spec: DeploymentSpec, revision: int, progress: Progress, *, wait: bool = True
    ) -> DeploymentStatus:
        network = self._network(spec.name)
        started: list[_Replica] = []
        try:
            for _ in range(spec.replicas):
                started.append(self._start_replica(spec, revision, progress, wait=wait))
            progress("starting the load balancer")
            start_balancer(
                self.engine,
                spec,
                network,
                _servers(started),
                self._labels(spec.name, "lb", revision),
            )
        except BaseException:
            progress("undoing: removing what was started")
            self.remove(spec.name)
            raise
        return self.status(spec.name)

    def _roll(
        self, spec: DeploymentSpec, revision: int, lb: str, progress: Progress, *, wait: bool = True
    ) -> None:
        stable = self._replicas(spec.name)
        old = [r for r in stable if r.revision != revision]
        kept = len(stable) - len(old)
        wanted = max(spec.replicas - kept, 0)
        for step in range(max(wanted, len(old))):
            if step < wanted:
                try:
                    self._start_replica(spec, revision, progress, wait=wait)
                except (BuildError, ModelLoadError) as exc:
                    raise RolloutError(f"revision {revision} failed readiness: {exc}") from None
                self._point(lb, spec.name)
            if step < len(old):
                self._retire(lb, spec.name, old[step], progress)

    def _retire(self, lb: str, name: str, replica: _Replica, progress: Progress) -> None:
        """Out of the balancer first, then SIGTERM: the replica drains what it still has."""
        progress(f"draining {replica.name}")
        self._point(lb, name, exclude={replica.name})
        stop_container(self.engine, replica.id, grace_seconds=DRAIN_SECONDS + 5)

    def _point(self, lb: str, name: str, exclude: set[str] | frozenset[str] = frozenset()) -> None:
        """Balance over every running replica but ``exclude``; a canary gets its share."""
        replicas = [r for r in self._replicas(name, role=None) if r.name not in exclude]
        stable = [r for r in replicas if r.role == "stable"]
        canaries = [r for r in replicas if r.role == "canary"]
        weights: dict[str, int] = {}
        if canaries and stable:
            share = canaries[0].weight
            for replica in stable:
                weights[_server(replica)] = 100 - share
            for replica in canaries:
                weights[_server(replica)] = round(share * len(stable) / len(canaries))
        point_balancer(self.engine, lb, [_server(r) for r in replicas], weights)

    def _start_replica(
        self,
        spec: DeploymentSpec,
        revision: int,
        progress: Progress,
        *,
        role: str = "stable",
        weight: int = 0,
        wait: bool = True,
    ) -> _Replica:
        name = f"{spec.name}-{revision}-{secrets.token_hex(3)}"
        labels = self._labels(spec.name, "replica" if role == "stable" else "canary", revision)
        if role == "canary":
            labels[WEIGHT_LABEL] = str(weight)
        progress(f"starting {name}")
        environment, volumes, read_only = self._runtime(spec, name)
        running = start_container(
            self.engine,
            spec.image,
            port=0,
            host="127.0.0.1",
            environment=environment,
            volumes=volumes,
            read_only=read_only,
            name=name,
            labels=labels,
            network=self._network(spec.name),
            nano_cpus=None if spec.cpu is None else int(spec.cpu * 1e9),
            mem_limit=spec.memory_bytes,
        )
        if not wait:
            progress(f"{name} started (not waiting for readiness)")
            return _Replica.of(running, revision, role, weight)
        try:
            wait_until_ready(self.engine, running, timeout=180.0)
        except BaseException:
            stop_container(self.engine, running, grace_seconds=2)
            raise
        progress(f"{name} is ready")
        return _Replica.of(running, revision, role, weight)

    def _runtime(
        self, spec: DeploymentSpec, name: str
    ) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        environment = {**spec.environment, f"{SERVE_ENV_PREFIX}PORT": str(CONTAINER_PORT)}
        volumes: dict[str, str] = {}
        read_only: dict[str, str] = {}
        if spec.api_key_secret is not None:
            read_only[spec.api_key_secret] = _API_KEYS_IN_CONTAINER
            environment[f"{SERVE_ENV_PREFIX}API_KEY_FILE"] = _API_KEYS_IN_CONTAINER
        if spec.prediction_log is not None:
            volumes[spec.prediction_log] = LOG_DIR
            environment[f"{SERVE_ENV_PREFIX}PREDICTION_LOG"] = f"{LOG_DIR}/{name}.jsonl"
        return environment, volumes, read_only

    def _labels(self, name: str, role: str, revision: int) -> dict[str, str]:
        return {DEPLOYMENT_LABEL: name, ROLE_LABEL: role, REVISION_LABEL: str(revision)}

    def _network(self, name: str) -> str:
        network = f"shipyard-{name}"
        with engine_errors(f"creating the network {network}"):
            if not self.engine.client.networks.list(names=[network]):
                self.engine.client.networks.create(
                    network, driver="bridge", labels={DEPLOYMENT_LABEL: name}
                )
        return network

    def _containers(self, name: str) -> list[Any]:
        with engine_errors(f"listing {name}'s containers"):
            return list(
                self.engine.client.containers.list(
                    all=True, filters={"label": f"{DEPLOYMENT_LABEL}={name}"}
                )
            )

    def _balancer(self, name: str) -> str | None:
        for container in self._containers(name):
            if container.labels.get(ROLE_LABEL) == "lb":
                return str(container.id)
        return None

    def _replicas(self, name: str, role: str | None = "stable") -> list[_Replica]:
        found = []
        for container in self._containers(name):
            labels = container.labels
            if labels.get(ROLE_LABEL) not in ("replica", "canary"):
                continue
            kind = "canary" if labels.get(ROLE_LABEL) == "canary" else "stable"
            if role is not None and kind != role:
                continue
            if container.status not in ("running", "created", "restarting"):
                continue
            found.append(_Replica.from_container(container, kind))
        return sorted(found, key=lambda r: (r.revision, r.name))

    def _published_url(self, container_id: str) -> str | None:
        with engine_errors("inspecting the load balancer"):
            attrs = self.engine.client.api.inspect_container(container_id)
        bindings = (attrs["NetworkSettings"]["Ports"] or {}).get(f"{CONTAINER_PORT}/tcp") or []
        if not bindings:
            return None
        return f"http://{bindings[0]['HostIp'] or '127.0.0.1'}:{bindings[0]['HostPort']}"


class _Replica:
    """A replica container as the target tracks it."""

    __slots__ = ("id", "image", "name", "revision", "role", "url", "weight")

    def __init__(
        self,
        ident: str,
        name: str,
        image: str,
        revision: int,
        role: str,
        url: str | None,
        weight: int = 0,
    ) -> None:
        self.id, self.name, self.image = ident, name, image
        self.revision, self.role, self.url, self.weight = revision, role, url, weight

    @classmethod
    def of(cls, running: RunningContainer, revision: int, role: str, weight: int) -> _Replica:
        return cls(running.id, running.name, running.image, revision, role, running.url, weight)

    @classmethod
    def from_container(cls, container: Any, role: str) -> _Replica:
        ports = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
        bindings = ports.get(f"{CONTAINER_PORT}/tcp") or []
        url = f"http://127.0.0.1:{bindings[0]['HostPort']}" if bindings else None
        image = (container.attrs.get("Config") or {}).get("Image") or ""
        revision = int(container.labels.get(REVISION_LABEL, "0"))
        weight = int(container.labels.get(WEIGHT_LABEL, "0"))
        return cls(str(container.id), container.name, image, revision, role, url, weight)


def _servers(replicas: Any) -> list[str]:
    return [_server(replica) for replica in replicas]


def _server(replica: _Replica) -> str:
    return f"{replica.name}:{CONTAINER_PORT}"
