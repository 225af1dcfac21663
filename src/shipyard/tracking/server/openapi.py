"""The tracking server's OpenAPI 3.1 document, served at ``/openapi.json``.

MLflow's endpoints take their request schemas from ``mlflow_schemas.json``, derived from the
pinned mlflow's protos by ``scripts/mlflow_schemas.py`` (the server does not import mlflow): a
POST documents its JSON body, a GET the same fields as query parameters. The artifact API and
Shipyard's own ``/api/shipyard/v1`` are written out here. Every operation lists the errors any
request may get (``ERROR_STATUSES``) with MLflow's or Shipyard's error body, and the bearer and
basic security schemes (required once the server has access keys).
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from typing import Any

import shipyard
from shipyard.tracking.server.datasets_api import DATASET_ENDPOINTS, DATASETS_PREFIX
from shipyard.tracking.server.mlflow_api import ENDPOINTS, PREFIX
from shipyard.tracking.server.registry_api import REGISTRY_ENDPOINTS
from shipyard.types import JSON

__all__ = ["ERROR_STATUSES", "openapi_document"]

ERROR_STATUSES = {
    "400": "invalid input (INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS)",
    "401": "an access key is needed (UNAUTHENTICATED)",
    "403": "a read-only key, or a cross-origin write (PERMISSION_DENIED)",
    "404": "no such experiment, run, artifact or endpoint",
    "413": "the body is over the endpoint's limit (REQUEST_TOO_LARGE)",
    "415": "a Content-Type a web page may send cross-origin",
    "421": "a Host name the server does not answer",
}
_MLFLOW_ERROR = {
    "type": "object",
    "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
    "required": ["error_code", "message"],
}
_SHIPYARD_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
    "required": ["error", "code"],
}
_OBJECT = {"type": "object"}
_ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
_SHIPYARD = "/api/shipyard/v1"


@functools.cache
def _mlflow_schemas() -> dict[str, Any]:
    text = importlib.resources.files(__package__).joinpath("mlflow_schemas.json").read_text()
    return dict(json.loads(text))


def _responses(error: str, ok: JSON | None = None) -> JSON:
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{error}"}}}
    responses: dict[str, JSON] = {
        "200": {"description": "OK", "content": ok or {"application/json": {"schema": _OBJECT}}}
    }
    for status, text in ERROR_STATUSES.items():
        responses[status] = {"description": text, "content": content}
    return responses


def _query(name: str, schema: JSON, *, required: bool = False) -> JSON:
    return {"name": name, "in": "query", "required": required, "schema": schema}


def _path(name: str) -> JSON:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _mlflow_operation(
    method: str, path: str, summary: str, message: str, schemas: dict[str, Any]
) -> JSON:
    operation: dict[str, Any] = {"summary": summary, "responses": _responses("MlflowError")}
    in_path = re.findall(r"\{(\w+)\}", path)
    parameters = [_path(name) for name in in_path]
    if method in ("POST", "PATCH") or (method == "DELETE" and not in_path):
        ref = {"$ref": f"#/components/schemas/{message}"}
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref}},
        }
    elif method == "GET":
        schema = schemas[message]
        required = set(schema.get("required", ()))
        parameters += [
            _query(name, field, required=name in required)
            for name, field in schema["properties"].items()
            if name not in in_path and "$ref" not in field and "$ref" not in field.get("items", {})
        ]
    if parameters:
        operation["parameters"] = parameters
    return operation


def _mlflow_paths() -> dict[str, dict[str, JSON]]:
    derived = _mlflow_schemas()
    paths: dict[str, dict[str, JSON]] = {}
    groups = ((PREFIX, (*ENDPOINTS, *REGISTRY_ENDPOINTS)), (DATASETS_PREFIX, DATASET_ENDPOINTS))
    for prefix, endpoints in groups:
        for method, path, _ in endpoints:
            found = derived["operations"][f"{method} {path}"]
            paths.setdefault(prefix + path, {})[method.lower()] = _mlflow_operation(
                method, path, found["summary"], found["request"], derived["schemas"]
            )
    return paths


def _artifact_paths() -> dict[str, dict[str, JSON]]:
    item = [_path("path")]
    binary = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    return {
        _ARTIFACTS: {
            "get": {
                "summary": "List a folder's artifacts",
                "parameters": [_query("path", {"type": "string"})],
                "responses": _responses("MlflowError"),
            }
        },
        _ARTIFACTS + "/{path}": {
            "put": {
                "summary": "Upload an artifact",
                "parameters": item,
                "requestBody": {"required": True, "content": binary},
                "responses": _responses("MlflowError"),
            },
            "get": {
                "summary": "Download an artifact",
                "parameters": item,
                "responses": _responses("MlflowError", binary),
            },
            "delete": {
                "summary": "Delete an artifact (or a folder of them)",
                "parameters": item,
                "responses": _responses("MlflowError"),
            },
        },
    }


def _shipyard_paths() -> dict[str, dict[str, JSON]]:
    def get(summary: str, parameters: list[JSON]) -> dict[str, JSON]:
        return {
            "get": {
                "summary": summary,
                "parameters": parameters,
                "responses": _responses("ShipyardError"),
            }
        }

    text = {"type": "string"}
    return {
        f"{_SHIPYARD}/experiments": get("List experiments", []),
        f"{_SHIPYARD}/runs": get(
            "Search runs (MLflow's filter and order-by grammar)",
            [
                _query("experiment", text),
                _query("filter", text),
                _query("order_by", text),
                _query("max_results", {"type": "integer", "minimum": 1, "maximum": 50_000}),
                _query("page_token", text),
            ],
        ),
        f"{_SHIPYARD}/runs/{{run_id}}": get(
            "A run, its environment and linked model versions", [_path("run_id")]
        ),
        f"{_SHIPYARD}/runs/{{run_id}}/metrics/{{key}}": get(
            "A metric's history", [_path("run_id"), _path("key")]
        ),
        f"{_SHIPYARD}/metrics/{{key}}": get(
            "A metric's history in several runs (the compare view), downsampled",
            [
                _path("key"),
                _query(
                    "run_id",
                    {"type": "array", "items": text, "minItems": 1, "maxItems": 100},
                    required=True,
                ),
                _query("max_points", {"type": "integer", "minimum": 2, "maximum": 10_000}),
            ],
        ),
        "/health": get("Liveness", []),
        "/api/3.0/mlflow/server-info": get("What the server supports (MLflow's server-info)", []),
    }


def openapi_document() -> JSON:
    """The whole document (MLflow's request schemas derived from its protos)."""
    derived = _mlflow_schemas()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Shipyard tracking server",
            "version": shipyard.__version__,
            "description": (
                f"The MLflow tracking REST API (request schemas from mlflow {derived['mlflow']}'s "
                "protos), the mlflow-artifacts API and Shipyard's run API."
            ),
        },
        "paths": {**_mlflow_paths(), **_artifact_paths(), **_shipyard_paths()},
        "components": {
            "schemas": {
                **derived["schemas"],
                "MlflowError": _MLFLOW_ERROR,
                "ShipyardError": _SHIPYARD_ERROR,
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
            },
        },
        "security": [{}, {"bearer": []}, {"basic": []}],
    }
