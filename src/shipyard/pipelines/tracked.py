"""Each pipeline run is a tracked run of the tracking stage (``shipyard runs show ID``).

    pipeline run ──► start_run(experiment=<pipeline>) ──► params, per-step metrics and tags,
                     the figures steps output, artifact references, the dataset digest
    register step ──► save_model(run=<tracked run>) ──► dataset digest → run → model version

What a user searches by (``shipyard runs list --filter ...``):

- params: every pipeline parameter (a file or folder one as its path, plus ``<name>.digest``);
- metrics: ``step.<node>.seconds``, ``step.<node>.cached`` (1 or 0), ``step.<node>.attempts``,
  ``pipeline.executed``, ``pipeline.cached``, ``pipeline.seconds``, and every number of a step
  output annotated ``Metrics`` under its own key (``auc``);
- tags: ``shipyard.pipeline``, ``shipyard.pipeline_run``, ``shipyard.executor``,
  ``step.<node>.status``, ``step.<node>.cache_key``, ``step.<node>.output.<name>`` (the output's
  content digest), ``step.<node>.error``, ``shipyard.dataset_digest``, and ``shipyard.error``
  when the run failed;
- artifacts: ``steps/<node>/<output>/<file>``, references to the blobs the steps wrote in the
  registry's artifact store (the same content-addressed blobs: nothing is copied).

The **dataset digest** is the content digest of the data that entered the pipeline: the file and
folder parameters and the data outputs (DataFrame, array, file, folder) of the steps that read no
other step; one such artifact gives its own digest, several the sha256 of their canonical JSON.
The ``register`` step gets the digest of what its model came from, and the tracked run's id, in
its environment (``SHIPYARD_DATASET_DIGEST``, ``SHIPYARD_TRACKING_RUN_ID``).

``--resume`` continues the same tracked run (RUNNING again; the steps run now add their metrics).
When that run is gone or deleted, or an input file changed since (params are immutable), a new
tracked run is linked instead, tagged ``shipyard.resumed_from``.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.config import Settings
from shipyard.errors import InvalidInputError, NotFoundError, PipelineRunError
from shipyard.pipelines.artifacts import StoredArtifact
from shipyard.pipelines.cachekey import canonical_json
from shipyard.pipelines.events import DONE, FINISHED
from shipyard.pipelines.graph import PipelineGraph
from shipyard.pipelines.kinds import Metrics
from shipyard.pipelines.outcomes import StepOutcome
from shipyard.registry.artifacts import ArtifactStore, LocalArtifactStore
from shipyard.tracking.environment import capture_environment
from shipyard.tracking.run import ActiveRun, start_run
from shipyard.tracking.validation import (
    MAX_METRICS_PER_BATCH,
    MAX_TAG_VALUE_LENGTH,
    is_valid_key,
)

__all__ = [
    "DATASET_DIGEST_ENV",
    "TRACKING_RUN_ENV",
    "StepsFailed",
    "TrackedRun",
    "TrackedRunSpec",
    "dataset_digest",
    "track_pipeline_run",
]

TRACKING_RUN_ENV = "SHIPYARD_TRACKING_RUN_ID"
DATASET_DIGEST_ENV = "SHIPYARD_DATASET_DIGEST"
DATA_KINDS = frozenset({"dataframe", "ndarray", "file", "folder"})


class StepsFailed(PipelineRunError):
    """Raised inside the tracked run's block when a step failed: the run ends FAILED with it."""


@dataclass(frozen=True, slots=True)
class TrackedRunSpec:
    """What the tracked run is of: the pipeline run, its file, executor and parameters."""

    pipeline: str
    run_id: str
    source: Path
    executor: str
    params: Mapping[str, Any]
    staged: Mapping[str, StoredArtifact] = field(default_factory=dict)
    requirements: tuple[str, ...] = ()
    experiment: str | None = None
    continue_run: str | None = None
    """The tracked run of the run being resumed, if any."""


def _param_text(value: Any) -> str:
    return value if isinstance(value, str) else canonical_json(value)


