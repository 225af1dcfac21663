"""The README's example runs as written: its Python, then its ``shipyard`` and ``curl`` lines.

The only change made to any line is the port: the test's server listens on a free port (through
``SHIPYARD_SERVE_PORT``, which ``shipyard serve`` reads), so ``localhost:8080`` in the curl line
becomes ``localhost:<that port>``. Everything else, down to the file the curl line sends, is the
README's own text.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import shipyard
from tests.serve.servers import free_port, wait_until_ready

README = Path(__file__).parents[1] / "README.md"


def _example_blocks() -> tuple[str, list[str]]:
    """The Python block and the bash lines of the README's "Example" section."""
    section = README.read_text().split("## Example", 1)[1].split("\n## ", 1)[0]
    python = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    bash = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert python and bash, "the README's Example section has a python and a bash block"
    return python.group(1), [line for line in bash.group(1).splitlines() if line.strip()]


def _argv(line: str) -> list[str]:
    """A README shell line as argv (comments dropped); ``shipyard`` runs this interpreter's."""
    words = shlex.split(line, comments=True)
    return [sys.executable, "-m", "shipyard", *words[1:]] if words[0] == "shipyard" else words


def test_the_readme_lists_every_optional_extra() -> None:
    import tomllib

    extras = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"]
    for extra in set(extras["optional-dependencies"]) - {"dev"}:
        assert f"`shipyard[{extra}]`" in README.read_text(), extra


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's example calls curl")
def test_the_readme_example_works_as_written(shipyard_env: dict[str, str], tmp_path: Path) -> None:
    python, lines = _example_blocks()
    [alias_line] = [line for line in lines if line.startswith("shipyard models alias set")]
    [serve_line] = [line for line in lines if line.startswith("shipyard serve")]
    [curl_line] = [line for line in lines if line.startswith("curl")]
    port = free_port()
    env = {**os.environ, **shipyard_env, "SHIPYARD_SERVE_PORT": str(port)}
    env["PYTHONPATH"] = str(Path(shipyard.__file__).parents[1])  # this shipyard, from any cwd

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=True
        )

    run([sys.executable, "-c", python])
    run(_argv(alias_line))
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        _argv(serve_line), cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", timeout=120)
        assert "localhost:8080" in curl_line
        reply = run(_argv(curl_line.replace("localhost:8080", f"localhost:{port}")))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    promised = lines[lines.index(curl_line) + 1]  # the comment under the curl line
    assert json.loads(reply.stdout) == json.loads(promised.removeprefix("#"))
