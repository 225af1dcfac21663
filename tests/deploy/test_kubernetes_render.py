"""Kubernetes manifests are pure and valid against three minor versions' official schemas."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from shipyard.deploy.spec import DeploymentSpec, parse_autoscale
from shipyard.deploy.targets.kubernetes.render import render_manifests, render_objects

VERSIONS = ("1.29.0", "1.31.0", "1.33.0")


def _spec(**changes: object) -> DeploymentSpec:
    base = DeploymentSpec(
        name="cancer",
        image="registry.example/shipyard/cancer:2",
        target="kubernetes",
        replicas=3,
        model_name="cancer",
        model_version=2,
        load_seconds=4.0,
        peak_rss_bytes=300 * 2**20,
        api_key_secret="cancer-api-keys",  # noqa: S106 - a Secret name
        autoscale=parse_autoscale("2:10@60"),
        namespace="models",
    )
    return base.with_changes(**changes)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_validates_against_the_schema(version: str) -> None:
    for body in render_objects(_spec()).values():
        kubernetes_validate.validate(body, version, strict=True)  # raises on any error


def test_probes_resources_and_security_follow_the_measured_model() -> None:
    deployment = render_objects(_spec())["deployment.yaml"]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] == 20  # 3 x 4 s + 8 s
    assert container["resources"]["requests"]["memory"] == "464Mi"  # 1.5 x 300 MiB, 16 MiB steps
    security = container["securityContext"]
    assert security["runAsNonRoot"] and security["readOnlyRootFilesystem"]
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["terminationGracePeriodSeconds"] > 30  # longer than the drain
    assert "replicas" not in deployment["spec"]  # the HPA owns it
    assert deployment["metadata"]["labels"]["app.kubernetes.io/version"] == "2"


def test_hpa_scales_down_slowly_and_kustomization_lists_everything() -> None:
    files = render_manifests(_spec())
    hpa = yaml.safe_load(files["hpa.yaml"])
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 300
    kustomization = yaml.safe_load(files["kustomization.yaml"])
    assert sorted(kustomization["resources"]) == sorted(set(files) - {"kustomization.yaml"})


def test_an_invalid_manifest_is_caught_by_the_validator() -> None:
    body = render_objects(_spec())["deployment.yaml"]
    body["spec"]["strategy"]["rollingUpdate"]["maxSurgeTypo"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(body, VERSIONS[0], strict=True)


def test_without_measurements_a_default_budget_is_used() -> None:
    spec = _spec(load_seconds=None, peak_rss_bytes=None, autoscale=None)
    deployment = render_objects(spec)["deployment.yaml"]
    startup = deployment["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 38
    assert deployment["spec"]["replicas"] == 3
