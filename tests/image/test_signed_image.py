"""A signed version is verified inside its image against the keys the build baked in; an image
of a version its keys do not vouch for fails its own smoke test, and the builder refuses an
unsigned version under its trust policy."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from shipyard.docker_engine import DockerEngine
from shipyard.errors import TrustError
from shipyard.image.image import remove_build
from shipyard.image.pipeline import build_image, plan_build
from shipyard.image.smoketest import run_smoke_test
from shipyard.image.spec import BuildSpec
from shipyard.registry.folder import read_version_descriptor, write_version_descriptor
from shipyard.registry.signing import generate_key, signature_tag
from tests.image.conftest import DemoModel, unique_tag


def _signed_copy(folder: Path, dest: Path, key: Path) -> Path:
    """The model folder as a fetch after ``shipyard models sign --key KEY`` gives it."""
    shutil.copytree(folder, dest)
    version = read_version_descriptor(dest)
    tag, value = signature_tag(version, generate_key(key))
    write_version_descriptor(dest, dataclasses.replace(version, tags={**version.tags, tag: value}))
    return dest


def test_a_signed_version_passes_inside_its_image_and_a_foreign_signature_fails(
    engine: DockerEngine,
    base_image: str,
    demo_model: DemoModel,
    wheel_cache: Path,
    tmp_path: Path,
) -> None:
    trusted = _signed_copy(demo_model.folder, tmp_path / "trusted", tmp_path / "team.key")
    foreign = _signed_copy(demo_model.folder, tmp_path / "foreign", tmp_path / "other.key")
    policy = (tmp_path / "team.key.pub",)
    with pytest.raises(TrustError, match="is not signed"):  # the builder checks first
        plan_build(demo_model.folder, base_image=base_image, trusted_keys=policy)

    spec = plan_build(trusted, base_image=base_image, tags=(unique_tag(),), trusted_keys=policy)
    assert len(spec.trusted_keys) == 1
    # the same baked-in key, but a version only "other" signed (plan_build would refuse it)
    forged = BuildSpec.for_model(
        read_version_descriptor(foreign),
        base_image=base_image,
        tags=(unique_tag(),),
        trusted_keys=spec.trusted_keys,
    )
    built = []
    try:
        for each, folder in ((spec, trusted), (forged, foreign)):
            built.append((build_image(engine, each, folder, cache_dir=wheel_cache), each))
        passed = run_smoke_test(engine, built[0][0].id)
        refused = run_smoke_test(engine, built[1][0].id)
    finally:
        for image, each in built:
            remove_build(engine, image, each.tags)
    assert passed.passed, passed.failure_report()
    assert not refused.passed
    assert "only by keys that are not trusted" in refused.failure_report()
