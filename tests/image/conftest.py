"""Fixtures for image builds: a real Docker engine, the local base image, one demo model and one
image built from it, shared by the whole session to keep the Docker suite within minutes.

Docker tests skip with a visible reason when no engine answers; CI (scripts/services.sh) provides
one, the local base image (SHIPYARD_TEST_BASE_IMAGE) and an OCI registry on 127.0.0.1.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

import shipyard
from shipyard.config import Settings
from shipyard.deploy.targets.docker.container import (
    RunningContainer,
    start_container,
    stop_container,
    wait_until_ready,
)
from shipyard.docker_engine import BuiltImage, DockerEngine
from shipyard.errors import DockerUnavailableError
from shipyard.image.image import remove_build
from shipyard.image.pipeline import build_image, plan_build
from shipyard.registry.entities import ModelVersion
from shipyard.registry.registry import Registry

DEFAULT_BASE = "shipyard-test/python:3.11-bookworm"


@dataclass(frozen=True)
class DemoModel:
    """The demo model as registered, its folder, 100 rows and the in-process predictions."""

    version: ModelVersion
    folder: Path
    rows: Any
    expected: np.ndarray[Any, Any]
    env: dict[str, str]


@pytest.fixture(scope="session")
def wheel_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Downloaded wheels, kept across test runs (pytest's cache dir) so rebuilds are offline."""
    cache = getattr(request.config, "cache", None)
    if cache is None:  # -p no:cacheprovider
        return tmp_path_factory.mktemp("build-cache")
    return Path(cache.mkdir("shipyard-build-cache"))


@pytest.fixture(scope="session")
def demo_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoModel]:
    """RandomForest on breast_cancer, saved with ``shipyard.save_model`` in its own home."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    home = tmp_path_factory.mktemp("build-home")
    env = {"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "tester"}
    settings = Settings.from_env(env)
    features, target = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(features, target)
    version = shipyard.save_model(model, "cancer", sample_input=features[:5], settings=settings)
    with Registry.from_settings(settings) as registry:
        registry.set_alias("cancer", "production", version.version)
        folder = registry.fetch(version.ref)
        version = registry.get(version.ref)
    rows = features.iloc[:100]
    yield DemoModel(version, folder, rows, model.predict(rows), env)


@pytest.fixture(scope="session")
def engine() -> Iterator[DockerEngine]:
    """A connected Docker engine, or a skip that says why."""
    try:
        connected = DockerEngine.connect()
    except DockerUnavailableError as exc:
        pytest.skip(f"no Docker engine: {exc}")
    yield connected
    connected.close()


@pytest.fixture(scope="session")
def base_image(engine: DockerEngine) -> str:
    """The local Python base image (no image registry is reachable to pull python:3.11-slim)."""
    name = os.environ.get("SHIPYARD_TEST_BASE_IMAGE", DEFAULT_BASE)
    try:
        engine.inspect(name)
    except Exception as exc:  # the engine is there but the base is not: say how to make it
        pytest.skip(f"base image {name} is missing ({exc}): run `. scripts/services.sh`")
    return name


@pytest.fixture(scope="session")
def oci_registry() -> str:
    """The loopback OCI registry (Debian's docker-registry) that scripts/services.sh starts."""
    address = os.environ.get("SHIPYARD_TEST_OCI_REGISTRY", "127.0.0.1:5000")
    try:
        httpx.get(f"http://{address}/v2/", timeout=2)
    except httpx.HTTPError as exc:
        pytest.skip(f"no OCI registry at {address} ({exc}): run `. scripts/services.sh`")
    return address


def delete_manifest(registry: str, image: str, digest: str) -> None:
    """Delete a pushed manifest so the test registry does not fill up."""
    repository = image.rpartition(":")[0].partition("/")[2]
    httpx.delete(
        f"http://{registry}/v2/{repository}/manifests/{digest}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        timeout=10,
    )


def unique_tag(prefix: str = "shipyard-test/cancer") -> str:
    return f"{prefix}:{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def built_image(
    engine: DockerEngine, base_image: str, demo_model: DemoModel, wheel_cache: Path
) -> Iterator[BuiltImage]:
    """The demo model's image, built once for the session and removed afterwards."""
    spec = plan_build(demo_model.folder, base_image=base_image, tags=(unique_tag(),))
    image = build_image(engine, spec, demo_model.folder, cache_dir=wheel_cache)
    yield image
    remove_build(engine, image, spec.tags)


@pytest.fixture(scope="session")
def running(engine: DockerEngine, built_image: BuiltImage) -> Iterator[RunningContainer]:
    """The built image running, published on a free 127.0.0.1 port, healthy."""
    container = start_container(engine, built_image.id, port=0)
    try:
        wait_until_ready(engine, container)
        yield container
    finally:
        stop_container(engine, container)
