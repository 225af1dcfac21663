"""``shipyard pipeline run | show | export | runs``: run typed steps locally, in Docker or on
Kubernetes, cached by content.

shipyard pipeline run examples/pipelines/cancer.py --param n_estimators=100 --parallel 2
shipyard pipeline run pipe.py:train --executor docker --no-cache-step train
shipyard pipeline run pipe.py --resume 20261201-221033-8701bb
shipyard pipeline show pipe.py
shipyard pipeline export pipe.py --to argo -o deploy/
shipyard pipeline runs list | shipyard pipeline runs show RUN --log train
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from shipyard.cli.output import (
    err_console,
    error_document,
    exit_code_for,
    handle_errors,
    print_json,
    print_table,
    stdout,
)

if TYPE_CHECKING:
    from rich.console import RenderableType

    from shipyard.pipelines.events import StepEvent
    from shipyard.pipelines.graph import PipelineGraph
    from shipyard.pipelines.runner import RunSummary

# The runner, the executors and the Docker client load inside the commands that use them.

__all__ = ["app"]

app = typer.Typer(help="Run, show and export pipelines of typed steps.", no_args_is_help=True)
runs_app = typer.Typer(help="Past pipeline runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
TargetArgument = Annotated[str, typer.Argument(help="FILE[:NAME] of a @shipyard.pipeline.")]

_STYLE = {
    "pending": "dim",
    "running": "cyan",
    "retrying": "yellow",
    "succeeded": "green",
    "cached": "blue",
    "failed": "bold red",
    "skipped": "magenta",
}


class LiveSteps:
    """The live table of a run: one row per step, updated from the scheduler's threads."""

    def __init__(self, order: tuple[str, ...]) -> None:
        self.rows: dict[str, dict[str, Any]] = {n: {"status": "pending"} for n in order}
        self.started: dict[str, float] = {}
        self.note = ""
        self.lock = threading.Lock()

    def __call__(self, event: StepEvent) -> None:
        with self.lock:
            if event.status == "running":
                self.started[event.node] = time.monotonic()
            self.rows[event.node] = {
                "status": event.status,
                "attempt": event.attempt,
                "duration": event.duration_s,
                "message": event.message,
            }

    def line(self, text: str) -> None:
        self.note = text

    def render(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(header_style="bold", box=None, pad_edge=False)
        for column in ("step", "status", "attempt", "time", "note"):
            table.add_column(column, overflow="fold")
        with self.lock:
            for node, row in self.rows.items():
                status = str(row["status"])
                duration = row.get("duration")
                if duration is None and status in ("running", "retrying"):
                    duration = time.monotonic() - self.started.get(node, time.monotonic())
                table.add_row(
                    Text(node),
                    Text(status, style=_STYLE.get(status, "")),
                    Text(str(row.get("attempt") or "")),
                    Text("" if duration is None else f"{duration:.1f}s"),
                    Text(str(row.get("message") or "")[:120]),
                )
            note = self.note
        return Group(table, Text(note, style="dim")) if note else table


@app.command("run")
@handle_errors
def run(
    target: TargetArgument,
    executor: Annotated[
        str, typer.Option("--executor", "-e", help="local, docker or kubernetes.")
    ] = "local",
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="KEY=VALUE (repeatable).")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Run every step.")] = False,
    no_cache_step: Annotated[
        list[str] | None, typer.Option("--no-cache-step", help="Always run this step.")
    ] = None,
    parallel: Annotated[int, typer.Option(help="Independent steps run at once.")] = 1,
    resume: Annotated[
        str | None, typer.Option(help="Finish run RUN: re-run only what did not finish.")
    ] = None,
    base_image: Annotated[
        str | None, typer.Option(help="Base of the docker step images (python:X.Y-slim).")
    ] = None,
    build_cache: Annotated[
        Path | None,
        typer.Option(
            envvar="SHIPYARD_BUILD_CACHE",
            help="Where downloaded wheels are kept (default: $SHIPYARD_HOME/cache/build).",
        ),
    ] = None,
    experiment: Annotated[
        str | None,
        typer.Option(help="Tracking experiment of the run's tracked run (default: the pipeline)."),
    ] = None,
    namespace: Annotated[
        str, typer.Option(help="Kubernetes executor: the namespace its Jobs run in.")
    ] = "default",
    context: Annotated[
        str | None, typer.Option(help="Kubernetes executor: kubectl's context (default: current).")
    ] = None,
    image_registry: Annotated[
        str, typer.Option(help="Kubernetes executor: the registry the cluster pulls steps from.")
    ] = "",
    as_json: JsonOption = False,
) -> None:
    """Run a pipeline; a step whose code, environment and inputs are unchanged is cached.

    Every run is a tracked run (`shipyard runs show ID`): parameters, per-step seconds and cache
    hits, the metrics steps output, and the lineage to the model version it registers."""
    from rich.live import Live

    from shipyard.config import Settings
    from shipyard.errors import PipelineRunError
    from shipyard.pipelines.loader import load_pipeline
    from shipyard.pipelines.params import parse_param_options
    from shipyard.pipelines.runner import RunOptions, run_pipeline

    loaded = load_pipeline(target)
    options = RunOptions(
        executor=executor,
        params=parse_param_options(param or []),
        no_cache=no_cache,
        no_cache_steps=frozenset(no_cache_step or ()),
        parallel=parallel,
        resume=resume,
        base_image=base_image,
        build_cache=build_cache,
        experiment=experiment,
        namespace=namespace,
        kube_context=context,
        image_registry=image_registry,
    )
    settings = Settings.from_env()
    if as_json:
        summary = run_pipeline(loaded, settings, options)
    else:
        live_steps = LiveSteps(loaded.pipeline.graph().order())
        with Live(get_renderable=live_steps.render, console=err_console, refresh_per_second=8):
            summary = run_pipeline(
                loaded, settings, options, observer=live_steps, on_line=live_steps.line
            )
    if summary.status == "succeeded":
        _report(summary, as_json)
        return
    failed = [s.node for s in summary.steps if s.status == "failed"]
    error = PipelineRunError(
        f"run {summary.run_id} failed at {', '.join(failed)}; completed outputs are kept: "
        f"`shipyard pipeline runs show {summary.run_id} --log {failed[0]}`, fix it, then "
        f"`shipyard pipeline run {target} --resume {summary.run_id}`"
    )
    if as_json:  # one document: the summary, with the error beside it
        print_json({**summary.to_dict(), **error_document(error)})
        raise typer.Exit(exit_code_for(error))
    _report(summary, as_json)
    raise error