def _package_names(requirements: Iterable[str]) -> list[str]:
    from packaging.requirements import InvalidRequirement, Requirement

    names = {"shipyard"}
    for line in requirements:
        try:
            names.add(Requirement(line).name)
        except InvalidRequirement:
            continue
    return sorted(names)


def _sources(
    graph: PipelineGraph,
    outcomes: Mapping[str, StepOutcome],
    staged: Mapping[str, StoredArtifact],
    nodes: Iterable[str],
) -> dict[str, str]:
    found: dict[str, str] = {}
    for node_id in nodes:
        node = graph.nodes[node_id]
        for binding in node.bindings.values():
            if binding.source_type == "param" and binding.source in staged:
                found[f"params.{binding.source}"] = staged[binding.source].digest
        if node.upstream():
            continue
        outputs = outcomes[node_id].outputs if node_id in outcomes else {}
        for spec in node.step.outputs:
            if spec.kind in DATA_KINDS and spec.name in outputs:
                found[f"{node_id}.{spec.name}"] = outputs[spec.name].digest
    return found


def dataset_digest(
    graph: PipelineGraph,
    outcomes: Mapping[str, StepOutcome],
    staged: Mapping[str, StoredArtifact],
    nodes: Iterable[str] | None = None,
) -> str | None:
    """The digest of the data that entered ``nodes`` (default: the whole pipeline), if known."""
    sources = _sources(graph, outcomes, staged, graph.nodes if nodes is None else nodes)
    if not sources:
        return None
    if len(sources) == 1:
        return next(iter(sources.values()))
    return hashlib.sha256(canonical_json(sources).encode()).hexdigest()


