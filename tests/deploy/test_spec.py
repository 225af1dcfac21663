"""``spec_from_options``: the command's options become one validated ``DeploymentSpec``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipyard.config import Settings
from shipyard.contract import SMOKE_LOAD_SECONDS_TAG, SMOKE_PEAK_RSS_TAG
from shipyard.deploy.spec import (
    DEFAULT_LB_IMAGE,
    DeployOptions,
    default_deployment_name,
    spec_from_options,
)
from shipyard.errors import ConfigError
from shipyard.models.manifest import Lineage, ModelManifest, Requirements
from shipyard.registry.entities import ArtifactFile, ModelVersion

IMAGE = "registry.local/team/cancer-image:1"
WORKDIR = Path("/srv/work")
KEYS_FILE = "./keys.txt"


def _version(**tags: str) -> ModelVersion:
    when = datetime(2026, 1, 2, tzinfo=UTC)
    return ModelVersion(
        name="cancer",
        version=3,
        digest="sha256:" + "ab" * 32,
        manifest=ModelManifest(
            flavor="sklearn",
            signature=None,
            requirements=Requirements(python_version="3.11.7", packages=()),
            lineage=Lineage(created_at=when, created_by="ana"),
        ),
        files=(ArtifactFile("model.pkl", "cd" * 32, 10),),
        created_at=when,
        created_by="ana",
        tags=dict(tags),
    )


def test_options_are_parsed_and_the_version_sizes_the_probes() -> None:
    version = _version(**{SMOKE_LOAD_SECONDS_TAG: "2.5", SMOKE_PEAK_RSS_TAG: "104857600"})
    options = DeployOptions(
        target="swarm", replicas=3, cpu="500m", memory="1Gi", env=("B=2", "A=1"), autoscale=None
    )

    spec = spec_from_options(options, image=IMAGE, model=version, workdir=WORKDIR)

    assert (spec.name, spec.target, spec.replicas) == ("cancer", "swarm", 3)
    assert (spec.cpu, spec.memory_bytes) == (0.5, 2**30)
    assert spec.env == (("A", "1"), ("B", "2"))
    assert (spec.model_name, spec.model_version) == ("cancer", 3)
    assert (spec.load_seconds, spec.peak_rss_bytes) == (2.5, 104857600)


def test_an_image_alone_is_named_after_it_and_carries_no_model() -> None:
    spec = spec_from_options(DeployOptions(), image=IMAGE, model=None, workdir=WORKDIR)

    assert spec.name == "cancer-image"
    assert (spec.model_name, spec.model_version, spec.load_seconds) == (None, None, None)


def test_host_paths_become_absolute_but_volume_and_secret_names_stay() -> None:
    docker = DeployOptions(api_key_secret=KEYS_FILE, prediction_log="predlogs")
    kubernetes = DeployOptions(target="kubernetes", api_key_secret=KEYS_FILE)

    on_docker = spec_from_options(docker, image=IMAGE, model=None, workdir=WORKDIR)
    on_kubernetes = spec_from_options(kubernetes, image=IMAGE, model=None, workdir=WORKDIR)

    assert on_docker.api_key_secret == str(WORKDIR / "keys.txt")
    assert on_docker.prediction_log == "predlogs"  # a volume name
    assert on_kubernetes.api_key_secret == KEYS_FILE  # a Secret's name, as given


def test_the_balancer_image_is_the_option_else_the_setting_else_the_default(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env(
        {"SHIPYARD_HOME": str(tmp_path), "SHIPYARD_DEPLOY_LB_IMAGE": "mirror/nginx:1"}
    )

    def lb(option: str | None, default: str | None) -> str:
        options = DeployOptions(lb_image=option)
        spec = spec_from_options(
            options, image=IMAGE, model=None, workdir=WORKDIR, default_lb_image=default
        )
        return spec.lb_image

    assert settings.deploy_lb_image == "mirror/nginx:1"
    assert lb("given/nginx:2", settings.deploy_lb_image) == "given/nginx:2"
    assert lb(None, settings.deploy_lb_image) == "mirror/nginx:1"
    assert lb(None, Settings.from_env({"SHIPYARD_HOME": str(tmp_path)}).deploy_lb_image) == (
        DEFAULT_LB_IMAGE
    )


@pytest.mark.parametrize(
    ("options", "wrong"),
    [
        (DeployOptions(memory="lots"), "memory"),
        (DeployOptions(env=("NOEQUALS",)), "KEY=VALUE"),
        (DeployOptions(autoscale="10"), "MIN:MAX"),
        (DeployOptions(target="nomad"), "unknown target"),
        (DeployOptions(replicas=1000), "--replicas"),
    ],
)
def test_bad_options_stop_before_anything_runs(options: DeployOptions, wrong: str) -> None:
    with pytest.raises(ConfigError, match=wrong):
        spec_from_options(options, image=IMAGE, model=None, workdir=WORKDIR)


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("registry.local/Team/Churn_Model:3", "churn-model"),
        ("cancer", "cancer"),
        ("ghcr.io/x/9lives@sha256:abc", "m-9lives"),
    ],
)
def test_default_names_are_dns_labels(source: str, name: str) -> None:
    assert default_deployment_name(source) == name
