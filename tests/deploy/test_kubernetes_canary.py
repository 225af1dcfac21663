"""A Kubernetes canary is two Deployments with distinct selectors and a Service each, split by a
Gateway API HTTPRoute; every object validates offline, and the kustomization builds with the
real ``kubectl kustomize``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shipyard.deploy.targets.base import ROLE_LABEL
from shipyard.deploy.targets.kubernetes.canary import (
    parse_gateway,
    render_canary_manifests,
    render_canary_objects,
    render_route,
)
from shipyard.deploy.targets.kubernetes.render import render_objects
from shipyard.errors import ConfigError
from tests.deploy.gateway_api import route_problems, schema_errors
from tests.deploy.test_kubernetes_render import VERSIONS, _spec

STABLE = _spec()
CANARY = STABLE.with_changes(
    image="registry.example/shipyard/cancer:3", model_version=3, gateway="public/infra"
)


def _objects(weight: int = 10) -> dict[str, dict[str, Any]]:
    return {**render_objects(STABLE, revision=2), **render_canary_objects(CANARY, weight=weight)}


def _services(objects: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {
        body["metadata"]["name"]: body["spec"]["ports"][0]["port"]
        for body in objects.values()
        if body["kind"] == "Service"
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_every_canary_manifest_validates_against_the_schema(version: str) -> None:
    for name, body in _objects().items():
        if body["kind"] != "HTTPRoute":
            kubernetes_validate.validate(body, version, strict=True)  # raises on any error
        else:
            assert name == "httproute.yaml"


@pytest.mark.parametrize("weight", [0, 10, 50, 99])
def test_the_route_splits_by_weight_and_matches_the_gateway_api_schema(weight: int) -> None:
    objects = _objects()
    route = render_route(CANARY, weight)
    backends = route["spec"]["rules"][0]["backendRefs"]
    assert [(b["name"], b["weight"]) for b in backends] == [("cancer", 100 - weight)] + (
        [("cancer-canary", weight)] if weight else []
    )
    assert route["spec"]["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "public",
            "namespace": "infra",
        }
    ]
    assert route_problems(route, _services(objects)) == []
    assert schema_errors([route]) == [None]


def test_the_schema_check_catches_a_broken_route() -> None:
    route = render_route(CANARY, 10)
    route["spec"]["rules"][0]["backendRefs"][1]["weight"] = -1
    route["spec"]["parentRefs"][0]["namespace"] = "Not_A_Namespace"
    errors = schema_errors([route])[0]
    assert errors is not None and "weight" in errors and "namespace" in errors
    route["spec"]["rules"][0]["backendRefs"][0].pop("port")
    problems = route_problems(route, _services(_objects()))
    assert any("no port" in p for p in problems) and any("not 100" in p for p in problems)


def test_stable_and_canary_select_disjoint_pods_and_one_network_policy_covers_both() -> None:
    objects = _objects()
    stable, canary = objects["deployment.yaml"], objects["canary-deployment.yaml"]
    assert canary["metadata"]["name"] == "cancer-canary"
    assert canary["spec"]["replicas"] == 1
    assert stable["spec"]["selector"]["matchLabels"][ROLE_LABEL] == "stable"
    assert canary["spec"]["selector"]["matchLabels"][ROLE_LABEL] == "canary"
    for deployment in (stable, canary):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert objects["service.yaml"]["spec"]["selector"][ROLE_LABEL] == "stable"
    assert objects["canary-service.yaml"]["spec"]["selector"][ROLE_LABEL] == "canary"
    policy = objects["networkpolicy.yaml"]["spec"]["podSelector"]["matchLabels"]
    assert ROLE_LABEL not in policy
    assert policy.items() <= canary["spec"]["template"]["metadata"]["labels"].items()
    annotations = stable["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"io.shipyard.revision": "2"}
    assert canary["spec"]["template"]["spec"]["containers"][0]["image"].endswith("cancer:3")


def test_weights_and_gateways_are_checked() -> None:
    with pytest.raises(ConfigError, match="--weight 100 is not 1-99"):
        render_canary_objects(CANARY, weight=100)
    with pytest.raises(ConfigError, match="NAME"):
        STABLE.with_changes(gateway="Bad Gateway")
    with pytest.raises(ConfigError, match="kubernetes only"):
        STABLE.with_changes(target="docker", gateway="public")
    assert parse_gateway(None, "models") == ("shipyard", "models")
    assert parse_gateway("public", "models") == ("public", "models")
    assert parse_gateway("public/infra", "models") == ("public", "infra")
    same_namespace = render_route(STABLE, 10)["spec"]["parentRefs"][0]
    assert same_namespace == {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "name": "shipyard",
    }


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_the_canary_kustomization_builds_with_kubectl_offline(tmp_path: Path) -> None:
    files = render_canary_manifests(STABLE, CANARY, weight=10)
    folder = tmp_path / "k8s"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    env = {"PATH": "/usr/bin:/bin", "KUBECONFIG": str(tmp_path / "none"), "HOME": str(tmp_path)}
    built = subprocess.run(
        ["kubectl", "kustomize", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    documents = list(yaml.safe_load_all(built.stdout))
    kinds = sorted(d["kind"] for d in documents)
    assert kinds == sorted(
        [
            "Deployment",
            "Deployment",
            "Service",
            "Service",
            "HTTPRoute",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
        ]
    )
    assert {d["metadata"]["namespace"] for d in documents} == {"models"}
    route = next(d for d in documents if d["kind"] == "HTTPRoute")
    assert [b["weight"] for b in route["spec"]["rules"][0]["backendRefs"]] == [90, 10]
    for body in documents:
        if body["kind"] != "HTTPRoute":
            kubernetes_validate.validate(body, VERSIONS[-1], strict=True)
