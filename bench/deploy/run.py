"""Benchmark ``shipyard deploy`` on the real Docker engine and a single-node Swarm.

    python bench/deploy/run.py --base-image shipyard-test/python:3.11-bookworm \
        --lb-image shipyard-test/nginx:bookworm            # about 15 minutes on 2 cores

For each target: time from ``deploy`` to 3 replicas ready; a rolling update of 3 replicas under
constant bounded load (4 client threads, 1-row /predict, 127.0.0.1): duration, p99 and failed
requests; a broken version's automatic rollback under the same load: time and failed requests;
req/s through the balancer with 1 and 2 replicas (wrk, 16 connections, 10 s, after a 2 s
warm-up). Writes docs/benchmarks/deploy.md. Removes everything it made.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

import shipyard
from shipyard.config import Settings
from shipyard.deploy.service import Deployments
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.docker.target import DockerTarget
from shipyard.deploy.targets.swarm.target import SwarmTarget
from shipyard.docker_engine import DockerEngine
from shipyard.errors import RolloutError
from shipyard.image.pipeline import build_image, plan_build
from shipyard.registry.registry import Registry

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
ROW = {name: 1.0 for name in load_breast_cancer().feature_names}
RESULT = re.compile(r"RESULT (.*)")


@dataclass
class Load:
    url: str
    threads: int = 4
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        for _ in range(self.threads):
            worker = threading.Thread(target=self._run, daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def _run(self) -> None:
        deadline = time.monotonic() + 600
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set() and time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    ok = client.post(f"{self.url}/predict", json=[ROW]).status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.latencies.append(time.perf_counter() - started)
                if ok:
                    self.ok += 1
                else:
                    self.failed += 1
                time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)

    @property
    def p99_ms(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98] * 1000 if self.latencies else 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wrk_rps(url: str, seconds: float = 10, connections: int = 16) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as body:
        json.dump([ROW], body)
    env = {**os.environ, "BODY_FILE": body.name, "CONTENT_TYPE": "application/json"}
    script = str(ROOT / "bench" / "serve" / "post.lua")
    base = ["wrk", "-t1", f"-c{connections}", "--timeout", "10s", "-s", script]
    subprocess.run([*base, "-d2s", f"{url}/predict"], env=env, capture_output=True, check=True)
    out = subprocess.run(
        [*base, f"-d{seconds:g}s", f"{url}/predict"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields = dict(kv.split("=") for kv in RESULT.search(out).group(1).split())  # type: ignore[union-attr]
    os.unlink(body.name)
    return int(fields["requests"]) / (int(fields["duration_us"]) / 1e6)


def build_images(engine: DockerEngine, base: str, home: Path, cache: Path) -> tuple[str, str, str]:
    settings = Settings.from_env({"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "bench"})
    features, target = load_breast_cancer(return_X_y=True, as_frame=True)
    tags = []
    for trees in (50, 10):
        model = RandomForestClassifier(n_estimators=trees, random_state=0).fit(features, target)
        version = shipyard.save_model(model, "cancer", sample_input=features[:5], settings=settings)
        with Registry.from_settings(settings) as registry:
            folder = registry.fetch(version.ref)
        tag = f"shipyard-bench/cancer:{uuid.uuid4().hex[:8]}"
        build_image(
            engine, plan_build(folder, base_image=base, tags=(tag,)), folder, cache_dir=cache
        )
        tags.append(tag)
    broken = f"shipyard-bench/broken:{uuid.uuid4().hex[:8]}"
    dockerfile = (
        f"FROM {tags[0]}\nUSER 0\nRUN find /opt/shipyard/model -type f | sort | tail -1 | "
        "xargs rm -f\nUSER 10001:10001\n"
    )
    engine.client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=broken, rm=True)
    return tags[0], tags[1], broken


def bench_target(
    kind: str, engine: DockerEngine, images: tuple[str, str, str], lb: str, settings: Settings
) -> dict[str, float]:
    v1, v2, broken = images
    target = DockerTarget(engine) if kind == "docker" else SwarmTarget(engine)
    name = f"bench-{kind}-{uuid.uuid4().hex[:4]}"
    spec = DeploymentSpec(
        name=name,
        image=v1,
        target=kind,
        replicas=3,  # type: ignore[arg-type]
        port=free_port(),
        lb_image=lb,
    )
    quiet = lambda _m: None  # noqa: E731
    row: dict[str, float] = {}
    with Deployments.open(settings) as deployments:
        try:
            started = time.monotonic()
            _, status = deployments.deploy(spec, target, progress=quiet)
            row["deploy_to_3_ready_s"] = time.monotonic() - started
            url = status.url or ""
            with Load(url) as load:
                started = time.monotonic()
                deployments.change(name, target, action="update", progress=quiet, image=v2)
                row["update_s"] = time.monotonic() - started
            row["update_p99_ms"], row["update_failed"] = load.p99_ms, load.failed
            row["update_requests"] = load.ok + load.failed
            with Load(url) as load:
                started = time.monotonic()
                try:
                    deployments.change(name, target, action="update", progress=quiet, image=broken)
                except RolloutError:
                    pass
                row["rollback_s"] = time.monotonic() - started
            row["rollback_failed"], row["rollback_requests"] = load.failed, load.ok + load.failed
            deployments.change(name, target, action="scale", progress=quiet, replicas=1)
            row["rps_1"] = wrk_rps(url)
            deployments.change(name, target, action="scale", progress=quiet, replicas=2)
            row["rps_2"] = wrk_rps(url)
        finally:
            deployments.remove(name, target) if target.exists(name) else None
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-image", default=os.environ.get("SHIPYARD_TEST_BASE_IMAGE", "python:3.11-slim")
    )
    parser.add_argument(
        "--lb-image", default=os.environ.get("SHIPYARD_TEST_LB_IMAGE", "nginx:1.27")
    )
    parser.add_argument("--targets", default="docker,swarm")
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "shipyard-bench-wheels"
    )
    args = parser.parse_args()
    rows: dict[str, dict[str, float]] = {}
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, DockerEngine.connect() as engine:
        home = Path(tmp) / "home"
        settings = Settings.from_env({"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "bench"})
        images = build_images(engine, args.base_image, home, args.cache)
        try:
            for kind in args.targets.split(","):
                rows[kind] = bench_target(kind, engine, images, args.lb_image, settings)
                print(kind, json.dumps(rows[kind]), flush=True)
        finally:
            for image in images:
                engine.remove_image(image)
    write_doc(rows, (load_at_start, os.getloadavg()[0]))


def write_doc(rows: dict[str, dict[str, float]], load: tuple[float, float]) -> None:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Deploy benchmark",
        "",
        f"Taken {when} with `python bench/deploy/run.py` on the project's 2-core VM (load",
        f"average {load[0]:.1f} at the start, {load[1]:.1f} at the end: one run, figures are",
        f"indicative), Python {platform.python_version()}, 3 replicas of",
        "RandomForest(50 trees) on breast_cancer behind nginx on 127.0.0.1. Load during the update",
        "and the rollback: 4 client threads posting 1 row in a loop. Throughput: wrk, 16",
        "connections, 10 s after a 2 s warm-up, through the balancer.",
        "",
        "| target | deploy → 3 ready | rolling update (3) | p99 during update | failed "
        "| broken → rolled back | failed | req/s 1 replica | req/s 2 replicas | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind, r in rows.items():
        lines.append(
            f"| {kind} | {r['deploy_to_3_ready_s']:.1f} s | {r['update_s']:.1f} s | "
            f"{r['update_p99_ms']:.0f} ms | {r['update_failed']:.0f} / "
            f"{r['update_requests']:.0f} | {r['rollback_s']:.1f} s | "
            f"{r['rollback_failed']:.0f} / {r['rollback_requests']:.0f} | "
            f"{r['rps_1']:.0f} | {r['rps_2']:.0f} | {r['rps_2'] / r['rps_1']:.2f} |"
        )
    lines += [
        "",
        "The one-host balancer closes each client connection after its response (no keep-alive:",
        "an nginx reload would otherwise reset a request sent on an idle connection at that",
        "instant); the Swarm balancer keeps connections open until its first reload (a canary's",
        "split is swapped in with one; from then on it closes them too). Broken-version rollback:",
        "docker removes",
        "the new replica as soon as it reports its load error; Swarm waits for the failed task and",
        "then runs its own rollback.",
        "On 2 shared cores a second replica competes with the first, with nginx and with wrk for",
        "the same CPUs, so the 1 → 2 replica ratio says little about a real multi-core host.",
        "No peer is compared here: none of BentoML, MLflow or KServe offers a one-host rolling",
        "update with a load balancer to set side by side.",
        "",
    ]
    out = ROOT / "docs" / "benchmarks" / "deploy.md"
    out.write_text("\n".join(lines))
    print(out.read_text())


if __name__ == "__main__":
    sys.exit(main())
