"""``/openapi.json`` of ``shipyard server``: MLflow's request schemas derived from the pinned
mlflow's protos, and a bounded schemathesis run over it (positive and negative examples, a few
hundred requests per backend) in which no answer is a 5xx."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from shipyard.tracking.server.datasets_api import DATASET_ENDPOINTS, DATASETS_PREFIX
from shipyard.tracking.server.mlflow_api import ENDPOINTS, PREFIX
from shipyard.tracking.server.registry_api import REGISTRY_ENDPOINTS
from tests.tracking.conftest import RunningServer

ROOT = Path(__file__).resolve().parents[2]
BOUNDED = settings(
    max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


def test_vendored_mlflow_schemas_are_what_the_installed_protos_give() -> None:
    spec = importlib.util.spec_from_file_location(
        "mlflow_schemas", ROOT / "scripts/mlflow_schemas.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    vendored = json.loads(module.TARGET.read_text())
    assert vendored == json.loads(json.dumps(module.derive()))  # run the script to refresh it


def test_openapi_documents_every_mlflow_endpoint_served(tracking_server: RunningServer) -> None:
    document = httpx.get(f"{tracking_server.url}/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    for method, path, _ in (*ENDPOINTS, *REGISTRY_ENDPOINTS):
        assert method.lower() in document["paths"][PREFIX + path], path
    for method, path, _ in DATASET_ENDPOINTS:
        assert method.lower() in document["paths"][DATASETS_PREFIX + path], path
    create = document["paths"][f"{PREFIX}/runs/create"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = document["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert {"experiment_id", "start_time", "tags"} <= set(fields)
    assert fields["start_time"]["maximum"] == 2**63 - 1


@pytest.mark.slow
def test_schemathesis_finds_no_5xx(tracking_server: RunningServer) -> None:
    schema = schemathesis.openapi.from_url(f"{tracking_server.url}/openapi.json")
    seen = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        modes = [GenerationMode.POSITIVE]
        if operation.method.upper() == "POST":  # a JSON body: there is something to negate
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:

            @BOUNDED
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: schemathesis.Case) -> None:
                case.call_and_validate(checks=[not_a_server_error, status_code_conformance])

            call()
        seen += 1
    # the tracking, registry and dataset endpoints, and the artifact, Shipyard, health and
    # server-info routes
    assert seen == len(ENDPOINTS) + len(REGISTRY_ENDPOINTS) + len(DATASET_ENDPOINTS) + 11
