"""The pure renders: DeploymentSpec validation, nginx.conf, compose/stack files (schema-valid)."""

from __future__ import annotations

import pytest
import yaml

from shipyard.deploy.spec import DeploymentSpec, parse_cpu, parse_memory
from shipyard.deploy.targets.docker.compose import render_compose, validate_compose
from shipyard.deploy.targets.docker.nginx import render_nginx_conf
from shipyard.deploy.targets.swarm.canary import render_canary
from shipyard.deploy.targets.swarm.target import SwarmTarget
from shipyard.errors import ConfigError, InvalidNameError


def test_sizes_parse_like_docker_and_kubernetes() -> None:
    assert parse_memory("512m") == parse_memory("512Mi") == 512 * 2**20
    assert parse_memory("1G") == 2**30
    assert parse_cpu("500m") == 0.5 and parse_cpu("2") == 2.0
    with pytest.raises(ConfigError, match="below 64 MiB"):
        parse_memory("1m")


@pytest.mark.parametrize("name", ["Cancer", "-x", "x-", "a" * 41, "1abc", "a_b"])
def test_deployment_names_are_dns_labels(name: str) -> None:
    with pytest.raises(InvalidNameError):
        DeploymentSpec(name=name, image="shipyard/cancer:1")


def test_nginx_retries_on_the_next_replica_and_weights_a_canary() -> None:
    text = render_nginx_conf(
        ["a:8080", "b:8080"], weights={"a:8080": 90, "b:8080": 10}, client_keepalive=False
    )
    assert "server a:8080 weight=90 max_fails=0;" in text
    assert "server b:8080 weight=10 max_fails=0;" in text
    assert "proxy_next_upstream error timeout http_502 http_503 non_idempotent;" in text
    assert "keepalive_timeout 0;" in text


def test_nginx_with_no_replica_is_still_a_valid_upstream() -> None:
    assert "server 127.0.0.1:9 down;" in render_nginx_conf([])


def test_swarm_stack_rolls_back_by_itself_and_publishes_in_host_mode() -> None:
    spec = DeploymentSpec(name="cancer", image="shipyard/cancer:1", target="swarm", replicas=3)
    files = SwarmTarget.render(spec)
    doc = yaml.safe_load(files["stack.yaml"])
    deploy = doc["services"]["model"]["deploy"]
    assert deploy["update_config"]["order"] == "start-first"
    assert deploy["update_config"]["failure_action"] == "rollback"
    assert deploy["endpoint_mode"] == "dnsrr"
    assert doc["services"]["lb"]["ports"][0]["mode"] == "host"
    assert "resolver 127.0.0.11 valid=1s" in files["nginx.conf"]


def test_an_invalid_compose_document_names_the_field() -> None:
    doc = render_compose(DeploymentSpec(name="cancer", image="shipyard/cancer:1"))
    doc["services"]["model"]["deploy"]["replicas"] = "three"
    with pytest.raises(ConfigError, match="services/model/deploy/replicas"):
        validate_compose(doc)


def test_swarm_nginx_splits_a_canary_by_weight_and_routes_each_replicas_metrics() -> None:
    text = render_nginx_conf(
        ["model:8080", "canary:8080"],
        weights={"model:8080": 90, "canary:8080": 10},
        resolver="127.0.0.11",
        client_keepalive=False,
        replica_metrics=["10.0.3.5:8080"],
    )
    assert 'split_clients "${request_id}" $replicas {\n        10% canary:8080;\n' in text
    assert "        * model:8080;\n" in text and "set $replicas" not in text
    assert (
        "location = /_shipyard/replica/10.0.3.5:8080/metrics "
        "{ proxy_pass http://10.0.3.5:8080/metrics; }"
    ) in text
    assert "proxy_pass http://$replicas;" in text and "keepalive_timeout 0;" in text
    plain = render_nginx_conf(["model:8080"], resolver="127.0.0.11")
    assert "set $replicas model:8080;" in plain and "split_clients" not in plain
    assert "/_shipyard/replica/" not in plain


def test_swarm_balancer_runs_from_a_copy_it_can_reload() -> None:
    spec = DeploymentSpec(name="cancer", image="shipyard/cancer:1", target="swarm")
    doc = yaml.safe_load(SwarmTarget.render(spec)["stack.yaml"])
    command = doc["services"]["lb"]["command"]
    assert command[:2] == ["sh", "-c"] and "exec nginx -c /tmp/nginx.conf" in command[2]
    compose = render_compose(spec.with_changes(target="docker"))
    assert compose["services"]["lb"]["command"] == ["nginx", "-g", "daemon off;"]


def test_a_swarm_canary_is_one_service_beside_stable_at_its_weight() -> None:
    spec = DeploymentSpec(
        name="cancer", image="shipyard/cancer:2", target="swarm", replicas=3, port=8080
    )
    doc = yaml.safe_load(render_canary(spec, 4, 10)["stack.yaml"])
    assert list(doc["services"]) == ["canary"]  # stable and the balancer are left alone
    canary = doc["services"]["canary"]
    assert canary["image"] == "shipyard/cancer:2" and canary["deploy"]["replicas"] == 1
    labels = canary["deploy"]["labels"]
    assert labels["io.shipyard.role"] == "canary" and labels["io.shipyard.weight"] == "10"
    assert labels["io.shipyard.revision"] == "4"
    assert canary["networks"] == ["serving"] and "ports" not in canary
