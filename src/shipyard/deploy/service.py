"""Deployments as a whole: render and validate, check, record, apply, record the outcome.

Everything is rendered and validated before anything is applied; a revision is recorded as
``pending`` before it is applied and as ``applied``, ``rolled-back`` or ``failed`` after.
``wait=False`` (``--no-wait``) returns once the target has applied it: no readiness wait, so no
automatic rollback; the revision is ``applied`` with a detail saying it was not waited for.

    >>> with Deployments.open(settings) as deployments:
    ...     deployments.deploy(spec, target, progress=print)
    ...     deployments.change("cancer", target, action="scale", progress=print, replicas=3)

A canary is planned (``plan_canary``: the canary's spec and, on Kubernetes, its manifests; nothing
applied), started and optionally analysed (``run_canary``), then promoted or aborted.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from shipyard.config import Settings
from shipyard.contract import METRICS_PATH
from shipyard.deploy.canary import CanaryPolicy, RouteStats, Verdict, combine, judge, parse_metrics
from shipyard.deploy.history import DeploymentRecords, RevisionRecord
from shipyard.deploy.spec import DeploymentSpec, parse_env
from shipyard.deploy.targets.base import (
    DeploymentStatus,
    MetricsTarget,
    Progress,
    ScalingTarget,
    Target,
)
from shipyard.errors import ConfigError, ConflictError, RolloutError, ShipyardError

if TYPE_CHECKING:
    from shipyard.deploy.images import ImageSource

__all__ = ["NOT_WAITED", "CanaryOutcome", "CanaryPlan", "Deployments", "write_manifests"]

NOT_WAITED = "applied with --no-wait: readiness not watched, no automatic rollback"
"""The detail of a revision applied with ``wait=False``."""


def write_manifests(files: dict[str, str], output: Path) -> list[Path]:
    """Write rendered files into ``output`` (new or empty), refusing to overwrite anything."""
    if output.exists() and any(output.iterdir()):
        raise ConfigError(f"{output} is not empty: give -o a new or empty folder")
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(files.items()):
        path = output / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


@dataclass(frozen=True, slots=True)
class CanaryPlan:
    """A canary about to start: the live spec, the canary's, and on Kubernetes the rendered
    manifests (``None`` elsewhere: docker and swarm render it as they start it)."""

    live: DeploymentSpec
    canary: DeploymentSpec
    weight: int
    files: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class CanaryOutcome:
    """The canary's revision, what runs now and, after an analysis, its verdict."""

    revision: int
    status: DeploymentStatus
    verdict: Verdict | None = None


