"""MLflow's own examples, run unchanged against ``shipyard server`` and ``mlflow server`` 3.17.2.

    git clone --depth 1 -b v3.17.2 https://github.com/mlflow/mlflow /tmp/mlflow-src
    python bench/tracking/examples.py --mlflow-src /tmp/mlflow-src

Two sets of cases, each run by the full ``mlflow`` 3.17.2 client (a peer virtualenv under
``--venvs`` with scikit-learn, xgboost, lightgbm and matplotlib):

- the scripts of ``examples/`` listed in ``EXAMPLE_SCRIPTS``: every one there that trains a
  scikit-learn, XGBoost, LightGBM or python_function model, or only tracks, on data it carries
  or makes (the others need a deep-learning framework, Spark, Databricks, an LLM provider's key
  or a download);
- every ``.. code-block:: python`` example in the docstrings of ``MlflowClient``'s public methods,
  read from the installed client.

Both servers start empty (SQLite) and see the cases in the same order. Each case runs in a fresh
process with ``MLFLOW_TRACKING_URI`` set, in a fresh copy of its folder; it passes when it exits 0
within ``--timeout`` seconds. The table goes to stdout and ``examples.json``; a case that passes
against ``mlflow server`` but not against ``shipyard server`` is printed with its error and makes
the exit status 1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from servers import Server, start_mlflow, start_shipyard

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from peers import add_venvs_option, host_pin, mlflow_pins, peer_python

HERE = Path(__file__).parent
EXAMPLE_SCRIPTS = (
    "examples/quickstart/mlflow_tracking.py",
    "examples/sklearn_logistic_regression/train.py",
    "examples/sklearn_autolog/simple.py",
    "examples/sklearn_autolog/linear_regression.py",
    "examples/sklearn_autolog/pipeline.py",
    "examples/sklearn_autolog/grid_search_cv.py",
    "examples/xgboost/xgboost_native/train.py",
    "examples/xgboost/xgboost_sklearn/train.py",
    "examples/lightgbm/lightgbm_native/train.py",
    "examples/lightgbm/lightgbm_sklearn/train.py",
    "examples/pyfunc/train.py",
    "examples/demos/mlflow-3/ml.py",
)
# Run inside the peer: prints the docstring examples of MlflowClient as JSON.
DOCSTRING_EXAMPLES = r"""
import inspect, json, textwrap
from mlflow import MlflowClient

def blocks(doc):
    lines = doc.expandtabs().splitlines()
    for start, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue
        indent = len(line) - len(line.lstrip())
        body = []
        for following in lines[start + 1:]:
            stripped = following.strip()
            if stripped and len(following) - len(following.lstrip()) <= indent:
                break
            if not body and stripped.startswith(":"):
                continue  # a directive option such as :caption:
            body.append(following)
        code = textwrap.dedent("\n".join(body)).strip()
        if code:
            yield code

cases = []
for name, member in sorted(vars(MlflowClient).items()):
    if name.startswith("_") or not inspect.isfunction(member) or not member.__doc__:
        continue
    for number, code in enumerate(blocks(member.__doc__), start=1):
        cases.append({"name": f"MlflowClient.{name} #{number}", "code": code})
print(json.dumps(cases))
"""


@dataclass
class Case:
    name: str
    kind: str  # "example" or "docstring"
    script: str  # the path in the mlflow checkout, or the code itself
    mlflow: bool = False
    shipyard: bool = False
    shipyard_error: str = ""


def peer_pins() -> tuple[str, ...]:
    """MLflow with the libraries its examples train with, at the versions installed here."""
    return (*mlflow_pins(), host_pin("xgboost"), host_pin("lightgbm"), "matplotlib==3.11.2")


def docstring_cases(python: Path) -> list[Case]:
    found = subprocess.run(
        [str(python), "-c", DOCSTRING_EXAMPLES], check=True, capture_output=True, text=True
    )
    return [Case(item["name"], "docstring", item["code"]) for item in json.loads(found.stdout)]


def example_cases(source: Path) -> list[Case]:
    missing = [path for path in EXAMPLE_SCRIPTS if not (source / path).is_file()]
    if missing:
        raise SystemExit(f"not in {source}: {', '.join(missing)} (is it a checkout of mlflow?)")
    return [Case(path.removeprefix("examples/"), "example", path) for path in EXAMPLE_SCRIPTS]


def run_case(case: Case, python: Path, source: Path, server: Server, timeout: float) -> str:
    """Run one case against one server: "" when it passed, else the tail of its output."""
    with tempfile.TemporaryDirectory(prefix="sy-example-") as scratch:
        folder = Path(scratch) / "case"
        if case.kind == "example":
            shutil.copytree((source / case.script).parent, folder)
            command = [str(python), Path(case.script).name]
        else:
            folder.mkdir()
            (folder / "example.py").write_text(case.script)
            command = [str(python), "example.py"]
        env = {
            "PATH": f"{python.parent}:/usr/bin:/bin",
            "HOME": scratch,
            "MLFLOW_TRACKING_URI": server.url,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "MPLBACKEND": "Agg",
        }
        try:
            done = subprocess.run(
                command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return f"timed out after {timeout:.0f} s"
        if done.returncode == 0:
            return ""
        lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        return "\n".join(lines[-3:]) or f"exit {done.returncode}"


def each_case(cases: list[Case]) -> Iterator[tuple[int, Case]]:
    for number, case in enumerate(cases, start=1):
        print(f"[examples] {number}/{len(cases)} {case.name}", file=sys.stderr, flush=True)
        yield number, case


def table(cases: list[Case]) -> str:
    def mark(passed: bool) -> str:
        return "pass" if passed else "fail"

    rows = ["| case | mlflow server | shipyard server |", "| --- | --- | --- |"]
    rows += [f"| `{c.name}` | {mark(c.mlflow)} | {mark(c.shipyard)} |" for c in cases]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mlflow-src", type=Path, required=True, help="a checkout of mlflow")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per case")
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    parser.add_argument("--out", type=Path, default=HERE / "examples.json")
    add_venvs_option(parser)
    args = parser.parse_args()
    python = peer_python("mlflow-examples", peer_pins(), args.venvs)
    cases = example_cases(args.mlflow_src) + docstring_cases(python)
    cases = [case for case in cases if args.only in case.name]
    with tempfile.TemporaryDirectory(prefix="sy-examples-") as scratch:
        work = Path(scratch)
        (work / "mlflow").mkdir()
        (work / "shipyard").mkdir()
        mlflow_server = start_mlflow(work / "mlflow", python.parent / "mlflow")
        shipyard_server = start_shipyard(work / "shipyard")
        try:
            for _, case in each_case(cases):
                source, timeout = args.mlflow_src, args.timeout
                case.mlflow = not run_case(case, python, source, mlflow_server, timeout)
                error = run_case(case, python, source, shipyard_server, timeout)
                case.shipyard, case.shipyard_error = not error, error
        finally:
            mlflow_server.stop()
            shipyard_server.stop()
    print(table(cases))
    for kind in ("example", "docstring"):
        group = [case for case in cases if case.kind == kind]
        print(
            f"{kind}s: mlflow server {sum(c.mlflow for c in group)}/{len(group)}, "
            f"shipyard server {sum(c.shipyard for c in group)}/{len(group)}"
        )
    args.out.write_text(json.dumps([asdict(case) for case in cases], indent=1) + "\n")
    gaps = [case for case in cases if case.mlflow and not case.shipyard]
    for case in gaps:
        print(f"\nonly mlflow server passes {case.name}:\n{case.shipyard_error}")
    sys.exit(1 if gaps else 0)


if __name__ == "__main__":
    main()
