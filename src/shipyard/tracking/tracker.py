"""``Tracker``: the tracking store and run artifacts, opened together from settings.

>>> with Tracker.from_settings(Settings.from_env()) as tracker:
...     experiment_id = tracker.experiment_id("churn", create=True)
"""

from __future__ import annotations

from types import TracebackType

from shipyard.config import Settings
from shipyard.errors import ConflictError, NotFoundError
from shipyard.registry.artifacts import open_artifact_store
from shipyard.tracking.artifacts import RunArtifacts
from shipyard.tracking.store import TrackingStore
from shipyard.tracking.validation import is_experiment_id

__all__ = ["STALE_AFTER_MS", "Tracker"]

STALE_AFTER_MS = 120_000
"""A run with a heartbeat older than this is marked KILLED (its process died without a word)."""


class Tracker:
    """Everything tracking reads and writes, for one set of settings."""

    def __init__(self, store: TrackingStore, artifacts: RunArtifacts, settings: Settings) -> None:
        self.store = store
        self.artifacts = artifacts
        self.settings = settings

    @classmethod
    def from_settings(cls, settings: Settings) -> Tracker:
        blobs = open_artifact_store(settings.registry)
        store = TrackingStore.open(settings.registry.db_url, fast_commits=True)
        return cls(store, RunArtifacts(store, blobs), settings)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Tracker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def experiment_id(self, name_or_id: str, *, create: bool = False) -> str:
        """The id of experiment ``name_or_id`` (a name, or a numeric id); created on demand."""
        if is_experiment_id(name_or_id):
            return self.store.get_experiment(name_or_id).experiment_id
        try:
            return self.store.get_experiment_by_name(name_or_id).experiment_id
        except NotFoundError:
            if not create:
                raise
        try:
            return self.store.create_experiment(name_or_id)
        except ConflictError:  # created meanwhile by another process
            return self.store.get_experiment_by_name(name_or_id).experiment_id

    def reap_stale_runs(self) -> list[str]:
        return self.store.reap_stale_runs(STALE_AFTER_MS)
