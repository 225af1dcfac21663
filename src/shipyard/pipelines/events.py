"""What happens to a step during a run, as values: its status and the events an observer gets.

The CLI's live table observes the ``StepEvent`` stream; the run records in the database and the
tracked run (``tracked.py``) get the same changes as ``StepOutcome`` values, with the outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["DONE", "FINISHED", "RunObserver", "StepEvent", "StepStatus"]

StepStatus = Literal["pending", "running", "retrying", "succeeded", "cached", "failed", "skipped"]
DONE: frozenset[str] = frozenset({"succeeded", "cached"})
"""A step in one of these states has its outputs; ``--resume`` keeps it."""
FINISHED: frozenset[str] = DONE | {"failed", "skipped"}


@dataclass(frozen=True, slots=True)
class StepEvent:
    """A step changed state."""

    node: str
    status: StepStatus
    attempt: int = 0
    message: str = ""
    duration_s: float | None = None
    cache_key: str | None = None
    log_path: str | None = None


class RunObserver(Protocol):
    """Receives every step event of a run (called from the scheduler's threads)."""

    def __call__(self, event: StepEvent) -> None: ...
