"""``shipyard runs ...``, ``shipyard experiments ...`` and ``shipyard server``.

shipyard runs list --experiment churn --filter "metrics.auc > 0.9" --order-by "metrics.auc DESC"
shipyard runs show RUN_ID
shipyard runs compare RUN_ID RUN_ID
shipyard experiments create churn
shipyard server --port 5000
shipyard server keys add ci [--read-only]
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.compare import compare_table
from shipyard.cli.output import err_console, handle_errors, print_json, print_table, stdout
from shipyard.config import Settings
from shipyard.errors import ConfigError, InvalidInputError
from shipyard.tracking.entities import Run
from shipyard.tracking.views import experiment_view, run_view

if TYPE_CHECKING:
    from shipyard.tracking.server.keys import KeyFile
    from shipyard.tracking.tracker import Tracker

__all__ = ["experiments_app", "keys_app", "runs_app", "server", "server_app"]

runs_app = typer.Typer(help="List, show, compare and delete tracked runs.", no_args_is_help=True)
experiments_app = typer.Typer(help="List, create and delete experiments.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
RunId = Annotated[str, typer.Argument(help="Run id.", show_default=False)]


@contextmanager
def _tracker() -> Iterator[Tracker]:
    from shipyard.tracking.tracker import Tracker

    with Tracker.from_settings(Settings.from_env()) as tracker:
        yield tracker


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _duration(run: Run) -> str:
    end = run.info.end_time or int(time.time() * 1000)
    return f"{(end - run.info.start_time) / 1000:.1f}s"


@runs_app.command("list")
@handle_errors
def list_runs(
    experiment: Annotated[str | None, typer.Option(help="Experiment name or id.")] = None,
    filter_string: Annotated[
        str | None,
        typer.Option("--filter", help="e.g. \"metrics.auc > 0.9 and params.depth = '5'\"."),
    ] = None,
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", help="e.g. 'metrics.auc DESC' (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Most runs shown.")] = 50,
    as_json: AsJson = False,
) -> None:
    """List runs, newest first or in --order-by order."""
    with _tracker() as tracker:
        tracker.reap_stale_runs()
        if experiment:
            ids = [tracker.experiment_id(experiment)]
        else:
            ids = [e.experiment_id for e in tracker.store.list_experiments()]
        runs, _ = tracker.store.search_runs(ids, filter_string, order_by or [], max_results=limit)
    if as_json:
        print_json([run_view(run) for run in runs])
        return
    metric_keys = sorted({key for run in runs for key in run.metrics})[:6]
    columns = ["run id", "name", "status", "started", "duration", *metric_keys]
    rows = [
        [
            run.run_id,
            run.info.run_name,
            run.info.status.value,
            _when(run.info.start_time),
            _duration(run),
            *(f"{run.metrics[k].value:.6g}" if k in run.metrics else "" for k in metric_keys),
        ]
        for run in runs
    ]
    print_table(f"{len(runs)} run(s)", columns, rows)


@runs_app.command("show")
@handle_errors
def show_run(run_id: RunId, as_json: AsJson = False) -> None:
    """Show a run: status, params, latest metrics, tags, environment and linked models."""
    with _tracker() as tracker:
        run = tracker.store.get_run(run_id)
        models = tracker.store.linked_models(run_id)
        environment = tracker.store.environment(run_id)
    view = run_view(run, models=models, environment=environment)
    if as_json:
        print_json(view)
        return
    info = run.info
    stdout.print(f"[bold]{info.run_name}[/] {info.run_id}  {info.status.value}")
    stdout.print(
        f"experiment {info.experiment_id}  started {_when(info.start_time)}  {_duration(run)}"
    )
    pipeline_run = run.tags.get("shipyard.pipeline_run")
    if pipeline_run:
        stdout.print(
            f"from pipeline run {pipeline_run} of {run.tags.get('shipyard.pipeline', '?')}: "
            f"`shipyard pipeline runs show {pipeline_run}`"
        )
    if environment:
        dirty = " (dirty)" if environment.get("git_dirty") else ""
        stdout.print(
            f"git {environment.get('git_commit') or '-'}{dirty}  python {environment['python']}"
            f"  host {environment['host']}"
        )
    print_table("params", ["key", "value"], sorted(run.params.items()))
    print_table(
        "metrics",
        ["key", "value", "step"],
        [[k, f"{m.value:.6g}", m.step] for k, m in run.metrics.items()],
    )
    print_table("tags", ["key", "value"], sorted(run.tags.items()))
    if models:
        print_table(
            "model versions",
            ["model", "version", "dataset"],
            [[m.name, m.version, m.dataset_digest or ""] for m in models],
        )


@runs_app.command("compare")
@handle_errors
def compare_runs(
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    as_json: AsJson = False,
) -> None:
    """Compare runs: params and tags that differ, metrics with their histories as sparklines."""
    if len(run_ids) < 2:
        raise InvalidInputError("give at least two run ids to compare")
    with _tracker() as tracker:
        runs = [tracker.store.get_run(run_id) for run_id in run_ids]
        histories = {
            (run.run_id, key): tracker.store.metric_history(run.run_id, key)
            for run in runs
            for key in run.metrics
        }
    if as_json:
        print_json(
            {
                "runs": [run_view(run) for run in runs],
                "histories": {
                    f"{run_id}/{key}": [m.value for m in history]
                    for (run_id, key), history in histories.items()
                },
            }
        )
        return
    stdout.print(compare_table(runs, histories))


@runs_app.command("rm")
@handle_errors
def remove_runs(
    run_ids: Annotated[list[str], typer.Argument(help="Run ids to delete.")],
    as_json: AsJson = False,
) -> None:
    """Delete runs (hidden from lists and searches; kept in the database)."""
    with _tracker() as tracker:
        for run_id in run_ids:
            tracker.store.delete_run(run_id)
    if as_json:
        print_json({"deleted": run_ids})
    else:
        err_console.print(f"deleted {len(run_ids)} run(s)")


@experiments_app.command("list")
@handle_errors
def list_experiments(as_json: AsJson = False) -> None:
    """List experiments."""
    with _tracker() as tracker:
        experiments = tracker.store.list_experiments()
    if as_json:
        print_json([experiment_view(e) for e in experiments])
        return
    rows = [[e.experiment_id, e.name, _when(e.creation_time)] for e in experiments]
    print_table("experiments", ["id", "name", "created"], rows)


@experiments_app.command("create")
@handle_errors
def create_experiment(
    name: Annotated[str, typer.Argument(help="Experiment name.", show_default=False)],
    as_json: AsJson = False,
) -> None:
    """Create an experiment."""
    with _tracker() as tracker:
        experiment_id = tracker.store.create_experiment(name)
    if as_json:
        print_json({"experiment_id": experiment_id, "name": name})
    else:
        err_console.print(f"created experiment {name!r} (id {experiment_id})")


@experiments_app.command("rm")
@handle_errors
def remove_experiment(
    name: Annotated[str, typer.Argument(help="Experiment name or id.", show_default=False)],
    as_json: AsJson = False,
) -> None:
    """Delete an experiment and hide its runs."""
    with _tracker() as tracker:
        experiment = tracker.store.delete_experiment(tracker.experiment_id(name))
    if as_json:
        print_json({"deleted": experiment_view(experiment)})
    else:
        err_console.print(f"deleted experiment {experiment.name!r}")


server_app = typer.Typer(no_args_is_help=False)
keys_app = typer.Typer(help="Make, list and remove the server's access keys.", no_args_is_help=True)
server_app.add_typer(keys_app, name="keys")


@server_app.callback(invoke_without_command=True)
@handle_errors
def server(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No access log (one line per request).")
    ] = False,
    max_upload_mb: Annotated[
        int | None,
        typer.Option(
            help="Largest artifact one upload may send, in MiB "
            "(default 5120; SHIPYARD_SERVER_MAX_UPLOAD_MB).",
            show_default=False,
        ),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            help="Another Host name to answer besides IPs and localhost (repeat; '*' for any, "
            "'.example.org' for a domain; SHIPYARD_SERVER_ALLOWED_HOSTS).",
            show_default=False,
        ),
    ] = None,
    artifact_scheme: Annotated[
        list[str] | None,
        typer.Option(
            help="A URI scheme experiments may name as artifact_location besides "
            "mlflow-artifacts (repeat: file, s3, gs, ...; SHIPYARD_SERVER_ARTIFACT_SCHEMES). "
            "Clients then write there directly.",
            show_default=False,
        ),
    ] = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure", help="Serve a non-loopback --host without access keys (anyone may write)."
        ),
    ] = False,
) -> None:
    """Serve the MLflow tracking REST API, Shipyard's run API and the web UI (at /).

    Once `shipyard server keys add` has made a key, every request needs one: the mlflow client
    sends it from MLFLOW_TRACKING_TOKEN (or MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD).
    """
    if ctx.invoked_subcommand is not None:
        return
    from shipyard.tracking.server.config import ServerConfig
    from shipyard.tracking.server.server import exposure_problem, open_keys, run
    from shipyard.ui.pages import ui_routes

    settings = Settings.from_env()
    config = ServerConfig.from_env(
        host=host,
        port=port,
        access_log=not quiet,
        max_upload_mb=max_upload_mb,
        allowed_hosts=tuple(allowed_host or ()),
        artifact_schemes=tuple(artifact_scheme or ()),
        insecure=insecure,
    )
    keys = open_keys(settings, config)
    problem = exposure_problem(config, keys.is_enabled)
    if problem is not None:
        raise ConfigError(problem)
    access = "access keys required" if keys.is_enabled else "no access keys: open to local callers"
    err_console.print(
        f"tracking server on http://{host}:{port} (MLFLOW_TRACKING_URI=http://{host}:{port}); "
        f"{access}; web UI at http://{host}:{port}/",
        markup=False,
    )
    run(settings, config, keys, pages=ui_routes())


def _key_file() -> KeyFile:
    from shipyard.tracking.server.config import ServerConfig
    from shipyard.tracking.server.keys import KeyFile

    settings = Settings.from_env()
    return KeyFile(ServerConfig.from_env().keys_path(settings.home))


@keys_app.command("add")
@handle_errors
def add_key(
    name: Annotated[str, typer.Argument(help="A name for the key (Basic auth's user name).")],
    read_only: Annotated[
        bool, typer.Option("--read-only", help="The key may read, never write.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Make an access key and print its token once (only its hash is kept)."""
    key, token = _key_file().add(name, read_only=read_only)
    if as_json:
        print_json({"name": key.name, "scope": key.scope.value, "token": token})
        return
    stdout.print(token, markup=False)
    err_console.print(
        f"{key.scope.value} key {key.name!r} made; the token above is shown once. Clients: "
        f"MLFLOW_TRACKING_TOKEN=<token>, or MLFLOW_TRACKING_USERNAME={key.name} "
        "MLFLOW_TRACKING_PASSWORD=<token>",
        markup=False,
    )


@keys_app.command("list")
@handle_errors
def list_keys(as_json: AsJson = False) -> None:
    """List the access keys (names and scopes; tokens are never kept)."""
    keys = _key_file().load()
    rows = [{"name": k.name, "scope": k.scope.value, "created": k.created} for k in keys]
    if as_json:
        print_json({"keys": rows})
        return
    print_table(None, ["name", "scope", "created"], [list(row.values()) for row in rows])


@keys_app.command("rm")
@handle_errors
def remove_key(
    name: Annotated[str, typer.Argument(help="The key's name.")], as_json: AsJson = False
) -> None:
    """Remove an access key: running servers refuse it within a second."""
    key = _key_file().remove(name)
    if as_json:
        print_json({"removed": {"name": key.name, "scope": key.scope.value}})
    else:
        err_console.print(f"removed key {key.name!r}", markup=False)
