"""``shipyard monitor ...``: drift, data quality and live accuracy from prediction logs.

    shipyard monitor iris@production --logs /var/log/predictions.jsonl --window 1h
    shipyard monitor feedback labels.csv --model iris
    shipyard monitor report iris@production -o report.html
    shipyard monitor run iris@production --logs /var/log/predictions.jsonl --every 5m \\
        --webhook https://hooks.slack.com/services/...
    shipyard monitor rules > shipyard-monitor-rules.yaml

``shipyard monitor REF`` is short for ``shipyard monitor show REF``.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from typer import _click  # Typer's own click: its Context is the one TyperGroup takes
from typer.core import TyperGroup

from shipyard.cli.output import err_console, handle_errors, print_json, print_table, spinner, stdout
from shipyard.config import Settings
from shipyard.errors import InvalidInputError

if TYPE_CHECKING:
    from shipyard.monitor.drift import DriftMethod

__all__ = ["app"]


class _DefaultShow(TyperGroup):
    """Route ``shipyard monitor REF ...`` to ``show`` when REF is not a subcommand."""

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_DefaultShow,
    help="Monitor a model: drift, data quality, accuracy, reports and alerts.",
    no_args_is_help=True,
)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Ref = Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.", show_default=False)]
Logs = Annotated[
    str | None,
    typer.Option(help="Prediction log: file, folder, glob, - (stdin) or s3://prefix."),
]
Window = Annotated[str, typer.Option(help="Window: a duration (1h, 15m) or rows (5000rows).")]
Since = Annotated[str | None, typer.Option(help="Only rows after this ISO time or duration ago.")]
Method = Annotated[
    str,
    typer.Option(help="auto (Evidently defaults), calibrated, ks, chisquare, z, wasserstein, "
                 "jensenshannon or psi."),
]  # fmt: skip
Alpha = Annotated[float, typer.Option(help="False-alarm level of --method calibrated.")]
_METHODS = ("auto", "calibrated", "ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi")


def _options(
    logs: str | None, window: str, since: str | None, method: str, alpha: float, final: bool = True
) -> Any:
    from shipyard.monitor.analyze import AnalysisOptions
    from shipyard.monitor.monitor import MonitorOptions
    from shipyard.monitor.windows import WindowSpec, parse_since

    if method not in _METHODS:
        raise InvalidInputError(f"--method {method!r} is unknown: use one of {', '.join(_METHODS)}")
    if not 0 < alpha < 1:
        raise InvalidInputError(f"--alpha {alpha} must be between 0 and 1 (e.g. 0.05)")
    analysis = AnalysisOptions(
        WindowSpec.parse(window),
        cast("DriftMethod", method),
        alpha,
        since=parse_since(since, time.time()),
    )
    return MonitorOptions(analysis, logs=logs, final=final)


def _open(ref: str) -> Any:
    try:
        from shipyard.monitor.monitor import Monitor
    except ImportError as exc:  # pragma: no cover - the extra is part of dev
        raise InvalidInputError(
            f"monitoring needs the monitor extra: pip install 'shipyard[monitor]' ({exc})"
        ) from exc
    return Monitor.open(Settings.from_env(), ref)


@app.command("show")
@handle_errors
def show(
    ref: Ref,
    logs: Logs = None,
    window: Window = "1h",
    since: Since = None,
    method: Method = "auto",
    alpha: Alpha = 0.05,
    as_json: AsJson = False,
) -> None:
    """Analyse the log window by window: drifting features, predictions, quality, accuracy."""
    options = _options(logs, window, since, method, alpha)
    with _open(ref) as monitor, spinner("analysing the prediction log", enabled=not as_json):
        report = monitor.update(options)
    if as_json:
        print_json(report.to_dict())
        return
    _print_report(report)


def _print_report(report: Any) -> None:
    from datetime import UTC, datetime

    rows = []
    for w in report.windows:
        metrics = w.performance.metrics if w.performance else {}
        shown = ", ".join(f"{k} {v:.3f}" for k, v in metrics.items() if k in _HEADLINE)
        rows.append([
            datetime.fromtimestamp(w.start, UTC).strftime("%Y-%m-%d %H:%M"),
            w.rows, w.rejected,
            "DRIFT" if w.dataset_drift else "-",
            f"{w.drift_share:.0%}",
            ", ".join(w.drifting[:6]) + (" ..." if len(w.drifting) > 6 else ""),
            "DRIFT" if w.prediction_drift else "-",
            shown,
        ])  # fmt: skip
    title = f"{report.model}:{report.version} windows of {report.window} ({report.method})"
    columns = ["start (UTC)", "rows", "rejected", "dataset", "share", "drifting", "predictions",
               "metrics"]  # fmt: skip
    print_table(title, columns, rows)
    read = report.read
    err_console.print(
        f"{read.get('records', 0)} records read, {read.get('bad_lines', 0)} bad and "
        f"{read.get('foreign_lines', 0)} foreign lines skipped"
    )
    for note in report.notes:
        err_console.print(f"[yellow]note:[/] {note}", soft_wrap=True)


_HEADLINE = ("accuracy", "f1", "roc_auc", "rmse", "mae", "r2")


@app.command("feedback")
@handle_errors
def feedback(
    source: Annotated[str, typer.Argument(help="CSV or JSON-lines file of labels, or - (stdin).")],
    model: Annotated[str, typer.Option(help="The model the labels are for (NAME or REF).")],
    as_json: AsJson = False,
) -> None:
    """Store ground-truth labels (request_id, optional row, label) for accuracy tracking."""
    from shipyard.monitor.feedback import parse_feedback

    data = sys.stdin.buffer.read() if source == "-" else _read(Path(source))
    items = parse_feedback(data)
    with _open(model) as monitor:
        stored = monitor.results.add_feedback(monitor.version.name, items)
    if as_json:
        print_json({"stored": stored, "model": model})
    else:
        stdout.print(f"stored {stored} labels for {model}")


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise InvalidInputError(f"no feedback file at {path}: give a CSV or JSON-lines file or -")
    return path.read_bytes()


@app.command("report")
@handle_errors
def report(
    ref: Ref,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")],
    logs: Logs = None,
    window: Window = "1h",
    since: Since = None,
    method: Method = "auto",
    alpha: Alpha = 0.05,
    as_json: AsJson = False,
) -> None:
    """Write one self-contained HTML report (opens offline)."""
    from shipyard.monitor.report import render_report, write_report

    options = _options(logs, window, since, method, alpha)
    with _open(ref) as monitor, spinner("rendering the report", enabled=not as_json):
        result = monitor.update(options)
        html = render_report(result, monitor.reference(), monitor.logs.dataset())
        write_report(output, html)
    if as_json:
        print_json({"report": str(output), "windows": len(result.windows)})
    else:
        stdout.print(f"wrote {output} ({len(result.windows)} windows)")


@app.command("run")
@handle_errors
def run(
    ref: Ref,
    logs: Logs = None,
    every: Annotated[str, typer.Option(help="How often to re-analyse (5m, 30s).")] = "5m",
    host: Annotated[str, typer.Option(help="Address for /metrics and /feedback.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for /metrics and /feedback.")] = 9108,
    webhook: Annotated[
        str | None, typer.Option(help="Slack-compatible webhook URL for alerts (http/https).")
    ] = None,
    webhook_deadline: Annotated[
        float,
        typer.Option(help="Seconds one webhook delivery may take in all; failures are retried."),
    ] = 10.0,
    tolerance: Annotated[
        float, typer.Option(help="Alert when a metric falls this far below its saved value.")
    ] = 0.05,
    window: Window = "1h",
    since: Since = None,
    method: Method = "auto",
    alpha: Alpha = 0.05,
) -> None:
    """Keep results, gauges and alerts up to date until stopped (SIGTERM or Ctrl-C)."""
    from shipyard.monitor.alerts import AlertPolicy
    from shipyard.monitor.job import JobConfig, MonitorJob
    from shipyard.monitor.windows import WindowSpec

    interval = WindowSpec.parse(every)
    if interval.kind != "time":
        raise InvalidInputError(f"--every {every!r} must be a duration such as 30s or 5m")
    options = _options(logs, window, since, method, alpha, final=False)
    if not 0 < webhook_deadline <= 600:
        raise InvalidInputError(f"--webhook-deadline {webhook_deadline} must be in (0, 600]")
    config = JobConfig(
        interval.size,
        host,
        port,
        webhook,
        AlertPolicy(tolerance),
        webhook_deadline_s=webhook_deadline,
    )
    with _open(ref) as monitor:

        def tell(result: Any, events: list[Any]) -> None:
            latest = result.latest
            drift = "no rows yet"
            if latest is not None:
                drift = f"{latest.rows} rows, {len(latest.drifting)} drifting features"
            changes = "".join(f"; {e.status} {e.name}" for e in events)
            stamp = time.strftime("%H:%M:%S")
            err_console.print(f"{stamp} {result.model}:{result.version}: {drift}{changes}")

        job = MonitorJob(monitor, options, config, on_cycle=tell)
        signal.signal(signal.SIGTERM, lambda *_: job.stop())
        err_console.print(
            f"monitoring {monitor.version.ref} every {every}; metrics and feedback on "
            f"http://{host}:{job.server.port}"
        )
        try:
            job.run()
        except KeyboardInterrupt:
            job.stop()


@app.command("rules")
@handle_errors
def rules(
    for_duration: Annotated[str, typer.Option("--for", help="How long before firing.")] = "10m",
    min_accuracy: Annotated[
        float | None, typer.Option(help="Also alert when accuracy is below this.")
    ] = None,
) -> None:
    """Print Prometheus alerting rules for the monitor job's gauges (YAML)."""
    from shipyard.monitor.rules import render_rules

    sys.stdout.write(render_rules(for_duration, min_accuracy))
