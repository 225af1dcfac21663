"""The alias as the deploy trigger: read the registry and the records, roll what ``decide`` says.

How an alias move is noticed: by **polling**, each pass reading where the alias points now
(``registry_aliases``) and its last move (``registry_alias_events``, the audit trail: who and
when). The registry is SQLite or PostgreSQL, and the two share no notification channel (LISTEN/
NOTIFY is PostgreSQL's only); alias moves are rare and a pass is two small indexed queries per
followed model. Above all, a pass compares *state*, not events: a watcher that was down, or a move
made while a roll was running, is caught up on the next pass, and nothing is lost or done twice.

One pass (``Watcher.reconcile``): observe every followed deployment, ``follow.decide`` each, and
for each ``roll`` pin the version the alias names (it may move again meanwhile), build its image
when the engine lacks it (as ``shipyard deploy REF`` does; on the base the live image was built
on, from its OCI label, unless a base is given), then run the target's normal rolling
update through ``Deployments.change`` (a replica that fails readiness rolls the update back). The
revision's action is ``follow`` and its ``created_by`` names the watcher's user, the alias and
who moved it. A roll that fails before a revision exists (the image cannot be built) is recorded
as a ``failed`` revision too, so that it is not tried again and again. Run one watcher per
registry: two would race on the same deployment.

    >>> with Watcher.open(settings) as watcher:
    ...     results = watcher.reconcile(progress=print)
    >>> watch(watcher, interval=10.0, on_pass=print, stop=threading.Event())
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from shipyard.config import Settings
from shipyard.deploy.follow import (
    FOLLOW_ACTION,
    AliasPointer,
    Decision,
    Observation,
    decide,
    followed_ref,
)
from shipyard.deploy.history import DeploymentRecord, DeploymentRecords, RevisionRecord
from shipyard.deploy.images import ensure_image, has_image, resolve_image
from shipyard.deploy.probes import load_figures
from shipyard.deploy.service import Deployments
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets import connect_target
from shipyard.deploy.targets.base import Progress, Target
from shipyard.docker_engine import DockerEngine
from shipyard.errors import (
    ClusterUnavailableError,
    ConfigError,
    DockerUnavailableError,
    NotFoundError,
    RolloutError,
    ShipyardError,
    StoreError,
)
from shipyard.image.labels import OCI
from shipyard.refs import ModelRef
from shipyard.registry.registry import Registry

__all__ = ["FollowResult", "Watcher", "watch"]

BASE_NAME_LABEL = f"{OCI}.base.name"
RollOutcome = Literal["rolled", "rolled-back", "failed"]
_UNREACHABLE = (DockerUnavailableError, ClusterUnavailableError, StoreError)
"""Nothing was tried: the next pass tries again, so these are not recorded as a failed roll."""


@dataclass(frozen=True, slots=True)
class FollowResult:
    """One deployment after a pass: the decision and, for a roll, how it ended."""

    decision: Decision
    outcome: RollOutcome | None = None
    revision: int | None = None
    error: ShipyardError | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.decision.to_dict(),
            "outcome": self.outcome,
            "revision": self.revision,
            "error": None if self.error is None else str(self.error),
        }


class Watcher:
    """Reconciles followed deployments with their aliases, one pass at a time."""

    def __init__(
        self,
        records: DeploymentRecords,
        registry: Registry,
        settings: Settings,
        *,
        connect: Callable[[DeploymentSpec], Target] | None = None,
        cache_dir: Path | None = None,
        base_image: str | None = None,
    ) -> None:
        self.records = records
        self.registry = registry
        self.settings = settings
        self._connect = connect or _connect
        self._cache_dir = cache_dir
        self._base_image = base_image

    @classmethod
    def open(
        cls, settings: Settings, *, cache_dir: Path | None = None, base_image: str | None = None
    ) -> Watcher:
        return cls(
            DeploymentRecords.open(settings),
            Registry.from_settings(settings),
            settings,
            cache_dir=cache_dir,
            base_image=base_image,
        )

    def close(self) -> None:
        self.registry.close()
        self.records.close()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def followed(self, names: Sequence[str] = ()) -> list[DeploymentRecord]:
        """The deployments to watch: ``names`` (each must follow an alias) or all that follow."""
        if not names:
            return [d for d in self.records.all() if d.follow_alias]
        found = [self.records.get(name) for name in names]
        for record in found:
            if not record.follow_alias:
                raise ConfigError(
                    f"deployment {record.name!r} follows no alias: deploy it with "
                    "`shipyard deploy NAME@ALIAS --follow-alias`"
                )
        return found

    def observe(self, names: Sequence[str] = ()) -> list[Observation]:
        """What ``decide`` needs for each followed deployment, read now."""
        pointers: dict[str, AliasPointer] = {}
        observations = []
        for record in self.followed(names):
            ref = followed_ref(record.follow_alias or "")
            if str(ref) not in pointers:
                pointers[str(ref)] = self._pointer(ref)
            history = self.records.history(record.name)
            live = _live(history, record.live_revision)
            observations.append(Observation(record.name, ref, live, pointers[str(ref)], history))
        return observations

    def reconcile(
        self, names: Sequence[str] = (), *, progress: Progress, retry_failed: bool = False
    ) -> list[FollowResult]:
        """One pass: decide every followed deployment and roll those whose alias moved."""
        results = []
        with ExitStack() as stack:
            targets: dict[tuple[str, str | None, str], Target] = {}
            for observation in self.observe(names):
                decision = decide(observation, retry_failed=retry_failed)
                if decision.action != "roll" or observation.live is None:
                    results.append(FollowResult(decision))
                    continue
                live = observation.live
                where = (live.spec.target, live.spec.context, live.spec.namespace)
                try:
                    if where not in targets:
                        targets[where] = stack.enter_context(closing(self._connect(live.spec)))
                    target = targets[where]
                except ShipyardError as exc:  # nothing attempted: the next pass tries again
                    results.append(FollowResult(decision, "failed", None, exc))
                    continue
                progress(
                    f"{decision.deployment}: {decision.reason}; rolling to "
                    f"{observation.follows.name}:{decision.desired_version}"
                )
                results.append(self._roll(decision, observation.follows, live, target, progress))
        return results

    def _pointer(self, ref: ModelRef) -> AliasPointer:
        try:
            version = self.registry.get(ref).version
        except NotFoundError:
            return AliasPointer(None)
        moves = [e for e in self.registry.history(ref.name) if e.alias == ref.alias]
        last = moves[-1] if moves else None
        return AliasPointer(version, last.at if last else None, last.actor if last else None)

    def _roll(
        self,
        decision: Decision,
        follows: ModelRef,
        live: RevisionRecord,
        target: Target,
        progress: Progress,
    ) -> FollowResult:
        name, version = decision.deployment, decision.desired_version
        ref = ModelRef(follows.name, version=version)
        user = (
            f"{self.settings.user} (watch: {follows} -> {version}, moved by "
            f"{decision.moved_by or 'unknown'})"
        )[:256]
        before = self.records.get(name).last_revision
        wanted = live.spec.with_changes(
            model_name=follows.name, model_version=version, image_digest=None
        )
        try:
            source = resolve_image(str(ref), self.settings)
            if source.model is None:
                raise NotFoundError(f"{ref} is not in the registry any more")
            load_seconds, rss = load_figures(source.model.tags)
            wanted = live.spec.with_changes(
                image=source.image,
                model_name=source.model.name,
                model_version=source.model.version,
                image_digest=None,
                load_seconds=load_seconds,
                peak_rss_bytes=rss,
            )
            engine = target.engine
            if engine is not None:
                if not has_image(engine, source.image):
                    progress(f"{name}: building {source.image} (not in the engine yet)")
                built = ensure_image(
                    engine,
                    source,
                    self.settings,
                    base_image=self._base_image or _base_of(engine, live.spec.image),
                    cache_dir=self._cache_dir,
                )
                wanted = wanted.with_changes(image_digest=built.digest or built.id)
            revision, _ = Deployments(self.records, user).change(
                name, target, action=FOLLOW_ACTION, progress=progress, spec=wanted
            )
        except ShipyardError as exc:
            revision = self.records.get(name).last_revision
            if revision == before and not isinstance(exc, _UNREACHABLE):
                # failed before the update began (no image, a failed build): record it too
                revision = self.records.begin(wanted, action=FOLLOW_ACTION, user=user)
                self.records.finish(name, revision, "failed", str(exc))
            outcome: RollOutcome = "rolled-back" if isinstance(exc, RolloutError) else "failed"
            progress(f"{name}: {outcome} ({exc})")
            return FollowResult(decision, outcome, revision, exc)
        progress(f"{name}: now runs {ref} (revision {revision})")
        return FollowResult(decision, "rolled", revision)


def watch(
    watcher: Watcher,
    names: Sequence[str] = (),
    *,
    interval: float,
    on_pass: Callable[[list[FollowResult]], None],
    on_error: Callable[[ShipyardError], None],
    stop: threading.Event,
    progress: Progress,
    retry_failed: bool = False,
) -> None:
    """Reconcile every ``interval`` seconds until ``stop`` is set; a failed pass is reported and
    the next one runs (a database or engine that is away for a while is no reason to stop).

    ``retry_failed`` applies to the first pass only, so a version that fails again is held."""
    retry = retry_failed
    while not stop.is_set():
        try:
            results = watcher.reconcile(names, progress=progress, retry_failed=retry)
        except ShipyardError as exc:
            on_error(exc)
        else:
            on_pass(results)
            retry = False
        stop.wait(interval)


def _connect(spec: DeploymentSpec) -> Target:
    """The target ``spec`` runs on (for Kubernetes: its kubeconfig context and namespace)."""
    return connect_target(spec.target, spec=spec)


def _base_of(engine: DockerEngine, image: str) -> str | None:
    """The base the live image was built on (its OCI label), so the new version gets it too."""
    if not has_image(engine, image):
        return None
    return engine.inspect(image).labels.get(BASE_NAME_LABEL)


def _live(history: Sequence[RevisionRecord], number: int | None) -> RevisionRecord | None:
    return next((r for r in history if r.revision == number), None)
