"""The user guide's examples run as written (``docs/guide/*.md``), and the docs' links resolve.

A page's ``python`` blocks run in order in one fresh interpreter, each with fresh globals as a
script of its own (``__name__ == "__main__"``), in one scratch folder with one SHIPYARD_HOME, so a
later block can load what an earlier one saved. A block whose first line is ``# file: NAME`` is
written to NAME instead (a module the next blocks import); a block fenced as ``python notest`` is
a fragment and is only shown.

On the stage pages (``STAGE_PAGES``) the ``bash`` blocks run too, in document order between the
python blocks, each as one ``bash -e -o pipefail`` script in the same folder, with ``shipyard``
being this interpreter's. A bash block that is a single ``shipyard serve`` or ``shipyard server``
line starts that server in the background, on a free port, until the next bash block; the only
change made to any block is that port (``:8080`` and ``:5000`` become it). A block fenced as
``bash notest`` (Docker, a webhook, a long-running job) is only shown.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import shipyard
from tests.serve.servers import free_port, wait_until_ready

GUIDE = Path(__file__).parents[1] / "docs" / "guide"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
BASH = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)
BLOCKS = re.compile(r"^```(python|bash)\n(.*?)^```", re.DOTALL | re.MULTILINE)
FILE = re.compile(r"# file: (\S+)\n")
RUNNER = """
import json, pathlib, sys
sys.path.insert(0, ".")
for label, name, code in json.load(open(sys.argv[1])):
    if name:
        pathlib.Path(name).write_text(code)
    else:
        exec(compile(code, label, "exec"), {"__name__": "__main__"})