def _report(summary: RunSummary, as_json: bool) -> None:
    if as_json:
        print_json(summary.to_dict())
        return
    stdout.print(
        f"run [bold]{summary.run_id}[/] {summary.status}: {summary.executed} executed, "
        f"{summary.cached} cached, of {len(summary.steps)} steps"
    )
    if summary.tracking_run_id:
        stdout.print(
            f"tracked run {summary.tracking_run_id}: `shipyard runs show {summary.tracking_run_id}`"
        )


@app.command("show")
@handle_errors
def show(target: TargetArgument, as_json: JsonOption = False) -> None:
    """Show the DAG: steps, what each reads, environment and resources."""
    from shipyard.pipelines.loader import load_pipeline

    graph = load_pipeline(target).pipeline.graph()
    if as_json:
        print_json(_graph_dict(graph))
        return
    stdout.print(_tree(graph))


def _graph_dict(graph: PipelineGraph) -> dict[str, Any]:
    nodes = []
    for node_id in graph.order():
        node = graph.nodes[node_id]
        nodes.append(
            {
                "id": node_id,
                "step": node.step.name,
                "upstream": sorted(node.upstream()),
                "inputs": {
                    k: (b.source_type, f"{b.source}.{b.output}" if b.output else b.source)
                    for k, b in node.bindings.items()
                },
                "outputs": {o.name: o.kind for o in node.step.outputs},
                "requirements": node.step.requirements,
                "runs_on": node.step.runs_on,
            }
        )
    params = {n: {"default": str(p.default), "kind": p.kind} for n, p in graph.parameters.items()}
    return {"pipeline": graph.name, "parameters": params, "nodes": nodes}


def _tree(graph: PipelineGraph) -> RenderableType:
    from rich.text import Text
    from rich.tree import Tree

    tree = Tree(Text(f"pipeline {graph.name}", style="bold"))
    placed: dict[str, Tree] = {}
    for node_id in graph.order():
        node = graph.nodes[node_id]
        outputs = ", ".join(f"{o.name}: {o.kind}" for o in node.step.outputs) or "no output"
        reads = sorted(node.upstream())
        params = sorted(b.source for b in node.bindings.values() if b.source_type == "param")
        label = Text(node_id, style="bold cyan")
        label.append(f"  -> {outputs}", style="green")
        if params:
            label.append(f"  params: {', '.join(params)}", style="yellow")
        if len(reads) > 1:
            label.append(f"  also reads: {', '.join(reads[:-1])}", style="dim")
        parent = placed.get(reads[-1]) if reads else None
        placed[node_id] = (parent or tree).add(label)
    return tree


