"""Run a pipeline on an executor: check everything, then run each step once, cached by content.

Before anything runs: the graph is validated (cycle, missing input, type mismatch), parameters
are resolved, the executor is opened (an unknown executor or an unreachable engine stops here)
and every node's environment is prepared. Then the scheduler runs the DAG; for each step the
runner computes the cache key from content, reuses the outputs of a hit, or runs the step with
retries and backoff, checks it wrote every declared output and stores them content-addressed.

    >>> summary = run_pipeline(load_pipeline("pipe.py"), settings, RunOptions(parallel=2))
    >>> summary.executed, summary.cached
    (0, 5)
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shipyard.config import Settings
from shipyard.errors import ConfigError, PipelineDefinitionError
from shipyard.pipelines.artifacts import (
    StoredArtifact,
    is_complete,
    materialize,
    store_folder,
    store_path,
)
from shipyard.pipelines.cachekey import CacheInputs, cache_key, canonical_json
from shipyard.pipelines.codedigest import code_digest
from shipyard.pipelines.events import DONE, FINISHED, RunObserver, StepEvent, StepStatus
from shipyard.pipelines.executors.base import EXECUTORS, Launcher
from shipyard.pipelines.executors.local import LocalLauncher
from shipyard.pipelines.graph import Node, PipelineGraph
from shipyard.pipelines.loader import LoadedPipeline
from shipyard.pipelines.params import jsonable_params, resolve_params
from shipyard.pipelines.records import PipelineRecords, RunRecord
from shipyard.pipelines.scheduler import schedule
from shipyard.pipelines.task import RESULT_FILE, Task, TaskInput, TaskOutput
from shipyard.registry.registry import Registry

__all__ = ["RunOptions", "RunSummary", "StepOutcome", "open_launcher", "run_pipeline"]

RUN_ID_ENV = "SHIPYARD_PIPELINE_RUN_ID"
"""The run id a step can read (the ``register`` step tags the model version with it)."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: executor, parameter overrides, cache switches, parallelism, resume."""

    executor: str = "local"
    params: Mapping[str, Any] = field(default_factory=dict)
    no_cache: bool = False
    no_cache_steps: frozenset[str] = frozenset()
    parallel: int = 1
    resume: str | None = None
    base_image: str | None = None
    build_cache: Path | None = None
    """Where downloaded wheels are kept (default ``$SHIPYARD_HOME/cache/build``)."""


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """How one step of the run ended."""

    node: str
    status: StepStatus
    attempts: int = 0
    duration_s: float | None = None
    cache_key: str | None = None
    outputs: Mapping[str, StoredArtifact] = field(default_factory=dict)
    error: str | None = None
    log_path: str | None = None
    resumed: bool = False
    """Finished by the run being resumed: kept, not run again."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "status": self.status,
            "resumed": self.resumed,
            "attempts": self.attempts,
            "duration_s": self.duration_s,
            "cache_key": self.cache_key,
            "outputs": {k: v.digest for k, v in self.outputs.items()},
            "error": self.error,
            "log_path": self.log_path,
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The run: its id, status and every step's outcome in graph order."""

    run_id: str
    pipeline: str
    executor: str
    status: str
    steps: tuple[StepOutcome, ...]

    @property
    def executed(self) -> int:
        return sum(1 for s in self.steps if s.status == "succeeded" and not s.resumed)

    @property
    def cached(self) -> int:
        return sum(1 for s in self.steps if s.status == "cached")

    def step(self, node: str) -> StepOutcome:
        return next(s for s in self.steps if s.node == node)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "executor": self.executor,
            "status": self.status,
            "executed": self.executed,
            "cached": self.cached,
            "steps": [s.to_dict() for s in self.steps],
        }


def open_launcher(name: str, settings: Settings, options: RunOptions) -> Launcher:
    """The launcher of executor ``name``; connects to its engine now (fails fast)."""
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor {name!r}: use one of {', '.join(EXECUTORS)}")
    if name == "docker":
        from shipyard.pipelines.executors.docker import DockerLauncher

        cache_dir = options.build_cache or settings.home / "cache" / "build"
        return DockerLauncher.connect(base_image=options.base_image, cache_dir=cache_dir)
    if name == "kubernetes":
        raise ConfigError("the kubernetes executor has no per-step launcher: use run_on_kubernetes")
    return LocalLauncher()


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


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


