"""How long a person waits for ``shipyard --help``, ``--version`` and ``import shipyard``.

Each case is a fresh subprocess, run ``--runs`` times, interleaved so that load on the machine
hits every case alike; the table gives the median and the fastest run. Side by side in the same
run: the interpreter alone, the same commands on a baseline tree (``--baseline-ref``, default the
commit before the facades became lazy, unpacked with ``git archive``), and MLflow's CLI when a
peer virtualenv is given (``--mlflow /work/peers/mlflow``).

    python bench/cli/bench_help.py [--runs 15] [--mlflow /work/peers/mlflow] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BASELINE_REF = "41077b4"  # main before lazy facades: every command imported pandas and SQLAlchemy


@dataclass(frozen=True)
class Case:
    label: str
    argv: tuple[str, ...]
    src: Path | None  # PYTHONPATH for a shipyard tree, or None


def _shipyard_cases(tree: str, src: Path, *, with_version: bool = True) -> list[Case]:
    python = sys.executable
    cases = [
        Case(f"{tree}: shipyard --help", (python, "-m", "shipyard", "--help"), src),
        Case(
            f"{tree}: shipyard models --help", (python, "-m", "shipyard", "models", "--help"), src
        ),
        Case(f"{tree}: import shipyard", (python, "-c", "import shipyard"), src),
    ]
    if with_version:  # the baseline has no --version yet
        cases.insert(
            1, Case(f"{tree}: shipyard --version", (python, "-m", "shipyard", "--version"), src)
        )
    return cases


def _unpack(ref: str, into: Path) -> Path:
    """``git archive REF src`` unpacked into ``into``; returns its ``src`` folder."""
    archive = into / "baseline.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(REPO), "archive", ref, "src"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _time_once(case: Case) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if case.src is not None:
        env["PYTHONPATH"] = str(case.src)
    started = time.perf_counter()
    quiet = subprocess.DEVNULL
    subprocess.run(case.argv, env=env, stdout=quiet, stderr=quiet, check=True)
    return time.perf_counter() - started


def measure(cases: list[Case], runs: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {case.label: [] for case in cases}
    for case in cases:  # warm the OS file cache once
        _time_once(case)
    for _ in range(runs):
        for case in cases:
            timings[case.label].append(_time_once(case))
    return timings


def table(timings: dict[str, list[float]], reference: str) -> str:
    ref = statistics.median(timings[reference])
    lines = [
        "| case | median (s) | fastest (s) | vs `shipyard --help` |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, values in timings.items():
        median = statistics.median(values)
        lines.append(f"| {label} | {median:.3f} | {min(values):.3f} | {median / ref:.1f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--mlflow", type=Path, help="a virtualenv with mlflow installed")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-cli-") as scratch:
        cases = [Case("python -c pass", (sys.executable, "-c", "pass"), None)]
        cases += _shipyard_cases("this tree", REPO / "src")
        if args.baseline_ref:
            baseline = _unpack(args.baseline_ref, Path(scratch))
            cases += _shipyard_cases(args.baseline_ref, baseline, with_version=False)
        if args.mlflow:
            bin_dir = args.mlflow / "bin"
            cases += [
                Case("mlflow --help", (str(bin_dir / "mlflow"), "--help"), None),
                Case("import mlflow", (str(bin_dir / "python"), "-c", "import mlflow"), None),
            ]
        timings = measure(cases, args.runs)

    print(table(timings, "this tree: shipyard --help"))
    if args.json_out:
        payload = {"runs": args.runs, "timings_s": timings}
        args.json_out.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
