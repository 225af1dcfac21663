"""One run's state while the scheduler drives it, and how one step runs: cache key, cache hit,
step folder, launch with retries and backoff, declared outputs stored content-addressed.

Each change of a step's state is recorded (``pipeline_step_runs``), shown (the observer: the
CLI's live table) and, once it is finished, logged to the tracked run (``tracked.py``).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shipyard.config import Settings
from shipyard.errors import PipelineDefinitionError
from shipyard.pipelines.artifacts import StoredArtifact, is_complete, materialize, store_folder
from shipyard.pipelines.cachekey import CacheInputs, cache_key
from shipyard.pipelines.events import RunObserver, StepEvent, StepStatus
from shipyard.pipelines.executors.base import Launcher
from shipyard.pipelines.graph import Node, PipelineGraph
from shipyard.pipelines.loader import LoadedPipeline
from shipyard.pipelines.options import RunOptions
from shipyard.pipelines.outcomes import StepOutcome
from shipyard.pipelines.run_store import PipelineRecords
from shipyard.pipelines.task import RESULT_FILE, Task, TaskInput, TaskOutput
from shipyard.pipelines.tracked import TrackedRun
from shipyard.registry.registry import Registry

__all__ = ["RUN_ID_ENV", "RunState"]

RUN_ID_ENV = "SHIPYARD_PIPELINE_RUN_ID"
"""The run id a step can read (the ``register`` step tags the model version with it)."""


def _registry_env(settings: Settings) -> dict[str, str]:
    env = {
        "SHIPYARD_HOME": str(settings.home),
        "SHIPYARD_DB_URL": settings.registry.db_url,
        "SHIPYARD_ARTIFACT_URL": settings.registry.artifact_url,
        "SHIPYARD_USER": settings.user,
    }
    if settings.registry.s3_endpoint_url:
        env["SHIPYARD_S3_ENDPOINT_URL"] = settings.registry.s3_endpoint_url
    return env


class RunState:
    """The state of one run while the scheduler drives it."""

    def __init__(
        self,
        loaded: LoadedPipeline,
        graph: PipelineGraph,
        settings: Settings,
        options: RunOptions,
        registry: Registry,
        launchers: Mapping[str, Launcher],
        observer: RunObserver | None,
    ) -> None:
        self.loaded, self.graph, self.settings, self.options = loaded, graph, settings, options
        self.store = registry.artifacts
        self.records = PipelineRecords(registry.metadata.engine)
        self.launchers = launchers
        self.observer = observer
        self.outcomes: dict[str, StepOutcome] = {n: StepOutcome(n, "pending") for n in graph.nodes}
        self.lock = threading.Lock()
        self.run_id = ""
        self.run_dir = Path()
        self.params: dict[str, Any] = {}
        self.staged: dict[str, StoredArtifact] = {}
        self.code: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self.tracked: TrackedRun | None = None

    # -- events ------------------------------------------------------------------------------

    def emit(self, outcome: StepOutcome, message: str = "") -> None:
        with self.lock:
            self.outcomes[outcome.node] = outcome
        self.records.update_step(
            self.run_id,
            outcome.node,
            status=outcome.status,
            attempts=outcome.attempts,
            duration_s=outcome.duration_s,
            cache_key=outcome.cache_key,
            outputs={k: v.to_dict() for k, v in outcome.outputs.items()} or None,
            error=outcome.error,
            log_path=outcome.log_path,
            **({"started_at": datetime.now(UTC)} if outcome.status == "running" else {}),
        )
        if self.tracked is not None:
            self.tracked.record(outcome)
        if self.observer is not None:
            self.observer(
                StepEvent(
                    node=outcome.node,
                    status=outcome.status,
                    attempt=outcome.attempts,
                    message=message or (outcome.error or ""),
                    duration_s=outcome.duration_s,
                    cache_key=outcome.cache_key,
                    log_path=outcome.log_path,
                )
            )

    def cancel(self) -> None:
        """Stop every running step (Ctrl-C): each launcher kills what it started."""
        for launcher in {id(x): x for x in self.launchers.values()}.values():
            launcher.cancel()

    def skip(self, node: str, cause: str) -> None:
        self.emit(StepOutcome(node, "skipped", error=f"skipped: {cause!r} failed"))

    # -- one step ----------------------------------------------------------------------------

    def inputs_of(self, node: Node) -> tuple[dict[str, StoredArtifact], dict[str, Any]]:
        artifacts: dict[str, StoredArtifact] = {}
        values: dict[str, Any] = {}
        for name, binding in node.bindings.items():
            if binding.source_type == "output":
                artifacts[name] = self.outcomes[binding.source].outputs[binding.output]
            elif binding.source_type == "param":
                if binding.source in self.staged:
                    artifacts[name] = self.staged[binding.source]
                else:
                    values[name] = self.params[binding.source]
            else:
                values[name] = binding.value
        return artifacts, values

    def key_of(self, node: Node) -> str:
        artifacts, values = self.inputs_of(node)
        return cache_key(
            CacheInputs(
                code=self.code[node.id],
                environment=self.env[node.id],
                inputs={k: a.digest for k, a in artifacts.items()},
                values=values,
                env=node.step.env,
                outputs=tuple((o.name, o.kind) for o in node.step.outputs),
            )
        )

    def uses_cache(self, node: Node) -> bool:
        return (
            node.step.cache
            and not self.options.no_cache
            and node.id not in self.options.no_cache_steps
            and node.step.name not in self.options.no_cache_steps
        )

    def cached(self, key: str) -> dict[str, StoredArtifact] | None:
        entry = self.records.cache_get(key)
        if entry is None:
            return None
        outputs = {k: StoredArtifact.from_dict(v) for k, v in entry.items()}
        if not all(is_complete(self.store, a) for a in outputs.values()):
            return None  # blobs were deleted: run the step again
        return outputs

    def prepare_folder(self, node: Node, launcher: Launcher) -> Path:
        folder = self.run_dir / node.id
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        artifacts, values = self.inputs_of(node)
        task_inputs = []
        for name, artifact in artifacts.items():
            materialize(self.store, artifact, folder / "in" / name)
            task_inputs.append(TaskInput(name, artifact.kind, f"in/{name}"))
        Task(
            source=launcher.task_source(self.loaded.file, self.loaded.project),
            pipeline=self.graph.name,
            node=node.id,
            inputs=tuple(task_inputs),
            values=values,
            outputs=tuple(TaskOutput(o.name, o.kind) for o in node.step.outputs),
        ).write(folder)
        (folder / "out").mkdir()
        (folder / "work").mkdir()
        return folder

    def collect(self, node: Node, folder: Path) -> dict[str, StoredArtifact]:
        outputs = {}
        for spec in node.step.outputs:
            out = folder / "out" / spec.name
            if not out.is_dir():
                raise PipelineDefinitionError(
                    f"step {node.id!r} wrote no declared output {spec.name!r}: it must return "
                    "a value for every output its annotation declares"
                )
            outputs[spec.name] = store_folder(self.store, out, spec.kind)
        return outputs

    def run_node(self, node_id: str) -> bool:
        node = self.graph.nodes[node_id]
        key = self.key_of(node)
        if self.uses_cache(node) and (hit := self.cached(key)) is not None:
            self.emit(StepOutcome(node_id, "cached", cache_key=key, outputs=hit))
            return True
        launcher = self.launchers[node_id]
        log_path = self.run_dir / f"{node_id}.log"
        resources = node.step.resources
        env = {RUN_ID_ENV: self.run_id, "SHIPYARD_PIPELINE_NAME": self.graph.name}
        if node.step.runs_on == "driver":
            env.update(_registry_env(self.settings))
        if self.tracked is not None:
            with self.lock:
                finished = dict(self.outcomes)
            env.update(self.tracked.env_for(node_id, finished))
        started = time.monotonic()
        error = ""
        for attempt in range(1, resources.retries + 2):
            status: StepStatus = "running" if attempt == 1 else "retrying"
            self.emit(StepOutcome(node_id, status, attempt, cache_key=key, log_path=str(log_path)))
            with log_path.open("a") as log:
                log.write(f"[shipyard] {node_id} attempt {attempt} at {datetime.now(UTC)}\n")
            folder = self.prepare_folder(node, launcher)
            result = launcher.launch(node, folder, self.loaded.project, log_path, env)
            if result.ok:
                try:
                    outputs = self.collect(node, folder)
                except PipelineDefinitionError as exc:
                    error = str(exc)
                else:
                    if node.step.cache:  # --no-cache skips reading the index, not refreshing it
                        self.records.cache_put(
                            key,
                            node.step.name,
                            {k: v.to_dict() for k, v in outputs.items()},
                            self.run_id,
                        )
                    duration = time.monotonic() - started
                    self.emit(
                        StepOutcome(
                            node_id,
                            "succeeded",
                            attempt,
                            duration,
                            key,
                            outputs,
                            log_path=str(log_path),
                        )
                    )
                    return True
            else:
                error = _failure(folder, result.timed_out, result.exit_code, resources.timeout_s)
            if result.interrupted:
                error = "interrupted: the run was stopped (Ctrl-C) while this step ran"
                break
            if attempt <= resources.retries:
                time.sleep(resources.retry_backoff_s * 2 ** (attempt - 1))
        duration = time.monotonic() - started
        self.emit(
            StepOutcome(
                node_id,
                "failed",
                attempt,
                duration,
                key,
                error=error,
                log_path=str(log_path),
            )
        )
        return False


def _failure(folder: Path, timed_out: bool, code: int | None, timeout: float | None) -> str:
    if timed_out:
        return f"killed after its timeout of {timeout} s"
    try:
        reported = json.loads((folder / RESULT_FILE).read_text()).get("error")
    except (OSError, ValueError):
        reported = None
    return str(reported) if reported else f"the step process exited with code {code}"
