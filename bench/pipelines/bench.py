"""Pipelines benchmark: the 5-step example's first run vs its fully cached re-run, and the docker
executor's per-step overhead, each against a floor measured in the same run.

    PYTHONPATH=src python bench/pipelines/bench.py [--repeat 3] [--docker] [--base-image IMG]
        [--peers kfp|none] [--venvs DIR] [--wheels DIR] [--no-bytecode-cache]

With ``--docker --peers kfp`` it also runs peer_kfp.py (KFP's local DockerRunner on one empty
component) in a throwaway virtualenv with kfp pinned (made under ``--venvs`` on first use, see
bench/peers.py), on ``KFP_BASE``: ``--base-image`` with kfp installed from wheels built here (the
containers reach no package index, and KFP's runner ``pip install``s kfp in each step).

Goals (issue 19, which replaced issue 13's warm daemon and its +0.5 s):
  cached re-run    <= floor + 1.0 s, floor = python -c "import <the pipeline file>"
  empty docker step <= floor + 1.0 s, floor = docker run --rm IMAGE python -c pass
Prints a Markdown table (docs/benchmarks/pipelines.md holds the published one); bench/cli times
the cached re-run with min/median/max next to the CLI's other start-up figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pipelines"
EMPTY = Path(__file__).resolve().with_name("empty.py")
PEER_KFP = Path(__file__).resolve().with_name("peer_kfp.py")
sys.path.insert(0, str(ROOT / "bench"))
from peers import KFP_PINS, add_venvs_option, peer_python  # noqa: E402

KFP_BASE = "shipyard-bench-pipelines/kfp-base:{version}"
KFP_DOCKERFILE = """FROM {base}
ENV PIP_BREAK_SYSTEM_PACKAGES=1
COPY wheels/ /tmp/kfp-wheels/
RUN python3 -m pip install --no-index --find-links=/tmp/kfp-wheels {pins} && rm -rf /tmp/kfp-wheels
"""


def timed(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{argv} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def bench_local(repeat: int, env: dict[str, str], project: Path) -> dict[str, float]:
    """The floor, the first run, and the cached re-run, interleaved with the floor so both see
    the same machine."""
    python = sys.executable
    floor_argv = [python, "-c", "import cancer"]
    floor_env = {**env, "PYTHONPATH": f"{project}:{env['PYTHONPATH']}"}
    timed(floor_argv, floor_env)  # writes the bytecode caches, as an installed package has them
    run = [python, "-m", "shipyard", "pipeline", "run", str(project / "cancer.py"), "--json"]
    first = timed(run, env)
    floor: list[float] = []
    cached: list[float] = []
    for _ in range(repeat):
        floor.append(timed(floor_argv, floor_env))
        cached.append(timed(run, env))
    return {"floor": median(floor), "first": first, "cached": median(cached)}


def bench_docker(repeat: int, env: dict[str, str], base: str) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "src"))
    from shipyard.config import Settings
    from shipyard.pipelines.executors.stepimage import plan_step_image
    from shipyard.pipelines.loader import load_pipeline
    from shipyard.pipelines.runner import RunOptions, run_pipeline

    settings = Settings.from_env(env)
    options = RunOptions(executor="docker", base_image=base, build_cache=Path(env["BENCH_WHEELS"]))
    loaded = load_pipeline(str(EMPTY))
    run_pipeline(loaded, settings, options)  # builds (or finds) the step image
    steps: list[float] = []
    runs: list[float] = []  # the whole run, in-process: what peer_kfp.py times for KFP
    for _ in range(repeat):
        started = time.perf_counter()
        summary = run_pipeline(loaded, settings, options)
        runs.append(time.perf_counter() - started)
        steps.append(summary.step("empty").duration_s or 0.0)
    image = plan_step_image(("pyarrow>=14", "scikit-learn>=1.3"), base_image=base).tag
    floor_argv = [
        "docker",
        "run",
        "--rm",
        "--entrypoint",
        "/opt/venv/bin/python",
        image,
        "-c",
        "pass",
    ]
    floor = [timed(floor_argv, env) for _ in range(repeat)]
    cli = [
        sys.executable,
        "-m",
        "shipyard",
        "pipeline",
        "run",
        str(EMPTY),
        "--executor",
        "docker",
        "--base-image",
        base,
        "--json",
    ]
    cli_env = {**env, "SHIPYARD_BUILD_CACHE": env["BENCH_WHEELS"]}
    whole = [timed(cli, cli_env) for _ in range(repeat)]
    return {
        "floor": median(floor),
        "step": median(steps),
        "in_process_run": median(runs),
        "whole_run": median(whole),
    }


def kfp_base_image(python: Path, base: str, venvs: Path) -> str:
    """``KFP_BASE``, built from ``base`` once (kfp's wheels built with the peer's pip)."""
    tag = KFP_BASE.format(version=KFP_PINS[0].partition("==")[2])
    found = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False)
    if found.returncode == 0:
        return tag
    context = venvs / "kfp-base"
    shutil.rmtree(context, ignore_errors=True)
    wheels = context / "wheels"
    print(f"[bench] building {tag} from {base}", file=sys.stderr, flush=True)
    pip = [str(python), "-m", "pip", "wheel", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-w", str(wheels), KFP_PINS[0]], check=True)  # kfp alone
    dockerfile = KFP_DOCKERFILE.format(base=base, pins=KFP_PINS[0])
    (context / "Dockerfile").write_text(dockerfile)
    subprocess.run(["docker", "build", "-q", "-t", tag, str(context)], check=True)
    return tag


def bench_kfp(repeat: int, base: str, venvs: Path) -> dict[str, Any]:
    """peer_kfp.py in KFP's virtualenv on ``kfp_base_image``: its median, or its error."""
    python = peer_python("kfp", KFP_PINS, venvs)
    image = kfp_base_image(python, base, venvs)
    argv = [str(python), str(PEER_KFP), "--base-image", image, "--repeat", str(repeat)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        return {"error": f"peer_kfp.py exited with {done.returncode}: {done.stderr[-2000:]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--docker", action="store_true")
    parser.add_argument(
        "--base-image", default=os.environ.get("SHIPYARD_TEST_BASE_IMAGE", "python:3.11-slim")
    )
    parser.add_argument("--peers", default="none", choices=("kfp", "none"), help="with --docker")
    add_venvs_option(parser)
    parser.add_argument("--wheels", default=str(Path.home() / ".cache" / "shipyard-bench-wheels"))
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="compile every module at every start (PYTHONDONTWRITEBYTECODE=1), as earlier runs did",
    )
    args = parser.parse_args()
    if args.peers == "kfp" and not args.docker:
        parser.error("--peers kfp compares the docker executor: add --docker")
    work = Path(tempfile.mkdtemp(prefix="shipyard-bench-pipelines-"))
    env = {
        **os.environ,
        "SHIPYARD_HOME": str(work / "home"),
        "PYTHONPATH": str(ROOT / "src"),
        "BENCH_WHEELS": args.wheels,
        # bytecode cached as in an installed Shipyard (kept out of the source tree);
        # with PYTHONDONTWRITEBYTECODE=1 every CLI start compiles Shipyard's modules again
        "PYTHONPYCACHEPREFIX": str(work / "pycache"),
    }
    try:
        project = work / "project"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if args.no_bytecode_cache:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
        local = bench_local(args.repeat, env, project)
        rows = [
            ("floor: python -c 'import cancer'", local["floor"], ""),
            ("first run, 5 steps (local)", local["first"], ""),
            (
                "fully cached re-run (local)",
                local["cached"],
                f"floor + {local['cached'] - local['floor']:.2f} s (goal <= +1.0 s)",
            ),
        ]
        if args.docker:
            docker = bench_docker(args.repeat, env, args.base_image)
            rows += [
                ("floor: docker run --rm IMAGE python -c pass", docker["floor"], ""),
                (
                    "empty step, docker executor",
                    docker["step"],
                    f"floor + {docker['step'] - docker['floor']:.2f} s (goal <= +1.0 s)",
                ),
                ("whole run of the empty step, in-process", docker["in_process_run"], ""),
                (
                    "whole run of the empty step, CLI (`shipyard pipeline run`)",
                    docker["whole_run"],
                    "",
                ),
            ]
        kfp: dict[str, Any] = {}
        if args.peers == "kfp":
            kfp = bench_kfp(args.repeat, args.base_image, args.venvs)
            if "median_s" in kfp:
                name = f"KFP {KFP_PINS[0].partition('==')[2]} local `DockerRunner`, whole run"
                rows.append((name, float(kfp["median_s"]), "peer"))
            else:
                print(f"KFP failed: {kfp['error']}", file=sys.stderr)
        print("| measurement | seconds (median) | vs floor |")
        print("| --- | ---: | --- |")
        for name, seconds, note in rows:
            print(f"| {name} | {seconds:.2f} | {note} |")
        extra = {"docker": docker, "kfp": kfp} if args.docker else {}
        print(json.dumps({"local": local, **extra}))
        print(f"load average at end: {os.getloadavg()}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