"""


def _steps(page: str) -> list[tuple[str, str | None, str]]:
    """``(label, file name or None, code)`` for each python block of ``page``, in order."""
    blocks = BLOCK.findall((GUIDE / page).read_text())
    steps = []
    for number, code in enumerate(blocks, 1):
        named = FILE.match(code)
        steps.append((f"{page} block {number}", named.group(1) if named else None, code))
    return steps


def _run_steps(steps: list[tuple[str, str | None, str]], cwd: Path, env: dict[str, str]) -> str:
    (cwd / "steps.json").write_text(json.dumps(steps))
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, "steps.json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def _env(shipyard_env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **shipyard_env, "PYTHONPATH": str(Path(shipyard.__file__).parents[1])}


def _argv(line: str) -> list[str]:
    words = shlex.split(line, comments=True)
    return [sys.executable, "-m", "shipyard", *words[1:]] if words[0] == "shipyard" else words


@pytest.mark.slow
def test_the_saving_examples_run(shipyard_env: dict[str, str], tmp_path: Path) -> None:
    steps = _steps("saving.md")
    assert sum(name is None for _, name, _ in steps) >= 6

    out = _run_steps(steps, tmp_path, _env(shipyard_env))

    assert "scikit-learn==" in out  # the first example prints its pins


@pytest.mark.slow
def test_the_serving_examples_run_against_a_real_server(
    shipyard_env: dict[str, str], tmp_path: Path
) -> None:
    """The page's commands and clients, with only 8080 changed to the test server's free port."""
    setup, *clients = _steps("serving.md")
    lines = [line for block in BASH.findall((GUIDE / "serving.md").read_text()) for line in
             block.splitlines() if line.strip()]  # fmt: skip
    port = free_port()
    env = {**_env(shipyard_env), "SHIPYARD_SERVE_PORT": str(port)}
    _run_steps([setup], tmp_path, env)
    [alias_line] = [line for line in lines if line.startswith("shipyard models alias")]
    [serve_line] = [line for line in lines if line.startswith("shipyard serve")]
    curls = [line.replace(":8080", f":{port}") for line in lines if line.startswith("curl")]
    subprocess.run(_argv(alias_line), env=env, capture_output=True, check=True, timeout=120)
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(_argv(serve_line), env=env, stdout=log, stderr=log)
        try:
            wait_until_ready(f"http://127.0.0.1:{port}", timeout=120)
            replies = [
                subprocess.run(_argv(c), capture_output=True, text=True, check=True, timeout=60)
                for c in curls
            ]
            moved = [
                (label, name, code.replace(":8080", f":{port}")) for label, name, code in clients
            ]
            out = _run_steps(moved, tmp_path, env)
        finally:
            server.terminate()
            server.wait(timeout=30)

    assert len(curls) == 4 and len(clients) == 3
    assert json.loads(replies[0].stdout)["predictions"] == [0, 2]
    assert json.loads(replies[1].stdout)["outputs"][0]["data"] == [0]
    assert json.loads(replies[2].stdout)["name"] == "iris"
    assert out.split("\n")[:2] == ["[0, 2]", "[0]"]


STAGE_PAGES = ("tracking.md", "batch.md", "monitoring.md", "pipelines.md")
"""Pages whose bash blocks run as well as their python blocks (see the module docstring)."""
RUN_BASH = """import subprocess, sys
sys.stdout.flush()
subprocess.run(["bash", "-e", "-o", "pipefail", "-c", {code!r}], check=True)
"""
READY_PATH = {"serve": "/readyz", "server": "/health"}


def _server_line(code: str) -> str | None:
    """The line of a bash block that is one ``shipyard serve`` or ``shipyard server`` command."""
    lines = [line for line in code.splitlines() if line.strip()]
    if len(lines) != 1:
        return None
    words = shlex.split(lines[0], comments=True)
    return lines[0] if words[0] == "shipyard" and words[1] in READY_PATH else None


def _with_shims(env: dict[str, str], folder: Path) -> dict[str, str]:
    """``env`` with ``shipyard`` and ``python`` on PATH as this interpreter (and this shipyard)."""
    folder.mkdir()
    for name, argv in (("shipyard", f'"{sys.executable}" -m shipyard'), ("python", sys.executable)):
        shim = folder / name
        shim.write_text(f'#!/bin/sh\nexec {argv} "$@"\n')
        shim.chmod(0o755)
    return {**env, "PATH": f"{folder}{os.pathsep}{env.get('PATH', '')}"}


class _Background:
    """A server started by a page, on its own log file, stopped by SIGTERM (it drains)."""

    def __init__(self, line: str, port: int, cwd: Path, env: dict[str, str]) -> None:
        self.log_path = cwd / f"server-{port}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(_argv(line), cwd=cwd, env=env, stdout=log, stderr=log)
        try:
            wait_until_ready(f"http://127.0.0.1:{port}", 120, READY_PATH[shlex.split(line)[1]])
        except TimeoutError as exc:
            self.stop()
            raise AssertionError(f"{line!r} did not start:\n{self.log_path.read_text()}") from exc

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _run_page(page: str, cwd: Path, env: dict[str, str]) -> str:
    """Run a stage page's python and bash blocks in order; their stdout."""
    port = free_port()
    env = _with_shims({**env, "SHIPYARD_SERVE_PORT": str(port)}, cwd / ".bin")
    outputs: list[str] = []
    pending: list[tuple[str, str | None, str]] = []
    server: _Background | None = None
    try:
        for number, (kind, code) in enumerate(BLOCKS.findall((GUIDE / page).read_text()), 1):
            code = code.replace(":8080", f":{port}").replace(":5000", f":{port}")
            code = code.replace("--port 5000", f"--port {port}")
            label = f"{page} block {number}"
            starts = _server_line(code) if kind == "bash" else None
            if kind == "bash" and (server is not None or starts is not None):
                if pending:
                    outputs.append(_run_steps(pending, cwd, env))
                    pending = []
                if server is not None:
                    server.stop()
                    server = None
            if starts is not None:
                server = _Background(starts, port, cwd, env)
            elif kind == "bash":
                pending.append((label, None, RUN_BASH.format(code=code)))
            else:
                named = FILE.match(code)
                pending.append((label, named.group(1) if named else None, code))
        if pending:
            outputs.append(_run_steps(pending, cwd, env))
    finally:
        if server is not None:
            server.stop()
    return "".join(outputs)


