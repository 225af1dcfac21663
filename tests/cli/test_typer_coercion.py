"""``defer_typer_coercion``: every value is coerced, or refused, exactly as Typer does itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Each case runs one tiny Typer command twice in a fresh interpreter: with Typer's own coercion,
# then deferred. The command's parameters cover the pass-through cases (str, int, float,
# list[str], Path) and what must still go to Typer (ranges, Literal, path checks).
_PROGRAM = """
import json, sys
from pathlib import Path
from typing import Annotated, Literal, Optional
import typer
from typer.testing import CliRunner

app = typer.Typer()

@app.command()
def main(
    p: Path,
    s: str = "x",
    n: int = 3,
    f: float = 0.5,
    ranged: Annotated[int, typer.Option(min=1, max=5)] = 2,
    mode: Annotated[Literal["fast", "slow"], typer.Option()] = "fast",
    item: Annotated[Optional[list[str]], typer.Option()] = None,
    there: Annotated[Optional[Path], typer.Option(exists=True, dir_okay=False)] = None,
) -> None:
    print(json.dumps([repr(v) for v in (p, s, n, f, ranged, mode, item, there)]))

def outcomes():
    runner = CliRunner()
    return [
        [result.exit_code, result.output.splitlines()[-2:]]
        for result in (runner.invoke(app, case) for case in json.loads(sys.argv[1]))
    ]

typer_own = outcomes()
from shipyard.cli.typer_coercion import defer_typer_coercion
defer_typer_coercion()
deferred = outcomes()
print(json.dumps({"same": typer_own == deferred, "typer": typer_own, "deferred": deferred}))
"""

CASES = [
    ["model.pkl"],
    ["a", "--s", "y", "--n", "7", "--f", "2", "--item", "a", "--item", "b"],
    ["a", "--n", "seven"],
    ["a", "--f", "1e3"],
    ["a", "--ranged", "9"],
    ["a", "--mode", "slow"],
    ["a", "--mode", "medium"],
    ["a", "--there", "/nonexistent/file"],
    ["a", "--there", "/"],
    ["a", "--there", __file__],
    [""],
]


@pytest.mark.parametrize("case", CASES, ids=" ".join)
def test_deferred_coercion_gives_typers_own_result(case: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROGRAM, json.dumps([case])],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["same"], report


def test_only_flags_and_defaults_import_no_pydantic() -> None:
    code = (
        "import sys\nfrom pathlib import Path\nimport typer\nfrom typer.testing import CliRunner\n"
        "from shipyard.cli.typer_coercion import defer_typer_coercion\n"
        "defer_typer_coercion()\napp = typer.Typer()\n"
        "@app.command()\ndef main(p: Path, s: str = 'x', n: int = 3, flag: bool = False) -> None:\n"
        "    print(p, s, n, flag)\n"
        "result = CliRunner().invoke(app, ['here', '--s', 'y', '--flag'])\n"
        "print(result.exit_code, 'pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0 False"
