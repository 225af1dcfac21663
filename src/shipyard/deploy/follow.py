"""Following an alias: which deployments must roll, decided from the registry and the records.

A deployment made with ``shipyard deploy cancer@production --follow-alias`` keeps the reference
``cancer@production`` (``deploy_deployments.follow_alias``). Its *desired* version is what the
alias points at now; its *live* version is the model version of its live revision. ``decide``
compares the two, pure and fast to test; ``deploy/watch.py`` gathers the observations and carries
out the rolls.

    >>> decide(Observation("churn", ModelRef.parse("churn@production"), live, pointer, history))
    Decision(deployment='churn', action='roll', live_version=1, desired_version=2, ...)

A roll that failed (rolled back, or its image could not be built) is not tried again for the same
alias move: ``decide`` holds it (``failed-before``) until the alias moves again (an alias event
newer than the failed attempt) or the caller asks with ``retry_failed`` (``watch --retry-failed``).
Both times come from the registry database, written by the clients' clocks; a move within their
skew of a failure counts as the same move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shipyard.deploy.history import RevisionRecord
from shipyard.errors import ConfigError
from shipyard.refs import ModelRef

__all__ = [
    "FOLLOW_ACTION",
    "AliasPointer",
    "Decision",
    "FollowAction",
    "Observation",
    "decide",
    "followed_ref",
    "last_failed_roll",
]

FOLLOW_ACTION = "follow"
"""The ``action`` of a revision the watcher made (``deployments history`` shows it)."""

FollowAction = Literal["roll", "in-sync", "failed-before", "canary", "no-alias", "no-live"]
_FAILED = frozenset({"rolled-back", "failed"})


def followed_ref(text: str) -> ModelRef:
    """``cancer@production`` as a reference to follow; anything but ``NAME@ALIAS`` is refused."""
    ref = ModelRef.parse(text)
    if ref.alias is None:
        raise ConfigError(
            f"--follow-alias needs NAME@ALIAS, not {text!r}: a version number never moves "
            f"(for example `shipyard deploy {ref.name}@production --follow-alias`)"
        )
    return ref


@dataclass(frozen=True, slots=True)
class AliasPointer:
    """Where the alias points now and its last move (from the registry's audit trail)."""

    version: int | None
    moved_at: datetime | None = None
    moved_by: str | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """Everything ``decide`` needs about one followed deployment."""

    deployment: str
    follows: ModelRef
    live: RevisionRecord | None
    pointer: AliasPointer
    history: Sequence[RevisionRecord] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one deployment, and why (for a person and for ``--json``)."""

    deployment: str
    follows: str
    action: FollowAction
    live_version: int | None
    desired_version: int | None
    reason: str
    moved_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "follows": self.follows,
            "action": self.action,
            "live_version": self.live_version,
            "desired_version": self.desired_version,
            "reason": self.reason,
            "moved_by": self.moved_by,
        }


def last_failed_roll(history: Sequence[RevisionRecord], model: str) -> RevisionRecord | None:
    """The newest follow revision of ``model`` that was rolled back or failed, if any."""
    for record in reversed(history):
        if (
            record.action == FOLLOW_ACTION
            and record.outcome in _FAILED
            and record.spec.model_name == model
        ):
            return record
    return None


def decide(observation: Observation, *, retry_failed: bool = False) -> Decision:
    """Roll when the alias names another version than the live one, unless that roll failed."""
    follows, pointer, live = observation.follows, observation.pointer, observation.live
    live_version = None
    if live is not None and live.spec.model_name == follows.name:
        live_version = live.spec.model_version
    desired = pointer.version

    def decision(action: FollowAction, reason: str) -> Decision:
        return Decision(
            observation.deployment,
            str(follows),
            action,
            live_version,
            desired,
            reason,
            pointer.moved_by,
        )

    if live is None:
        return decision("no-live", "no live revision: deploy it again before it can follow")
    if desired is None:
        return decision("no-alias", f"{follows} points at no version: left as it is")
    if live_version == desired:
        return decision("in-sync", f"runs {follows.name}:{desired}, as {follows} says")
    if any(record.outcome == "canary" for record in observation.history):
        return decision("canary", "a canary runs: `deployments promote` or `abort` it first")
    failed = last_failed_roll(observation.history, follows.name)
    if (
        not retry_failed
        and failed is not None
        and failed.spec.model_version == desired
        and (pointer.moved_at is None or failed.created_at >= pointer.moved_at)
    ):
        return decision(
            "failed-before",
            f"revision {failed.revision} to {follows.name}:{desired} was {failed.outcome}"
            f" ({_short(failed.detail)}): not tried again until {follows} moves again "
            "or `deployments watch --retry-failed`",
        )
    was = "another image" if live_version is None else f"{follows.name}:{live_version}"
    return decision("roll", f"{follows} moved to {desired}; runs {was}")


def _short(detail: str | None, limit: int = 160) -> str:
    text = " ".join((detail or "no detail").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
