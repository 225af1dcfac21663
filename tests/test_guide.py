"""The user guide's Python examples run as written (``docs/guide/*.md``).

A page's ``python`` blocks run in order in one fresh interpreter, each with fresh globals as a
script of its own (``__name__ == "__main__"``), in one scratch folder with one SHIPYARD_HOME, so a
later block can load what an earlier one saved. A block whose first line is ``# file: NAME`` is
written to NAME instead (a module the next blocks import); a block fenced as ``python notest`` is
a fragment and is only shown.
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
