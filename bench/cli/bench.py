"""How long a person waits for the CLI: ``--help``, ``models list`` and a fully cached
``pipeline run`` (over its floor, ``python -c "import <the pipeline file>"``).

Each case is a fresh process, timed from outside (wall seconds, start to exit), run ``--runs``
times in interleaved rounds after one warm-up round, so load on the machine hits every case
alike; the table gives min, median and max, and the load average before and after. In the same
run, as yardsticks: the interpreter alone, the same commands on a baseline tree (``--baseline-ref``,
default main before the lazy CLI, unpacked with ``git archive``) and MLflow's CLI in a throwaway
virtualenv with its pins (``--peers none`` skips it; made once per ``--venvs`` folder).

    python bench/cli/bench.py [--runs 15] [--peers mlflow|none] [--json-out bench/cli/results.json]

Goals (issue 19): ``shipyard --help`` <= 0.25 s, ``shipyard models list`` <= 0.7 s, a fully
cached ``shipyard pipeline run examples/pipelines/cancer.py`` <= 1.0 s over the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
from peers import MLFLOW_VERSION, add_venvs_option, peer_python  # noqa: E402

EXAMPLE = REPO / "examples" / "pipelines"
BASELINE_REF = "e58b892"  # main with the daemon gone, before the lazy CLI (issue 19)
MLFLOW_PINS = (f"mlflow=={MLFLOW_VERSION}",)  # the CLI alone: no scikit-learn
SEEDED_MODELS = ("iris", "churn", "fraud")
GOALS = {"shipyard --help": 0.25, "shipyard models list": 0.7}
PIPELINE_GOAL = 1.0  # seconds over the floor


@dataclass(frozen=True)
class Case:
    label: str
    argv: tuple[str, ...]
    pythonpath: str | None = None
    cwd: Path | None = None


def _shipyard_cases(tree: str, src: Path, project: Path) -> list[Case]:
    python = sys.executable
    cli = (python, "-m", "shipyard")
    run = (*cli, "pipeline", "run", "cancer.py", "--json")
    return [
        Case(f"{tree}: shipyard --help", (*cli, "--help"), str(src)),
        Case(f"{tree}: shipyard models list", (*cli, "models", "list"), str(src)),
        Case(
            f"{tree}: floor: python -c 'import cancer'",
            (python, "-c", "import cancer"),
            f"{src}{os.pathsep}{project}",
            project,
        ),
        Case(f"{tree}: shipyard pipeline run cancer.py (cached)", run, str(src), project),
    ]


def _unpack(ref: str, into: Path) -> Path:
    """``git archive REF src`` unpacked into ``into``; returns its ``src`` folder."""
    into.mkdir(parents=True, exist_ok=True)
    archive = into / "baseline.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(REPO), "archive", ref, "src"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _run(case: Case, env: dict[str, str]) -> float:
    case_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    if case.pythonpath is not None:
        case_env["PYTHONPATH"] = case.pythonpath
    started = time.perf_counter()
    done = subprocess.run(
        case.argv, env=case_env, cwd=case.cwd, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{case.label} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def _seed(env: dict[str, str], src: Path, project: Path) -> None:
    """A registry with a few models, and the example pipeline run once (so it is cached)."""
    code = (
        "from shipyard.cli.demo import train_and_register\n"
        "from shipyard.config import Settings\n"
        f"for name in {SEEDED_MODELS!r}:\n"
        "    train_and_register(Settings.from_env(), name)\n"
    )
    _run(Case("seed the registry", (sys.executable, "-c", code), str(src)), env)
    first = Case("first run", (sys.executable, "-m", "shipyard", "pipeline", "run", "cancer.py"))
    _run(Case(first.label, first.argv, str(src), project), env)


def measure(cases: list[Case], runs: int, env: dict[str, str]) -> dict[str, list[float]]:
    for case in cases:  # warm-up: bytecode caches, the OS file cache, a baseline's own cache
        _run(case, env)
    timings: dict[str, list[float]] = {case.label: [] for case in cases}
    for _ in range(runs):
        for case in cases:
            timings[case.label].append(_run(case, env))
    return timings


def _over_floor(timings: dict[str, list[float]], tree: str) -> list[float]:
    """The cached run minus the floor, round by round (each pair ran in the same minute)."""
    runs = timings[f"{tree}: shipyard pipeline run cancer.py (cached)"]
    floors = timings[f"{tree}: floor: python -c 'import cancer'"]
    return [run - floor for run, floor in zip(runs, floors, strict=True)]


def table(timings: dict[str, list[float]], trees: list[str]) -> str:
    lines = [
        "| case | min (s) | median (s) | max (s) | goal |",
        "| --- | ---: | ---: | ---: | --- |",
    ]

    def row(label: str, values: list[float], goal: str = "") -> None:
        low, mid, high = min(values), statistics.median(values), max(values)
        lines.append(f"| {label} | {low:.3f} | {mid:.3f} | {high:.3f} | {goal} |")

    for label, values in timings.items():
        command = label.partition(": ")[2]
        limit = GOALS.get(command)
        met = (
            ""
            if limit is None
            else f"≤ {limit} s: {'met' if statistics.median(values) <= limit else 'NOT met'}"
        )
        row(label, values, met if label.startswith(trees[0]) else "")
    for tree in trees:
        over = _over_floor(timings, tree)
        met = "met" if statistics.median(over) <= PIPELINE_GOAL else "NOT met"
        goal = f"≤ {PIPELINE_GOAL} s: {met}" if tree == trees[0] else ""
        row(f"**{tree}: cached pipeline run minus floor (paired)**", over, goal)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--baseline-ref", default=BASELINE_REF, help="'' for none")
    parser.add_argument("--peers", default="mlflow", choices=("mlflow", "none"))
    add_venvs_option(parser)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    env = {
        **os.environ,
        "SHIPYARD_HOME": str(scratch / "home"),
        "PYTHONPYCACHEPREFIX": str(scratch / "pycache"),  # bytecode kept, out of the trees
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        project = scratch / "project"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
        src = REPO / "src"
        print("[bench] seeding the registry and running the pipeline once", file=sys.stderr)
        _seed(env, src, project)
        trees = ["this tree"]
        cases = [Case("python -c pass", (sys.executable, "-c", "pass"))]
        cases += _shipyard_cases("this tree", src, project)
        if args.baseline_ref:
            baseline = _unpack(args.baseline_ref, scratch / "baseline")
            trees.append(args.baseline_ref)
            cases += _shipyard_cases(args.baseline_ref, baseline, project)
        if args.peers == "mlflow":
            python = peer_python("cli-mlflow", MLFLOW_PINS, args.venvs)
            cases += [
                Case("mlflow --help", (str(python.parent / "mlflow"), "--help")),
                Case("python -c 'import mlflow'", (str(python), "-c", "import mlflow")),
            ]
        load_before = os.getloadavg()
        timings = measure(cases, args.runs, env)
        load_after = os.getloadavg()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"load average (1, 5, 15 min): before {load_before}, after {load_after}")
    version = sys.version.split()[0]
    print(f"{args.runs} rounds after one warm-up, {os.cpu_count()} cores, Python {version}")
    print(table(timings, trees))
    if args.json_out:
        payload = {
            "runs": args.runs,
            "baseline_ref": args.baseline_ref,
            "load_average": {"before": load_before, "after": load_after},
            "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "timings_s": timings,
        }
        args.json_out.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