@pytest.mark.slow
def test_the_tracking_examples_run_with_a_real_mlflow_client(
    shipyard_env: dict[str, str], tmp_path: Path
) -> None:
    from shipyard.config import Settings
    from shipyard.registry.registry import Registry
    from shipyard.tracking.tracker import Tracker

    out = _run_page("tracking.md", tmp_path, _env(shipyard_env))

    assert "FINISHED iris:1" in out and "FINISHED iris:2" in out
    assert len(json.loads((tmp_path / "runs.json").read_text())) == 2
    with Tracker.from_settings(Settings.from_env(shipyard_env)) as tracker:
        ids = [tracker.experiment_id("iris")]
        runs, _ = tracker.store.search_runs(ids, "attributes.run_name = 'from-mlflow'", [])
        failed, _ = tracker.store.search_runs(ids, "attributes.status = 'FAILED'", [])
    assert [len(run.metrics) for run in runs] == [1]
    assert failed[0].tags["shipyard.error"] == "FileNotFoundError: train.csv"
    with Registry.from_settings(Settings.from_env(shipyard_env)) as registry:  # via mlflow
        registered = registry.get("churn@champion")
    assert (registered.version, registered.flavor) == (1, "mlflow")
    assert "champion" in out  # in `shipyard models history`


@pytest.mark.slow
def test_the_batch_examples_run(shipyard_env: dict[str, str], tmp_path: Path) -> None:
    import pyarrow.csv
    import pyarrow.parquet as pq

    out = _run_page("batch.md", tmp_path, _env(shipyard_env))

    scores = pq.read_table(tmp_path / "scores.parquet")
    assert scores.column_names == ["id", "predictions"] and scores.num_rows == 40
    assert len(list((tmp_path / "chunks").glob("*.parquet"))) == 3
    assert pyarrow.csv.read_csv(tmp_path / "messy-scores.csv").num_rows == 39
    [reject] = [json.loads(line) for line in out.splitlines() if line.startswith('{"row"')]
    assert reject["row"] == 3 and "wide" in reject["reason"]
    assert "40 0 from-python.parquet" in out


@pytest.mark.slow
def test_the_monitoring_examples_run_against_a_real_server(
    shipyard_env: dict[str, str], tmp_path: Path
) -> None:
    out = _run_page("monitoring.md", tmp_path, _env(shipyard_env))

    windows = json.loads((tmp_path / "windows.json").read_text())["windows"]
    assert [w["rows"] for w in windows] == [200, 200]
    assert [w["dataset_drift"] for w in windows] == [False, True]
    assert set(windows[1]["drifting"]) == {"petal length (cm)", "petal width (cm)"}
    assert windows[0]["performance"]["metrics"]["accuracy"] > 0.9
    assert "stored 400 labels" in out
    assert (tmp_path / "report.html").stat().st_size > 10_000
    assert "groups:" in (tmp_path / "shipyard-monitor.rules.yaml").read_text()


@pytest.mark.slow
def test_the_pipeline_examples_run(shipyard_env: dict[str, str], tmp_path: Path) -> None:
    from shipyard.config import Settings
    from shipyard.registry.registry import Registry

    _run_page("pipelines.md", tmp_path, _env(shipyard_env))

    summary = json.loads((tmp_path / "run.json").read_text())
    statuses = {step["node"]: step["status"] for step in summary["steps"]}
    assert statuses["ingest"] == "cached" and statuses["split"] == "succeeded"
    with Registry.from_settings(Settings.from_env(shipyard_env)) as registry:
        assert registry.get(shipyard.ModelRef.parse("iris@production")).version == 2
        assert registry.get(shipyard.ModelRef.parse("iris")).version == 3


def test_every_page_with_examples_is_run() -> None:
    run = {"saving.md", "serving.md", *STAGE_PAGES}
    with_examples = {page.name for page in GUIDE.glob("*.md") if BLOCK.search(page.read_text())}
    assert with_examples <= run
    for page in STAGE_PAGES:
        blocks = BLOCKS.findall((GUIDE / page).read_text())
        assert {kind for kind, _ in blocks} == {"python", "bash"}, page


def test_the_command_table_names_every_command() -> None:
    from shipyard.cli.main import COMMANDS

    table = (GUIDE / "cli.md").read_text().split("\n## ", 1)[0]
    named = set(re.findall(r"`(?:shipyard )?([a-z-]+)[ `]", table))
    missing = [c.name for c in COMMANDS if not c.hidden and c.name not in named]
    assert missing == []


ROOT = GUIDE.parents[1]
FENCED = re.compile(r"^\s*```.*?^\s*```", re.DOTALL | re.MULTILINE)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def test_every_relative_link_in_the_docs_resolves() -> None:
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = CODE_SPAN.sub("", FENCED.sub("", page.read_text()))
        for target in LINK.findall(text):
            if target.startswith("#") or re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue  # an anchor on the page, or a URL
            if not (page.parent / target.split("#", 1)[0]).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []
