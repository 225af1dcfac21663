"""Turning a reference into a version number, and saying what exists when that fails.

Pure functions over a ``ModelState`` snapshot (a model's version numbers and aliases), so the
helpful messages are the same wherever a lookup fails.

    >>> state = ModelState("iris", versions=(1, 2, 3), aliases={"production": 2})
    >>> resolve(ModelRef.parse("iris@production"), state)
    2
    >>> state.describe()
    "model 'iris' has versions 1-3 and aliases production→2"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shipyard.errors import ConflictError, NotFoundError
from shipyard.refs import ModelRef
from shipyard.registry.entities import AliasEvent

__all__ = ["ModelState", "format_numbers", "resolve", "rollback_target", "unknown_model"]

_MAX_LISTED_MODELS = 20


@dataclass(frozen=True, slots=True)
class ModelState:
    """What a model has right now: its version numbers (ascending) and alias targets."""

    name: str
    versions: tuple[int, ...]
    aliases: dict[str, int] = field(default_factory=dict)

    @property
    def latest(self) -> int | None:
        return self.versions[-1] if self.versions else None

    def describe(self) -> str:
        """``model 'iris' has versions 1-3 and aliases production→2``."""
        if not self.versions:
            return f"model {self.name!r} has no versions (all were deleted)"
        text = f"model {self.name!r} has versions {format_numbers(self.versions)}"
        if self.aliases:
            pairs = ", ".join(f"{a}→{v}" for a, v in sorted(self.aliases.items()))
            return f"{text} and aliases {pairs}"
        return f"{text} and no aliases"


def format_numbers(numbers: Sequence[int]) -> str:
    """Compact ascending numbers into ranges: ``1-3, 5, 7-9``."""
    parts: list[str] = []
    ordered = sorted(set(numbers))
    start = previous = ordered[0] if ordered else 0
    for number in [*ordered[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return ", ".join(parts)


def unknown_model(name: str, known: Sequence[str]) -> NotFoundError:
    """The error for a model name the registry does not have, listing those it has."""
    if not known:
        return NotFoundError(f"no model named {name!r}: the registry is empty (save one first)")
    listed = ", ".join(sorted(known)[:_MAX_LISTED_MODELS])
    more = f" and {len(known) - _MAX_LISTED_MODELS} more" if len(known) > _MAX_LISTED_MODELS else ""
    return NotFoundError(f"no model named {name!r}: the registry has {listed}{more}")


def resolve(ref: ModelRef, state: ModelState) -> int:
    """The version number ``ref`` points at, or ``NotFoundError`` saying what exists."""
    if ref.alias is not None:
        if ref.alias not in state.aliases:
            raise NotFoundError(f"no alias {ref.alias!r}: {state.describe()}")
        return state.aliases[ref.alias]
    if ref.version is not None:
        if ref.version not in state.versions:
            raise NotFoundError(f"no version {ref.version}: {state.describe()}")
        return ref.version
    if state.latest is None:
        raise NotFoundError(state.describe())
    return state.latest


def rollback_target(events: Sequence[AliasEvent], state: ModelState, alias: str) -> int:
    """Where ``rollback`` moves ``alias``: the target it had before its current one.

    The audit history is replayed as a stack: ``set`` and ``remove`` push the new target (None when
    removed), ``rollback`` pops. Rolling back twice therefore steps back twice.
    """
    stack: list[int | None] = []
    for event in events:
        if event.alias != alias:
            continue
        if event.action == "rollback":
            if stack:
                stack.pop()
        else:
            stack.append(event.to_version)
    current = state.aliases.get(alias)
    if len(stack) < 2 or stack[-2] is None:
        where = f"alias {alias!r} of model {state.name!r}"
        now = f"points at version {current}" if current is not None else "is not set"
        raise ConflictError(f"{where} {now} and has no previous target to roll back to")
    target = stack[-2]
    if target not in state.versions:
        raise ConflictError(
            f"cannot roll back alias {alias!r} of model {state.name!r}: its previous target, "
            f"version {target}, was deleted; set it explicitly with 'shipyard models alias set'"
        )
    return target