def _read_json(store: ArtifactStore, artifact: StoredArtifact) -> Any:
    file = next((f for f in artifact.files if f.path == "value.json"), None)
    if file is None:
        return None
    if isinstance(store, LocalArtifactStore):
        return json.loads(store.path_of(file.sha256).read_text())
    with tempfile.TemporaryDirectory(prefix="shipyard-metrics-") as tmp:
        target = Path(tmp) / "value.json"
        store.get(file.sha256, target)
        return json.loads(target.read_text())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class TrackedRun:
    """The tracked run of one pipeline run; ``record`` is called as each step finishes."""

    def __init__(
        self,
        active: ActiveRun,
        graph: PipelineGraph,
        store: ArtifactStore,
        staged: Mapping[str, StoredArtifact],
        *,
        continued: bool,
    ) -> None:
        self.active = active
        self.graph = graph
        self.store = store
        self.staged = staged
        self.continued = continued
        self.started = time.monotonic()
        self._lock = threading.Lock()

    @property
    def run_id(self) -> str:
        return self.active.run_id

    def env_for(self, node_id: str, outcomes: Mapping[str, StepOutcome]) -> dict[str, str]:
        """The variables a step gets: the tracked run and the digest of the data it came from."""
        env = {TRACKING_RUN_ENV: self.run_id}
        came_from = {node_id} | self.graph.upstream_of(node_id)
        digest = dataset_digest(self.graph, outcomes, self.staged, came_from)
        if digest is not None:
            env[DATASET_DIGEST_ENV] = digest
        return env

    def step_metrics(self, outcome: StepOutcome) -> tuple[dict[str, float], list[str]]:
        """The numbers of the step's ``Metrics`` outputs, and the keys that cannot be logged."""
        node = self.graph.nodes[outcome.node]
        figures: dict[str, float] = {}
        refused: list[str] = []
        for spec in node.step.outputs:
            if spec.annotation != Metrics or spec.name not in outcome.outputs:
                continue
            value = _read_json(self.store, outcome.outputs[spec.name])
            if not isinstance(value, dict):
                continue
            for key, number in value.items():
                if _is_number(number) and is_valid_key(key):
                    figures[key] = float(number)
                else:
                    refused.append(str(key))
        return figures, refused

    def record(self, outcome: StepOutcome) -> None:
        """Log how a finished step ended: seconds, cache hit, status, outputs, its figures."""
        if outcome.status not in FINISHED:
            return
        prefix = f"step.{outcome.node}"
        tags: dict[str, str] = {f"{prefix}.status": outcome.status}
        metrics: dict[str, float] = {}
        if outcome.status != "skipped":
            metrics[f"{prefix}.cached"] = 1.0 if outcome.status == "cached" else 0.0
        if outcome.status == "cached":
            metrics[f"{prefix}.seconds"] = 0.0  # it did not run
        elif outcome.duration_s is not None:
            metrics[f"{prefix}.seconds"] = outcome.duration_s
        if outcome.attempts:
            metrics[f"{prefix}.attempts"] = float(outcome.attempts)
        if outcome.cache_key:
            tags[f"{prefix}.cache_key"] = outcome.cache_key
        if outcome.error:
            tags[f"{prefix}.error"] = outcome.error[-MAX_TAG_VALUE_LENGTH:]
        files: list[tuple[str, str, int]] = []
        for name, artifact in outcome.outputs.items():
            tags[f"{prefix}.output.{name}"] = artifact.digest
            files.extend((f"{name}/{f.path}", f.sha256, f.size) for f in artifact.files)
        if outcome.status in DONE:
            figures, refused = self.step_metrics(outcome)
            metrics.update(figures)
            if refused:
                tags[f"{prefix}.metrics_not_logged"] = ", ".join(refused)[:MAX_TAG_VALUE_LENGTH]
        items = list(metrics.items())
        with self._lock:
            for start in range(0, len(items), MAX_METRICS_PER_BATCH):  # MLflow's batch limit
                self.active.log_metrics(dict(items[start : start + MAX_METRICS_PER_BATCH]))
            self.active.set_tags(tags)
            self.active.log_artifact_refs(files, f"steps/{outcome.node}")

    def finish(self, outcomes: Mapping[str, StepOutcome]) -> None:
        """Log the run's totals and its dataset digest; raise ``StepsFailed`` when a step failed
        (inside the tracked run's block, so the run ends FAILED with the error)."""
        steps = [outcomes[n] for n in self.graph.order()]
        metrics = {
            "pipeline.executed": float(
                sum(s.status == "succeeded" and not s.resumed for s in steps)
            ),
            "pipeline.cached": float(sum(s.status == "cached" for s in steps)),
            "pipeline.seconds": time.monotonic() - self.started,
        }
        tags: dict[str, str] = {}
        digest = dataset_digest(self.graph, outcomes, self.staged)
        if digest is not None:
            tags["shipyard.dataset_digest"] = digest
        with self._lock:
            self.active.log_metrics(metrics)
            if tags:
                self.active.set_tags(tags)
        failed = [s for s in steps if s.status == "failed"]
        if failed:
            skipped = [s.node for s in steps if s.status == "skipped"]
            text = f"step {failed[0].node!r} failed: {failed[0].error}"
            if skipped:
                text += f" (skipped: {', '.join(skipped)})"
            raise StepsFailed(text)


@contextmanager
def track_pipeline_run(
    spec: TrackedRunSpec, graph: PipelineGraph, store: ArtifactStore, settings: Settings
) -> Iterator[TrackedRun]:
    """The tracked run of ``spec``'s pipeline run, open for the block (FAILED if it raises)."""
    params = {name: _param_text(value) for name, value in spec.params.items()}
    params.update({f"{name}.digest": artifact.digest for name, artifact in spec.staged.items()})
    tags = {
        "shipyard.pipeline": spec.pipeline,
        "shipyard.pipeline_run": spec.run_id,
        "shipyard.executor": spec.executor,
    }
    with ExitStack() as stack:
        active: ActiveRun | None = None
        if spec.continue_run is not None:
            try:
                active = stack.enter_context(
                    start_run(run_id=spec.continue_run, params=params, tags=tags, settings=settings)
                )
            except (NotFoundError, InvalidInputError):
                tags["shipyard.resumed_from"] = spec.continue_run
        continued = active is not None
        if active is None:
            environment = capture_environment(spec.source, _package_names(spec.requirements))
            active = stack.enter_context(
                start_run(
                    spec.experiment or spec.pipeline,
                    run_name=f"{spec.pipeline} {spec.run_id}",
                    params=params,
                    tags=tags,
                    settings=settings,
                    environment=environment,
                )
            )
        yield TrackedRun(active, graph, store, spec.staged, continued=continued)