class Deployments:
    """The deploy stage's facade over the records and a target."""

    def __init__(self, records: DeploymentRecords, user: str) -> None:
        self.records = records
        self.user = user

    @classmethod
    def open(cls, settings: Settings) -> Deployments:
        return cls(DeploymentRecords.open(settings), settings.user)

    def close(self) -> None:
        self.records.close()

    def __enter__(self) -> Deployments:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def deploy(
        self,
        spec: DeploymentSpec,
        target: Target,
        *,
        progress: Progress,
        follow_alias: str | None = None,
        wait: bool = True,
    ) -> tuple[int, DeploymentStatus]:
        """A new deployment: refused when the name is taken (live on any target)."""
        target.render(spec)
        target.check(spec)
        if target.exists(spec.name):
            raise ConflictError(
                f"{spec.name!r} already runs on {target.name}: update it with "
                f"`shipyard deployments update {spec.name} REF` or remove it first"
            )
        revision = self.records.begin(
            spec, action="deploy", user=self.user, new=True, follow_alias=follow_alias
        )
        return revision, self._apply(spec, revision, target, None, progress, wait=wait)

    def change(
        self,
        name: str,
        target: Target,
        *,
        action: str,
        progress: Progress,
        spec: DeploymentSpec | None = None,
        wait: bool = True,
        **changes: Any,
    ) -> tuple[int, DeploymentStatus]:
        """A new revision of ``name``: ``spec`` outright, or the live spec with ``changes``."""
        live = self.records.live(name)
        wanted = spec if spec is not None else live.spec.with_changes(**changes)
        if wanted.target != live.spec.target:
            raise ConfigError(
                f"{name!r} runs on {live.spec.target}, not {wanted.target}: deploy a new one"
            )
        target.render(wanted)
        target.check(wanted)
        revision = self.records.begin(wanted, action=action, user=self.user)
        previous = (live.spec, live.revision)
        if action == "scale" and target.scales_in_place:
            try:
                scaling = cast(ScalingTarget, target)
                status = scaling.scale(wanted, live.revision, progress, wait=wait)
            except ShipyardError as exc:
                self.records.finish(name, revision, "failed", str(exc))
                raise
            self.records.finish(name, revision, "applied", None if wait else NOT_WAITED)
            return revision, status
        return revision, self._apply(wanted, revision, target, previous, progress, wait=wait)

    def rollback(
        self, name: str, target: Target, *, to: int | None, progress: Progress
    ) -> tuple[int, DeploymentStatus]:
        """Go back to revision ``to`` (default: the applied revision before the live one)."""
        history = self.records.history(name)
        live = self.records.live(name)
        if to is None:
            earlier = [
                r
                for r in history
                if r.outcome == "applied"
                and r.revision < live.revision
                and r.spec.image != live.spec.image
            ]
            if not earlier:
                raise ConfigError(f"{name!r} has no earlier applied revision to roll back to")
            chosen: RevisionRecord = earlier[-1]
        else:
            chosen = self.records.revision(name, to)
        return self.change(
            name,
            target,
            action=f"rollback to {chosen.revision}",
            progress=progress,
            spec=chosen.spec,
        )

    # -- canaries ---------------------------------------------------------------------------

    def plan_canary(
        self,
        name: str,
        source: ImageSource,
        *,
        weight: int,
        env: Sequence[str] = (),
        gateway: str | None = None,
    ) -> CanaryPlan:
        """The canary of live ``name`` running ``source`` (``env`` added to the live one's);
        pure but for reading the records, so a dry run can show it."""
        _check_weight(weight)
        live = self.records.live(name).spec
        changes: dict[str, Any] = {
            "image": source.image,
            "model_name": source.model.name if source.model else live.model_name,
            "model_version": source.model.version if source.model else None,
        }
        if env:
            changes["env"] = tuple(sorted({**live.environment, **parse_env(env)}.items()))
        files = None
        if live.target == "kubernetes":
            from shipyard.deploy.targets.kubernetes.canary import render_canary_manifests

            changes["gateway"] = gateway or live.gateway
            canary = live.with_changes(**changes)
            files = render_canary_manifests(live, canary, weight=weight)
        elif gateway:
            raise ConfigError("--gateway is for kubernetes canaries (an HTTPRoute's Gateway)")
        else:
            canary = live.with_changes(**changes)
        return CanaryPlan(live, canary, weight, files)

    def run_canary(
        self,
        plan: CanaryPlan,
        target: Target,
        *,
        progress: Progress,
        analyse_seconds: float = 0.0,
        policy: CanaryPolicy | None = None,
    ) -> CanaryOutcome:
        """Start the planned canary; with ``analyse_seconds``, compare it with stable for that
        long and abort it on a bad verdict (targets that ``reads_replica_metrics`` only)."""
        name = plan.live.name
        if analyse_seconds > 0 and not target.reads_replica_metrics:
            raise ConfigError(
                f"--analyse reads each replica's /metrics from this host, which {target.name} "
                "does not allow: watch the canary with your metrics stack, then promote or abort"
            )
        revision, status = self.canary(
            name, target, weight=plan.weight, progress=progress, spec=plan.canary
        )
        if analyse_seconds <= 0:
            return CanaryOutcome(revision, status)
        verdict = self.watch_canary(
            name,
            cast(MetricsTarget, target),
            seconds=analyse_seconds,
            policy=policy or CanaryPolicy(),
            progress=progress,
        )
        return CanaryOutcome(revision, target.status(name), verdict)

    def canary(
        self,
        name: str,
        target: Target,
        *,
        weight: int,
        progress: Progress,
        spec: DeploymentSpec | None = None,
        **changes: Any,
    ) -> tuple[int, DeploymentStatus]:
        """Start a canary, ``spec`` outright or the live spec with ``changes``, taking ``weight``
        percent of the requests."""
        _check_weight(weight)
        wanted = spec if spec is not None else self.records.live(name).spec.with_changes(**changes)
        target.render(wanted)
        target.check(wanted)
        revision = self.records.begin(wanted, action=f"canary {weight}%", user=self.user)
        try:
            status = target.start_canary(wanted, revision, weight, progress)
        except BaseException as exc:
            self.records.finish(name, revision, "failed", str(exc) or type(exc).__name__)
            raise
        self.records.finish(name, revision, "canary")
        return revision, status

    def promote(
        self, name: str, target: Target, *, progress: Progress
    ) -> tuple[int, DeploymentStatus]:
        """Roll the stable replicas to the canary's spec, then retire the canary."""
        canary = self.records.canary(name)
        revision, _ = self.change(
            name, target, action=f"promote {canary.revision}", progress=progress, spec=canary.spec
        )
        target.retire_canary(canary.spec, progress)
        self.records.finish(name, canary.revision, "promoted")
        return revision, target.status(name)

    def abort(self, name: str, target: Target, *, reason: str, progress: Progress) -> int:
        """Retire the canary; stable keeps serving every request."""
        canary = self.records.canary(name)
        target.retire_canary(canary.spec, progress)
        self.records.finish(name, canary.revision, "aborted", reason)
        return canary.revision

    def watch_canary(
        self,
        name: str,
        target: MetricsTarget,
        *,
        seconds: float,
        policy: CanaryPolicy,
        progress: Progress,
        interval: float = 2.0,
    ) -> Verdict:
        """Compare canary and stable ``/metrics`` for ``seconds``; abort on a bad verdict."""
        urls = target.replica_urls(name)
        start = {role: _scrape(found) for role, found in urls.items()}
        verdict = Verdict(None, "no traffic yet")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(interval)
            now = {role: _scrape(found) for role, found in urls.items()}
            verdict = judge(
                now["stable"] - start["stable"], now["canary"] - start["canary"], policy
            )
            progress(f"canary: {verdict.reason}")
            if verdict.healthy is False:
                self.abort(name, target, reason=verdict.reason, progress=progress)
                return verdict
        return verdict

    def remove(self, name: str, target: Target) -> list[str]:
        self.records.get(name)
        removed = target.remove(name)
        self.records.mark_removed(name)
        return removed

    def _apply(
        self,
        spec: DeploymentSpec,
        revision: int,
        target: Target,
        previous: tuple[DeploymentSpec, int] | None,
        progress: Progress,
        *,
        wait: bool = True,
    ) -> DeploymentStatus:
        try:
            status = target.apply(spec, revision, previous=previous, progress=progress, wait=wait)
        except RolloutError as exc:
            self.records.finish(spec.name, revision, "rolled-back", str(exc))
            raise
        except BaseException as exc:
            self.records.finish(spec.name, revision, "failed", str(exc) or type(exc).__name__)
            raise
        self.records.finish(spec.name, revision, "applied", None if wait else NOT_WAITED)
        return status


def _check_weight(weight: int) -> None:
    if not 1 <= weight <= 99:
        raise ConfigError(f"--weight {weight} is not 1-99 (percent of the requests)")


def _scrape(urls: list[str]) -> RouteStats:
    """The summed prediction metrics of the replicas at ``urls``."""
    found = []
    for url in urls:
        with urllib.request.urlopen(f"{url}{METRICS_PATH}", timeout=5) as response:  # noqa: S310
            found.append(parse_metrics(response.read().decode()))
    return combine(found)
