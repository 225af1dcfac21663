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

import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from shipyard.config import Settings
from shipyard.errors import ConfigError, PipelineDefinitionError
from shipyard.pipelines.artifacts import StoredArtifact, is_complete, store_path
from shipyard.pipelines.cachekey import canonical_json
from shipyard.pipelines.codedigest import code_digest
from shipyard.pipelines.events import DONE, FINISHED, RunObserver, StepEvent, StepStatus
from shipyard.pipelines.execution import RUN_ID_ENV, RunState
from shipyard.pipelines.executors.base import EXECUTORS, Launcher
from shipyard.pipelines.executors.local import LocalLauncher
from shipyard.pipelines.graph import PipelineGraph
from shipyard.pipelines.loader import LoadedPipeline
from shipyard.pipelines.options import RunOptions
from shipyard.pipelines.outcomes import RunSummary, StepOutcome
from shipyard.pipelines.params import jsonable_params, resolve_params
from shipyard.pipelines.run_store import PipelineRecords, RunRecord
from shipyard.pipelines.scheduler import schedule
from shipyard.pipelines.tracked import StepsFailed, TrackedRunSpec, track_pipeline_run
from shipyard.registry.registry import Registry

__all__ = [
    "RUN_ID_ENV",
    "RunOptions",
    "RunSummary",
    "StepOutcome",
    "open_launcher",
    "run_pipeline",
]


def open_launcher(name: str, settings: Settings, options: RunOptions) -> Launcher:
    """The launcher of executor ``name``; connects to its engine now (fails fast)."""
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor {name!r}: use one of {', '.join(EXECUTORS)}")
    if name == "docker":
        from shipyard.pipelines.executors.docker import DockerLauncher

        cache_dir = options.build_cache or settings.wheel_cache
        return DockerLauncher.connect(base_image=options.base_image, cache_dir=cache_dir)
    if name == "kubernetes":
        raise ConfigError("the kubernetes executor has no per-step launcher: use run_on_kubernetes")
    return LocalLauncher()


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


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
            run = RunState(loaded, graph, settings, options, registry, launchers, observer)
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
    from shipyard.pipelines.executors.kubernetes import KubernetesJobs
    from shipyard.pipelines.export import ExportOptions, plan_export, render_jobs

    jobs = KubernetesJobs.connect(context=options.kube_context, namespace=options.namespace)
    run_id = new_run_id()
    export = ExportOptions(
        image_registry=options.image_registry,
        namespace=options.namespace,
        base_image=options.base_image,
        run_id=run_id,
    )
    plan = plan_export(loaded, export)

    def on_status(node: str, state: str) -> None:
        if observer is not None:
            status: StepStatus = state if state in FINISHED | {"running"} else "failed"  # type: ignore[assignment]
            observer(StepEvent(node=node, status=status))

    states = jobs.run(render_jobs(plan), on_status=on_status)
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


def _resume(run: RunState, records: PipelineRecords, previous: RunRecord) -> set[str]:
    """Reopen run ``previous``: its finished steps (outputs still stored) are kept, not rerun."""
    run.run_id = previous.id
    records.set_run_status(run.run_id, "running", finished=False)
    done: set[str] = set()
    for record in previous.steps:
        if record.status in DONE and record.outputs is not None and record.node in run.graph.nodes:
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
    return done


def _tracked_spec(run: RunState, previous: RunRecord | None) -> TrackedRunSpec:
    requirements = set(run.loaded.pipeline.requirements)
    for node in run.graph.nodes.values():
        requirements.update(node.step.requirements or ())
    return TrackedRunSpec(
        pipeline=run.graph.name,
        run_id=run.run_id,
        source=run.loaded.file,
        executor=run.options.executor,
        params=jsonable_params(run.params),
        staged=dict(run.staged),
        requirements=tuple(sorted(requirements)),
        experiment=run.options.experiment,
        continue_run=previous.tracking_run_id if previous is not None else None,
    )


def _drive(
    run: RunState, records: PipelineRecords, previous: RunRecord | None, options: RunOptions
) -> RunSummary:
    graph = run.graph
    done = _resume(run, records, previous) if previous is not None else set()
    if previous is None:
        run.run_id = new_run_id()
    upstream = {n.id: n.upstream() for n in graph.nodes.values()}
    final = "failed"
    try:
        with track_pipeline_run(_tracked_spec(run, previous), graph, run.store, run.settings) as tr:
            if previous is None:
                records.create_run(
                    run.run_id,
                    graph.name,
                    str(run.loaded.file),
                    options.executor,
                    jsonable_params(run.params),
                    run.settings.user,
                    [(n.id, n.step.name) for n in graph.nodes.values()],
                    tracking_run_id=tr.run_id,
                )
            elif tr.run_id != previous.tracking_run_id:
                records.link_tracking_run(run.run_id, tr.run_id)
            if not tr.continued:  # a new tracked run: log what the resumed run had finished
                for node in sorted(done):
                    tr.record(run.outcomes[node])
            run.tracked = tr
            run.run_dir = run.settings.home / "pipelines" / "runs" / run.run_id
            run.run_dir.mkdir(parents=True, exist_ok=True)
            results = schedule(
                graph.order(),
                upstream,
                run.run_node,
                parallel=options.parallel,
                on_skip=run.skip,
                done=done,
                on_interrupt=run.cancel,
            )
            final = "succeeded" if all(results.values()) else "failed"
            tr.finish(run.outcomes)
    except StepsFailed:
        pass  # the tracked run is marked FAILED with the error; the summary says which step
    finally:
        records.set_run_status(run.run_id, final, finished=True)
    steps = tuple(run.outcomes[n] for n in graph.order())
    tracking_run_id = run.tracked.run_id if run.tracked is not None else None
    return RunSummary(run.run_id, graph.name, options.executor, final, steps, tracking_run_id)
