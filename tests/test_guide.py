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
import subprocess
import sys
from pathlib import Path

import pytest

import shipyard

GUIDE = Path(__file__).parents[1] / "docs" / "guide"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
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


@pytest.mark.slow
@pytest.mark.parametrize("page", ["saving.md"])
def test_the_guide_examples_run(page: str, shipyard_env: dict[str, str], tmp_path: Path) -> None:
    steps = _steps(page)
    assert any(name is None for _, name, _ in steps), f"{page} has no runnable python block"
    (tmp_path / "steps.json").write_text(json.dumps(steps))
    env = {**os.environ, **shipyard_env, "PYTHONPATH": str(Path(shipyard.__file__).parents[1])}

    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, "steps.json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert "scikit-learn==" in completed.stdout  # the first example prints its pins