@app.command("export")
@handle_errors
def export(
    target: TargetArgument,
    to: Annotated[str, typer.Option("--to", help="kubernetes (Jobs) or argo (Workflow).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the manifests.")],
    image_registry: Annotated[
        str, typer.Option(help="Registry the cluster pulls step images from.")
    ] = "",
    claim: Annotated[
        str, typer.Option(help="PersistentVolumeClaim holding the run folders.")
    ] = "shipyard-artifacts",
    namespace: Annotated[str, typer.Option(help="Namespace of the manifests.")] = "default",
    base_image: Annotated[str | None, typer.Option(help="Base of the step images.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Write one Job per step (applied in order) or one Argo Workflow, validated offline."""
    from shipyard.pipelines.export import ExportOptions, export_pipeline
    from shipyard.pipelines.loader import load_pipeline

    kind: Literal["kubernetes", "argo"]
    if to == "kubernetes":
        kind = "kubernetes"
    elif to == "argo":
        kind = "argo"
    else:
        from shipyard.errors import ConfigError

        raise ConfigError(f"--to {to!r}: use kubernetes or argo")
    options = ExportOptions(
        image_registry=image_registry, claim=claim, namespace=namespace, base_image=base_image
    )
    written = export_pipeline(load_pipeline(target), kind, output, options)
    if as_json:
        print_json({"files": [str(p) for p in written.files], "images": written.images})
        return
    print_table(None, ["file"], [[str(p)] for p in written.files])
    for tag in written.images:
        stdout.print(
            f"build and push step image [bold]{tag}[/] (`shipyard pipeline run "
            f"{target} --executor docker` builds it locally)"
        )


@runs_app.command("list")
@handle_errors
def runs_list(
    pipeline: Annotated[str | None, typer.Option(help="Only runs of this pipeline.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List pipeline runs, newest first."""
    records, close = _records()
    try:
        found = records.list_runs(pipeline, limit)
    finally:
        close()
    if as_json:
        print_json([r.to_dict() for r in found])
        return
    rows = [[r.id, r.pipeline, r.executor, r.status, r.created_at.isoformat()] for r in found]
    print_table("pipeline runs", ["run", "pipeline", "executor", "status", "started"], rows)


@runs_app.command("show")
@handle_errors
def runs_show(
    run_id: Annotated[str, typer.Argument(help="A run id from `pipeline runs list`.")],
    log: Annotated[str | None, typer.Option(help="Print this step's log.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a run's steps: status, cache key, attempts, time, error and log file."""
    records, close = _records()
    try:
        record = records.get_run(run_id)
    finally:
        close()
    if log is not None:
        step = next((s for s in record.steps if s.node == log), None)
        if step is None or not step.log_path or not Path(step.log_path).is_file():
            from shipyard.errors import NotFoundError

            raise NotFoundError(f"run {run_id} has no log for step {log!r}")
        stdout.out(Path(step.log_path).read_text(), highlight=False)
        return
    if as_json:
        print_json(record.to_dict())
        return
    stdout.print(
        f"run [bold]{record.id}[/] of {record.pipeline} ({record.executor}): {record.status}"
    )
    if record.tracking_run_id:
        stdout.print(
            f"tracked run {record.tracking_run_id}: `shipyard runs show {record.tracking_run_id}`"
        )
    rows = [
        [
            s.node,
            s.status,
            s.attempts,
            "" if s.duration_s is None else f"{s.duration_s:.1f}s",
            (s.cache_key or "")[:12],
            s.error or "",
        ]
        for s in record.steps
    ]
    print_table(None, ["step", "status", "attempts", "time", "cache key", "error"], rows)


def _records() -> tuple[Any, Any]:
    from shipyard.config import Settings
    from shipyard.pipelines.run_store import PipelineRecords
    from shipyard.registry.metadata import MetadataStore

    store = MetadataStore.open(Settings.from_env().registry.db_url)
    return PipelineRecords(store.engine), store.close
