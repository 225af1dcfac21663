"""Fixtures for deployments: the build suite's engine, model and image (shared, built once), a
second model version's image, a broken image, the nginx image and a load generator.

Everything a test creates carries a unique ``sy-dep-<hex>`` prefix and is removed afterwards.
"""

from __future__ import annotations

import io
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sklearn.datasets import load_breast_cancer

import shipyard
from shipyard.config import Settings
from shipyard.docker_engine import BuiltImage, DockerEngine
from shipyard.image.image import remove_build
from shipyard.image.pipeline import build_image, plan_build
from shipyard.registry.entities import ModelVersion
from shipyard.registry.registry import Registry
from tests.image.conftest import (
    DemoModel,
    base_image,
    built_image,
    demo_model,
    engine,
    unique_tag,
    wheel_cache,
)

__all__ = ["base_image", "built_image", "demo_model", "engine", "wheel_cache"]

ROW = {name: 1.0 for name in load_breast_cancer().feature_names}
DEFAULT_LB = "shipyard-test/nginx:bookworm"


def unique_name() -> str:
    return f"sy-dep-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def lb_image(engine: DockerEngine) -> str:
    """The nginx image (Debian's package on the local base; see scripts/services.sh)."""
    name = os.environ.get("SHIPYARD_TEST_LB_IMAGE", DEFAULT_LB)
    try:
        engine.inspect(name)
    except Exception as exc:
        pytest.skip(f"load balancer image {name} is missing ({exc}): run `. scripts/services.sh`")
    return name


@pytest.fixture(scope="session")
def second_version(demo_model: DemoModel) -> ModelVersion:
    """Version 2 of the demo model (fewer trees), registered in the same home."""
    from sklearn.ensemble import RandomForestClassifier

    settings = Settings.from_env(demo_model.env)
    features, target = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=10, random_state=1).fit(features, target)
    version = shipyard.save_model(model, "cancer", sample_input=features[:5], settings=settings)
    with Registry.from_settings(settings) as registry:
        return registry.get(version.ref)


@pytest.fixture(scope="session")
def second_image(
    engine: DockerEngine,
    base_image: str,
    demo_model: DemoModel,
    second_version: ModelVersion,
    wheel_cache: Path,
) -> Iterator[BuiltImage]:
    settings = Settings.from_env(demo_model.env)
    with Registry.from_settings(settings) as registry:
        folder = registry.fetch(second_version.ref)
    spec = plan_build(folder, base_image=base_image, tags=(unique_tag(),))
    image = build_image(engine, spec, folder, cache_dir=wheel_cache)
    yield image
    remove_build(engine, image, spec.tags)


@pytest.fixture(scope="session")
def broken_image(engine: DockerEngine, built_image: BuiltImage) -> Iterator[str]:
    """The demo image with one model file removed: the server starts, the model fails to load."""
    tag = unique_tag("shipyard-test/broken")
    dockerfile = (
        f"FROM {built_image.id}\nUSER 0\n"
        "RUN find /opt/shipyard/model -type f | sort | tail -1 | xargs rm -f\n"
        "USER 10001:10001\n"
    )
    engine.client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    yield tag
    engine.remove_image(tag)


@dataclass
class Load:
    """Constant, bounded load on a URL from one thread; counts failures and latencies."""

    url: str
    rows: int = 1
    ok: int = 0
    failed: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Load:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            deadline = time.monotonic() + 240  # bounded whatever happens
            while not self._stop.is_set() and time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    response = client.post(f"{self.url}/predict", json=[ROW] * self.rows)
                    if response.status_code == 200:
                        self.ok += 1
                    else:
                        self.failed.append(f"{response.status_code} {response.text[:200]}")
                except httpx.HTTPError as exc:
                    self.failed.append(repr(exc))
                self.latencies.append(time.perf_counter() - started)
                time.sleep(0.01)

    def stop(self) -> Load:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        return self