class _Run:
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
            if attempt <= resources.retries:
                time.sleep(resources.retry_backoff_s * 2 ** (attempt - 1))
        duration = time.monotonic() - started
        self.emit(
            StepOutcome(
                node_id,
                "failed",
                resources.retries + 1,
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


def run_pipeline(
    loaded: LoadedPipeline,
    settings: Settings,
    options: RunOptions | None = None,
    *,
    observer: RunObserver | None = None,
    on_line: Callable[[str], None] | None = None,
) -> RunSummary:
    """Run ``loaded``'s pipeline (or resume ``options.resume``) and return its summary."""
    options = options or RunOptions()
    if options.parallel < 1:
        raise ConfigError(f"--parallel {options.parallel} must be 1 or more")
    graph = loaded.pipeline.graph()
    if options.executor == "kubernetes":
        return run_on_kubernetes(loaded, options, observer=observer)
    launcher = open_launcher(options.executor, settings, options)
    local = launcher if isinstance(launcher, LocalLauncher) else LocalLauncher()
    say = on_line or (lambda _line: None)
    try:
        with Registry.from_settings(settings) as registry:
            records = PipelineRecords(registry.metadata.engine)
            previous = records.get_run(options.resume) if options.resume else None
            given = dict(previous.params) if previous is not None else dict(options.params)
            if previous is not None and previous.pipeline != graph.name:
                raise ConfigError(
                    f"run {previous.id} is of pipeline {previous.pipeline!r}, not {graph.name!r}"
                )
            launchers = {
                n.id: local if n.step.runs_on == "driver" else launcher
                for n in graph.nodes.values()
            }
            run = _Run(loaded, graph, settings, options, registry, launchers, observer)
            run.params = resolve_params(graph.parameters, given, loaded.project)
            _check_constants(graph)
            requirements = loaded.pipeline.requirements
            env = dict(launcher.prepare(graph, requirements, say))
            driver_nodes = [n for n in graph.nodes.values() if n.step.runs_on == "driver"]
            if driver_nodes and launcher is not local:
                driver_graph = replace(graph, nodes={n.id: n for n in driver_nodes})
                env.update(local.prepare(driver_graph, requirements, say))
            run.env = env
            run.code = {
                n.id: code_digest(n.step.func, loaded.project) for n in graph.nodes.values()
            }
            for name, parameter in graph.parameters.items():
                if parameter.is_path:
                    run.staged[name] = store_path(
                        registry.artifacts, run.params[name], parameter.kind
                    )
            return _drive(run, records, previous, options)
    finally:
        launcher.close()


def run_on_kubernetes(
    loaded: LoadedPipeline, options: RunOptions, *, observer: RunObserver | None = None
) -> RunSummary:
    """Render the Jobs and let the kubectl driver run them in order (no cache on a cluster)."""
    from shipyard.pipelines.executors.kubernetes import KubernetesDriver
    from shipyard.pipelines.export import ExportOptions, plan_export, render_jobs

    driver = KubernetesDriver.connect()
    run_id = new_run_id()
    export = ExportOptions(base_image=options.base_image, run_id=run_id)
    plan = plan_export(loaded, export)

    def on_status(node: str, state: str) -> None:
        if observer is not None:
            status: StepStatus = state if state in FINISHED | {"running"} else "failed"  # type: ignore[assignment]
            observer(StepEvent(node=node, status=status))

    states = driver.run(render_jobs(plan), namespace=export.namespace, on_status=on_status)
    steps = tuple(
        StepOutcome(n, "succeeded" if states.get(n.replace("_", "-")) == "succeeded" else "failed")
        for n in loaded.pipeline.graph().order()
    )
    final = "succeeded" if all(s.status == "succeeded" for s in steps) else "failed"
    return RunSummary(run_id, plan.pipeline, "kubernetes", final, steps)


def _check_constants(graph: PipelineGraph) -> None:
    for node in graph.nodes.values():
        for name, binding in node.bindings.items():
            if binding.source_type == "constant":
                try:
                    canonical_json(binding.value)
                except TypeError as exc:
                    raise PipelineDefinitionError(
                        f"step {node.id!r} input {name!r}: {exc}"
                    ) from None


def _drive(
    run: _Run, records: PipelineRecords, previous: RunRecord | None, options: RunOptions
) -> RunSummary:
    graph = run.graph
    done: set[str] = set()
    if previous is not None:
        run.run_id = previous.id
        records.set_run_status(run.run_id, "running", finished=False)
        for record in previous.steps:
            if record.status in DONE and record.outputs is not None and record.node in graph.nodes:
                outputs = {k: StoredArtifact.from_dict(v) for k, v in record.outputs.items()}
                if all(is_complete(run.store, a) for a in outputs.values()):
                    status: StepStatus = "cached" if record.status == "cached" else "succeeded"
                    run.outcomes[record.node] = StepOutcome(
                        record.node,
                        status,
                        record.attempts,
                        record.duration_s,
                        record.cache_key,
                        outputs,
                        log_path=record.log_path,
                        resumed=True,
                    )
                    done.add(record.node)
    else:
        run.run_id = new_run_id()
        records.create_run(
            run.run_id,
            graph.name,
            str(run.loaded.file),
            options.executor,
            jsonable_params(run.params),
            run.settings.user,
            [(n.id, n.step.name) for n in graph.nodes.values()],
        )
    run.run_dir = run.settings.home / "pipelines" / "runs" / run.run_id
    run.run_dir.mkdir(parents=True, exist_ok=True)
    upstream = {n.id: n.upstream() for n in graph.nodes.values()}
    final = "failed"
    try:
        results = schedule(
            graph.order(),
            upstream,
            run.run_node,
            parallel=options.parallel,
            on_skip=run.skip,
            done=done,
        )
        final = "succeeded" if all(results.values()) else "failed"
    finally:
        records.set_run_status(run.run_id, final, finished=True)
    steps = tuple(run.outcomes[n] for n in graph.order())
    return RunSummary(run.run_id, graph.name, options.executor, final, steps)
