"""``shipyard build | dockerfile | run`` from the command line, error paths included."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.deploy.targets.docker.container import RunningContainer, stop_container
from shipyard.docker_engine import BuiltImage, DockerEngine
from shipyard.image.dockerfile import STAGE_LABEL
from shipyard.registry.folder import read_verified_folder
from tests.image.conftest import DemoModel, delete_manifest, unique_tag


@pytest.fixture
def cli_env(demo_model: DemoModel, wheel_cache: Path) -> dict[str, str]:
    return {**demo_model.env, "SHIPYARD_BUILD_CACHE": str(wheel_cache)}


@pytest.fixture
def dead_docker(tmp_path: Path) -> dict[str, str]:
    """DOCKER_HOST pointing at a socket no engine listens on."""
    return {"DOCKER_HOST": f"unix://{tmp_path / 'no-engine.sock'}"}


def test_build_without_engine_suggests_dockerfile(
    cli_env: dict[str, str], dead_docker: dict[str, str]
) -> None:
    result = CliRunner().invoke(app, ["build", "cancer:1"], env={**cli_env, **dead_docker})
    assert result.exit_code == 6, result.output
    assert "no Docker engine reachable" in result.stderr
    assert "shipyard dockerfile" in result.stderr


def test_build_unknown_ref_reports_the_registry_error(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["build", "no-such-model:1", "--json"], env=cli_env)
    assert result.exit_code == 3, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "NotFoundError" and "no-such-model" in error["message"]


def test_dockerfile_writes_a_complete_context_without_an_engine(
    cli_env: dict[str, str], dead_docker: dict[str, str], demo_model: DemoModel, tmp_path: Path
) -> None:
    out = tmp_path / "context"
    args = ["dockerfile", "cancer@production", "-o", str(out), "--json"]
    result = CliRunner().invoke(app, args, env={**cli_env, **dead_docker})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tags"] == ["shipyard/cancer:1", "shipyard/cancer:production"]
    for name in ("Dockerfile", ".dockerignore", "requirements.lock", "config/build.json"):
        assert (out / name).is_file(), name
    assert (out / "service" / "shipyard" / "__main__.py").is_file()
    assert read_verified_folder(out / "model").digest == demo_model.version.digest
    assert "FROM python:3.11-slim AS builder" in (out / "Dockerfile").read_text()


def test_lock_names_every_wheel_with_its_sha256(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "context"
    result = CliRunner().invoke(app, ["dockerfile", "cancer:1", "-o", str(out)], env=cli_env)
    assert result.exit_code == 0, result.output
    lock = [ln for ln in (out / "requirements.lock").read_text().splitlines() if "==" in ln]
    hashes = {ln.rpartition("--hash=sha256:")[2] for ln in lock}
    wheels = sorted((out / "wheelhouse").glob("*.whl"))
    assert len(wheels) == len(lock) > 10
    assert {hashlib.sha256(w.read_bytes()).hexdigest() for w in wheels} == hashes
    names = {ln.partition("==")[0] for ln in lock}
    assert {"scikit-learn", "numpy", "uvicorn", "orjson"} <= names


def test_same_version_gives_a_byte_identical_context(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
        return {
            str(p.relative_to(folder)): (
                hashlib.sha256(p.read_bytes()).hexdigest(),
                int(p.stat().st_mtime),
            )
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }

    for name in ("a", "b"):
        args = ["dockerfile", "cancer:1", "-o", str(tmp_path / name)]
        assert CliRunner().invoke(app, args, env=cli_env).exit_code == 0
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_dockerfile_refuses_a_non_empty_folder(cli_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(app, ["dockerfile", "cancer:1", "-o", str(tmp_path)], env=cli_env)
    assert result.exit_code == 4
    assert "not empty" in result.stderr


@pytest.mark.docker
@pytest.mark.slow
def test_build_push_json_reports_id_tags_size_and_digest(
    cli_env: dict[str, str],
    engine: DockerEngine,
    base_image: str,
    built_image: BuiltImage,
    oci_registry: str,
) -> None:
    tag = unique_tag(f"{oci_registry}/shipyard-test/cancer")
    args = ["build", "cancer:1", "--base-image", base_image, "--tag", tag, "--push", "--json"]
    stages_before = set(stage_images(engine))
    result = CliRunner().invoke(app, args, env=cli_env)
    try:
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert tag in report["tags"]
        assert report["id"].startswith("sha256:") and report["size"] > 100_000_000
        assert (report["model"]["name"], report["model"]["version"]) == ("cancer", 1)
        assert len(report["model"]["digest"]) == 64
        assert report["pushed"][tag].startswith("sha256:")
        assert report["digest"] == report["pushed"][tag]
    finally:
        engine.remove_image(tag)
        for image in set(stage_images(engine)) - stages_before:
            engine.remove_image(image, force=False)
        if result.exit_code == 0:
            delete_manifest(oci_registry, tag, json.loads(result.stdout)["pushed"][tag])


@pytest.mark.docker
def test_push_command_prints_the_registry_digest(
    cli_env: dict[str, str], engine: DockerEngine, built_image: BuiltImage, oci_registry: str
) -> None:
    tag = unique_tag(f"{oci_registry}/shipyard-test/cancer")
    engine.tag(built_image.id, tag)
    try:
        result = CliRunner().invoke(app, ["push", tag, "--json"], env=cli_env)
        assert result.exit_code == 0, result.output
        digest = json.loads(result.stdout)["digest"]
        assert digest.startswith("sha256:")
        delete_manifest(oci_registry, tag, digest)
    finally:
        engine.remove_image(tag)


def stage_images(engine: DockerEngine) -> list[str]:
    """Untagged intermediate stage images (builder, service) in the engine."""
    found = engine.client.api.images(filters={"dangling": True, "label": STAGE_LABEL}, quiet=True)
    return [str(image) for image in found]


@pytest.mark.docker
@pytest.mark.slow
def test_run_detach_waits_until_healthy_and_prints_the_url(
    cli_env: dict[str, str], engine: DockerEngine, built_image: BuiltImage
) -> None:
    args = ["run", built_image.tags[0], "--port", "0", "--detach", "--json"]
    result = CliRunner().invoke(app, args, env=cli_env)
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    running = RunningContainer(
        info["id"], info["name"], info["image"], "127.0.0.1", int(info["url"].rpartition(":")[2])
    )
    try:
        assert info["url"].startswith("http://127.0.0.1:")
        assert httpx.get(f"{info['url']}/readyz", timeout=5).status_code == 200
    finally:
        stop_container(engine, running)


def test_dockerfile_accepts_a_model_folder_instead_of_a_reference(
    cli_env: dict[str, str], demo_model: DemoModel, tmp_path: Path
) -> None:
    out = tmp_path / "context"
    args = ["dockerfile", str(demo_model.folder), "-o", str(out), "--keep-tests", "--json"]
    result = CliRunner().invoke(app, args, env=cli_env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tags"][0] == "shipyard/cancer:1"
    assert "-name tests" not in (out / "Dockerfile").read_text()
