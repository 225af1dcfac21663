"""``start_run``: a tracked training run as a context manager.

    >>> with shipyard.start_run(experiment="churn", params={"depth": 5}) as run:
    ...     run.log_metric("auc", 0.91, step=3)
    ...     shipyard.save_model(clf, "churn")      # linked to the run: run -> model version

The run ends FINISHED when the block completes, FAILED (with the error in the
``shipyard.error`` tag) when it raises, and KILLED on Ctrl-C or SIGTERM. A background thread
records a heartbeat; a run whose process vanished (SIGKILL, power loss) is marked KILLED once its
heartbeat is older than ``STALE_AFTER_MS``, so no run stays RUNNING for ever.
``start_run(run_id=...)`` continues an existing run (as ``mlflow.start_run(run_id=...)`` does):
it is RUNNING again until the block ends.
"""

from __future__ import annotations

import signal
import threading
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from types import FrameType
from typing import Any

from shipyard.config import Settings
from shipyard.tracking.entities import Metric, Run, RunStatus, now_ms
from shipyard.tracking.environment import capture_environment, environment_tags
from shipyard.tracking.tracker import Tracker
from shipyard.tracking.validation import MAX_TAG_VALUE_LENGTH, validate_metric

__all__ = ["HEARTBEAT_INTERVAL_S", "ActiveRun", "active_run", "start_run"]

HEARTBEAT_INTERVAL_S = 15.0
_ACTIVE: ContextVar[ActiveRun | None] = ContextVar("shipyard_active_run", default=None)


def active_run() -> ActiveRun | None:
    """The run of the innermost ``start_run`` block in this context, if any."""
    return _ACTIVE.get()


class ActiveRun:
    """A run being logged to; use it through ``start_run``."""

    def __init__(self, tracker: Tracker, run: Run, dataset_digest: str | None) -> None:
        self._tracker = tracker
        self.run_id = run.run_id
        self.info = run.info
        self.dataset_digest = dataset_digest
        self._steps: dict[str, int] = {}
        self.is_open = True

    @property
    def id(self) -> str:
        return self.run_id

    @property
    def experiment_id(self) -> str:
        return self.info.experiment_id

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Log one value; ``step`` defaults to one past the last step logged for ``key``."""
        self.log_metrics({key: value}, step=step, timestamp=timestamp)

    def log_metrics(
        self, metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
    ) -> None:
        at = timestamp if timestamp is not None else now_ms()
        batch: list[Metric] = []
        for key, value in metrics.items():
            this_step = step if step is not None else self._steps.get(key, -1) + 1
            batch.append(validate_metric(key, value, at, this_step))
            self._steps[key] = max(this_step, self._steps.get(key, this_step))
        self._tracker.store.log_batch(self.run_id, metrics=batch)

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log parameters; logging one again with another value raises (they are immutable)."""
        self._tracker.store.log_batch(
            self.run_id, params={key: str(value) for key, value in params.items()}
        )

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self._tracker.store.log_batch(
            self.run_id, tags={key: str(value) for key, value in tags.items()}
        )

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> list[str]:
        """Store a file (or a folder's files) with the run; returns the artifact paths."""
        return self._tracker.artifacts.log_file(self.info, Path(path), artifact_path)

    def log_artifact_refs(
        self, files: Sequence[tuple[str, str, int]], artifact_path: str
    ) -> list[str]:
        """Record files already in the artifact store, ``(path, sha256, size)``, as artifacts
        under ``artifact_path`` without copying them (pipeline step outputs)."""
        return self._tracker.artifacts.link_files(self.info, artifact_path, files)

    def link_model(self, name: str, version: int) -> None:
        """Record that version ``version`` of model ``name`` came from this run."""
        self._tracker.store.link_model(self.run_id, name, version, self.dataset_digest)

    def get(self) -> Run:
        """The run as stored now (params, tags, latest metrics); works after the block too."""
        if self.is_open:
            return self._tracker.store.get_run(self.run_id)
        with Tracker.from_settings(self._tracker.settings) as tracker:
            return tracker.store.get_run(self.run_id)

    def end(self, status: RunStatus = RunStatus.FINISHED) -> None:
        self._tracker.store.update_run(self.run_id, status=status)


