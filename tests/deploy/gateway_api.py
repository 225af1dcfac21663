"""Check ``HTTPRoute`` objects against the Gateway API's own schema, offline.

``kubernetes-validate`` ships no CRD schemas, so the HTTPRoute is checked with the validators
compiled from the Gateway API's OpenAPI schema (sigs.k8s.io/gateway-api ``apis/v1``) in the npm
package ``@kubernetes-models/gateway-api`` (MIT), which ``scripts/services.sh`` installs into
``SHIPYARD_TEST_GATEWAY_API`` and the machine's ``node`` runs. They check types, required fields,
enums, patterns and ranges; not the CRD's CEL rules and not unknown fields, which
``route_problems`` checks structurally.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

__all__ = ["GATEWAY_API_PACKAGE", "gateway_api_dir", "route_problems", "schema_errors"]

GATEWAY_API_PACKAGE = "@kubernetes-models/gateway-api@2.0.0"
_MODULE = "node_modules/@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute.js"
_SCRIPT = """
import { pathToFileURL } from "node:url";
import { join } from "node:path";
const [dir, module, text] = process.argv.slice(1);
const { HTTPRoute } = await import(pathToFileURL(join(dir, module)).href);
const check = (body) => {
  try { new HTTPRoute(body).validate(); return null; }
  catch (error) { return String(error.message); }
};
console.log(JSON.stringify(JSON.parse(text).map(check)));
"""
_FIELDS = {
    "route": {"apiVersion", "kind", "metadata", "spec"},
    "spec": {"parentRefs", "hostnames", "rules"},
    "parentRef": {"group", "kind", "name", "namespace", "sectionName", "port"},
    "rule": {"name", "matches", "filters", "backendRefs", "timeouts", "retry"},
    "backendRef": {"group", "kind", "name", "namespace", "port", "weight", "filters"},
}


def gateway_api_dir() -> Path:
    """Where the npm package is installed, or a skip that says how to install it."""
    folder = Path(os.environ.get("SHIPYARD_TEST_GATEWAY_API", "/opt/shipyard-test/gateway-api"))
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the HTTPRoute schema check needs it")
    if not (folder / _MODULE).is_file():
        pytest.skip(f"{GATEWAY_API_PACKAGE} is not in {folder}: run `. scripts/services.sh`")
    return folder


def schema_errors(bodies: list[dict[str, Any]]) -> list[str | None]:
    """One entry per body: ``None`` when it matches the HTTPRoute v1 schema, else the errors."""
    folder = gateway_api_dir()
    argv = ["node", "--input-type=module", "-e", _SCRIPT, str(folder), _MODULE, json.dumps(bodies)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    errors: list[str | None] = json.loads(result.stdout)
    return errors


def route_problems(route: dict[str, Any], services: dict[str, int]) -> list[str]:
    """What the schema validators do not see: unknown fields, the CRD's CEL rule that a Service
    backend names a port, backends that are not one of ``services`` (name -> port), and
    weights that do not add up to 100 percent."""
    spec = route.get("spec") or {}
    problems = _unknown("route", [route]) + _unknown("spec", [spec])
    problems += _unknown("parentRef", spec.get("parentRefs") or [])
    for rule in spec.get("rules") or []:
        backends = rule.get("backendRefs") or []
        problems += _unknown("rule", [rule]) + _unknown("backendRef", backends)
        for backend in backends:
            name, port = backend.get("name"), backend.get("port")
            if backend.get("kind", "Service") == "Service" and port is None:
                problems.append(f"Service backend {name} has no port (the CRD's CEL rule)")
            if services.get(str(name)) != port:
                problems.append(f"backend {name}:{port} is not one of the rendered Services")
        total = sum(int(backend.get("weight", 1)) for backend in backends)
        if total != 100:
            problems.append(f"backend weights add up to {total}, not 100")
    return problems


def _unknown(kind: str, bodies: Iterable[dict[str, Any]]) -> list[str]:
    return [
        f"unknown {kind} fields {sorted(set(body) - _FIELDS[kind])}"
        for body in bodies
        if set(body) - _FIELDS[kind]
    ]
