"""Benchmark ``shipyard build`` on the demo scikit-learn model, against the real Docker engine.

Measures: cold build (wheels downloaded into an empty cache, ``--no-cache`` image build), rebuild
after a service-code-only change, rebuild with no change, final image size minus base size against
the installed size of the dependencies, and container start-to-healthy time.

    python bench/build/bench_build.py [--base-image IMAGE] [--runs 3] [--json-out FILE]

Everything it creates (home, caches, images, containers) is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import shipyard
from shipyard.config import Settings
from shipyard.deploy.targets.docker.container import (
    start_container,
    stop_container,
    wait_until_ready,
)
from shipyard.docker_engine import BuiltImage, DockerEngine
from shipyard.image.context import default_service_source
from shipyard.image.image import remove_build
from shipyard.image.pipeline import build_image, plan_build
from shipyard.image.spec import BuildSpec
from shipyard.image.wheelhouse import (
    Target,
    image_requirements,
    resolve_wheelhouse,
    service_requirements,
)
from shipyard.registry.registry import Registry


def save_demo_model(home: Path) -> Path:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    settings = Settings.from_env({"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "bench"})
    features, target = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(features, target)
    version = shipyard.save_model(model, "cancer", sample_input=features[:5], settings=settings)
    with Registry.from_settings(settings) as registry:
        return registry.fetch(version.ref)


def timed_build(
    engine: DockerEngine, spec: BuildSpec, folder: Path, **kwargs: Any
) -> tuple[BuiltImage, float]:
    started = time.perf_counter()
    image = build_image(engine, spec, folder, **kwargs)
    return image, time.perf_counter() - started


def exec_output(engine: DockerEngine, image: str, *argv: str) -> str:
    output = engine.client.containers.run(image, list(argv), entrypoint=[], remove=True)
    return bytes(output).decode()


def start_to_healthy(engine: DockerEngine, image: str) -> tuple[float, float]:
    """Seconds from `docker run` until /readyz answers 200 on 127.0.0.1, and until Docker's
    HEALTHCHECK reports healthy."""
    started = time.perf_counter()
    running = start_container(engine, image, port=0)
    try:
        ready = None
        while ready is None:
            try:
                with urllib.request.urlopen(f"{running.url}/readyz", timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        ready = time.perf_counter() - started
            except OSError:
                time.sleep(0.02)
        wait_until_ready(engine, running)
        return ready, time.perf_counter() - started
    finally:
        stop_container(engine, running)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--base-image",
        default=os.environ.get("SHIPYARD_TEST_BASE_IMAGE", "shipyard-test/python:3.11-bookworm"),
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="shipyard-bench-build-"))
    engine = DockerEngine.connect()
    images: list[tuple[BuiltImage, tuple[str, ...]]] = []
    try:
        folder = save_demo_model(work / "home")
        cache = work / "cache"
        tag = f"shipyard-bench/cancer:{os.getpid()}"
        spec = plan_build(folder, base_image=args.base_image, tags=(tag,))

        target = Target.for_python(spec.python_version)
        reqs = image_requirements(spec.model.manifest.requirements, service_requirements(target))
        started = time.perf_counter()
        resolve_wheelhouse(reqs, target, cache)
        wheels_cold = time.perf_counter() - started
        started = time.perf_counter()
        house = resolve_wheelhouse(reqs, target, cache)
        wheels_warm = time.perf_counter() - started
        wheel_bytes = sum((house.path / w.filename).stat().st_size for w in house.wheels)

        cold, cold_s = timed_build(engine, spec, folder, cache_dir=cache, no_cache=True)
        images.append((cold, spec.tags))
        same, same_s = timed_build(engine, spec, folder, cache_dir=cache)
        images.append((same, ()))

        source = work / "service" / "shipyard"
        shutil.copytree(default_service_source(), source)
        with (source / "serve" / "__init__.py").open("a") as changed:
            changed.write("\n# bench: a service-code-only change\n")
        code_spec = plan_build(folder, base_image=args.base_image, tags=(tag + "-code",))
        code, code_s = timed_build(
            engine, code_spec, folder, cache_dir=cache, service_source=source
        )
        images.append((code, code_spec.tags))
        reused = sum(a == b for a, b in zip(cold.layers, code.layers, strict=False))

        base_size = engine.inspect(args.base_image).size
        venv = int(exec_output(engine, cold.id, "du", "-sb", "/opt/venv").split()[0])
        model = int(exec_output(engine, cold.id, "du", "-sb", "/opt/shipyard/model").split()[0])
        app = int(exec_output(engine, cold.id, "du", "-sb", "/opt/shipyard/app").split()[0])
        starts = [start_to_healthy(engine, cold.id) for _ in range(args.runs)]

        added = cold.size - base_size
        figures = {
            "wheelhouse_cold_s": round(wheels_cold, 1),
            "wheelhouse_cached_s": round(wheels_warm, 2),
            "wheels": len(house.wheels),
            "wheels_mb": round(wheel_bytes / 1e6, 1),
            "cold_image_build_s (--no-cache, wheels cached)": round(cold_s, 1),
            "cold_total_s": round(wheels_cold + cold_s, 1),
            "rebuild_no_change_s": round(same_s, 1),
            "rebuild_after_code_change_s": round(code_s, 1),
            "layers_reused_after_code_change": f"{reused}/{len(code.layers)}",
            "base_mb": round(base_size / 1e6, 1),
            "image_mb": round(cold.size / 1e6, 1),
            "image_minus_base_mb": round(added / 1e6, 1),
            "installed_deps_mb (/opt/venv)": round(venv / 1e6, 1),
            "model_mb": round(model / 1e6, 2),
            "service_code_mb": round(app / 1e6, 2),
            "overhead_mb (added - deps - model - code)": round(
                (added - venv - model - app) / 1e6, 2
            ),
            "start_to_ready_s (HTTP /readyz 200)": [round(r, 2) for r, _ in starts],
            "start_to_docker_healthy_s": [round(h, 2) for _, h in starts],
        }
        width = max(len(k) for k in figures)
        for key, value in figures.items():
            print(f"{key:<{width}}  {value}")
        if args.json_out:
            args.json_out.write_text(json.dumps(figures, indent=2) + "\n")
    finally:
        for image, tags in reversed(images):
            remove_build(engine, image, tags)
        engine.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