class _Heartbeat(threading.Thread):
    def __init__(self, tracker: Tracker, run_id: str, interval_s: float) -> None:
        super().__init__(name=f"shipyard-heartbeat-{run_id[:8]}", daemon=True)
        self._tracker = tracker
        self._run_id = run_id
        self._interval = interval_s
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self._interval):
            try:
                self._tracker.store.heartbeat(self._run_id)
            except Exception:  # noqa: S112 - a missed beat is retried; the run must go on
                continue


def _raise_killed(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def _sigterm_ends_run() -> Iterator[None]:
    """Within the main thread, turn SIGTERM into SystemExit so the run is marked KILLED."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_killed)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _error_text(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text[-MAX_TAG_VALUE_LENGTH:]


def _reopen(
    tracker: Tracker, run_id: str, params: Mapping[str, Any], tags: Mapping[str, str]
) -> Run:
    """Run ``run_id`` RUNNING again, with a fresh heartbeat, once ``params`` and ``tags`` are
    logged to it (a deleted run or a changed param raises before anything changes)."""
    tracker.store.log_batch(
        run_id, params={key: str(value) for key, value in params.items()}, tags=tags
    )
    reopened = tracker.store.update_run(run_id, status=RunStatus.RUNNING)
    tracker.store.heartbeat(run_id)
    return reopened


@contextmanager
def start_run(
    experiment: str = "Default",
    *,
    run_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    dataset_digest: str | None = None,
    settings: Settings | None = None,
    heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S,
    run_id: str | None = None,
    environment: Mapping[str, Any] | None = None,
) -> Iterator[ActiveRun]:
    """Start a run in ``experiment`` (created when new) and end it when the block ends.

    ``run_id`` continues that run instead (``experiment`` and ``run_name`` are then ignored).
    ``environment`` is recorded instead of this process's (``capture_environment``)."""
    settings = settings or Settings.from_env()
    with Tracker.from_settings(settings) as tracker:
        tracker.reap_stale_runs()
        extra_tags = {key: str(value) for key, value in (tags or {}).items()}
        if dataset_digest:
            extra_tags["shipyard.dataset_digest"] = dataset_digest
        if run_id is not None:
            created = _reopen(tracker, run_id, params or {}, extra_tags)
            params = None
        else:
            experiment_id = tracker.experiment_id(experiment, create=True)
            recorded = dict(environment) if environment is not None else capture_environment()
            created = tracker.store.create_run(
                experiment_id,
                user_id=settings.user,
                run_name=run_name,
                tags={**environment_tags(recorded, settings.user), **extra_tags},
                heartbeat=True,
                environment=recorded,
            )
        run = ActiveRun(tracker, created, dataset_digest)
        if params:
            run.log_params(params)
        beat = _Heartbeat(tracker, run.run_id, heartbeat_interval_s)
        beat.start()
        token = _ACTIVE.set(run)
        try:
            with _sigterm_ends_run():
                yield run
        except SystemExit as exc:
            if exc.code in (0, None):
                run.end(RunStatus.FINISHED)
                raise
            run.set_tags({"shipyard.end_reason": f"SystemExit({exc.code})"})
            run.end(RunStatus.KILLED)
            raise
        except KeyboardInterrupt as exc:
            run.set_tags({"shipyard.end_reason": _error_text(exc) or type(exc).__name__})
            run.end(RunStatus.KILLED)
            raise
        except BaseException as exc:
            run.set_tags({"shipyard.error": _error_text(exc)})
            run.end(RunStatus.FAILED)
            raise
        else:
            run.end(RunStatus.FINISHED)
        finally:
            run.is_open = False
            _ACTIVE.reset(token)
            beat.stopped.set()
            beat.join(timeout=heartbeat_interval_s + 5)
