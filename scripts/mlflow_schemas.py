"""Derive the request schemas of the MLflow endpoints ``shipyard server`` serves from the installed
mlflow's protos (``mlflow/protos/service_pb2``), as JSON Schema for the server's OpenAPI document.

    python scripts/mlflow_schemas.py            # rewrite tracking/server/mlflow_schemas.json
    python scripts/mlflow_schemas.py --check    # exit 1 when it is not what the protos give

The server does not need mlflow at run time, so the result is vendored;
``tests/tracking/test_openapi.py`` checks that it still matches the pinned mlflow. Each endpoint
is found by its ``rpc`` option (method and path); each field maps by protobuf's JSON mapping with
its original (snake_case) name: int64 as a 64-bit integer, double as a number, an enum as its
value names, a message as a ``$ref``, ``repeated`` as an array, and ``validate_required`` fields
as required.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "src" / "shipyard" / "tracking" / "server" / "mlflow_schemas.json"
_INT64 = {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1}


def _field(field: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    from google.protobuf.descriptor import FieldDescriptor as F

    kind = field.type
    item: dict[str, Any]
    if kind in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        item = {"type": "number"}
    elif kind in (F.TYPE_INT64, F.TYPE_SINT64, F.TYPE_SFIXED64, F.TYPE_UINT64, F.TYPE_FIXED64):
        item = dict(_INT64)
    elif kind in (F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32, F.TYPE_UINT32, F.TYPE_FIXED32):
        item = {"type": "integer", "format": "int32"}
    elif kind == F.TYPE_BOOL:
        item = {"type": "boolean"}
    elif kind in (F.TYPE_STRING, F.TYPE_BYTES):
        item = {"type": "string"}
    elif kind == F.TYPE_ENUM:
        item = {"type": "string", "enum": [value.name for value in field.enum_type.values]}
    else:
        item = {"$ref": f"#/components/schemas/{_message(field.message_type, schemas)}"}
    return {"type": "array", "items": item} if field.is_repeated else item


def _message(descriptor: Any, schemas: dict[str, Any]) -> str:
    """The schema's name, after adding it (and the messages it uses) to ``schemas``."""
    from mlflow.protos import databricks_pb2

    name = descriptor.full_name.removeprefix("mlflow.").replace(".", "_")
    if name in schemas:
        return name
    schemas[name] = {}  # a placeholder, for messages that refer to themselves
    properties = {field.name: _field(field, schemas) for field in descriptor.fields}
    required = [
        field.name
        for field in descriptor.fields
        if field.GetOptions().Extensions[databricks_pb2.validate_required]
    ]
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schemas[name] = schema
    return name


def derive() -> dict[str, Any]:
    """``{"mlflow": version, "operations": {"POST /runs/create": {...}}, "schemas": {...}}``."""
    import mlflow
    from mlflow.protos import databricks_pb2, model_registry_pb2, service_pb2

    from shipyard.tracking.server.datasets_api import DATASET_ENDPOINTS
    from shipyard.tracking.server.mlflow_api import ENDPOINTS
    from shipyard.tracking.server.registry_api import REGISTRY_ENDPOINTS

    endpoints = (*ENDPOINTS, *REGISTRY_ENDPOINTS, *DATASET_ENDPOINTS)
    served = {(method, "/mlflow" + path) for method, path, _ in endpoints}
    found: dict[tuple[str, str], Any] = {}
    services = (
        service_pb2.DESCRIPTOR.services_by_name["MlflowService"],
        model_registry_pb2.DESCRIPTOR.services_by_name["ModelRegistryService"],
    )
    for method in (m for service in services for m in service.methods):
        rpc = method.GetOptions().Extensions[databricks_pb2.rpc]
        for endpoint in rpc.endpoints:
            key = (endpoint.method, endpoint.path)
            if key in served and key not in found:
                found[key] = (method, rpc.rpc_doc_title)
    missing = sorted(served - set(found))
    if missing:
        raise SystemExit(f"no MLflow rpc serves {missing}: is the pinned mlflow installed?")
    schemas: dict[str, Any] = {}
    operations = {}
    for method, path, _ in endpoints:
        rpc_method, title = found[(method, "/mlflow" + path)]
        operations[f"{method} {path}"] = {
            "summary": title or rpc_method.name,
            "request": _message(rpc_method.input_type, schemas),
        }
    return {"mlflow": mlflow.__version__, "operations": operations, "schemas": schemas}


def main(argv: list[str]) -> int:
    text = json.dumps(derive(), indent=1, sort_keys=True) + "\n"
    if "--check" in argv:
        if TARGET.read_text() != text:
            print(f"{TARGET} is stale: run python scripts/mlflow_schemas.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
