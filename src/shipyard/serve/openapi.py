"""The OpenAPI document and the ``/docs`` page, generated from the served model's signature."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import orjson

import shipyard
from shipyard.models.signature import Signature, TensorSpec
from shipyard.serve.runtime import ServedModel
from shipyard.types import JSON, DType

__all__ = ["docs_page", "openapi_document"]

_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}


def _scalar(spec: TensorSpec) -> JSON:
    dtype = spec.dtype
    schema: JSON
    if dtype is DType.BOOL:
        schema = {"type": "boolean"}
    elif dtype is DType.BYTES:
        schema = {"type": "string"}
    elif dtype.numpy_dtype.kind in "iu":
        info = np.iinfo(dtype.numpy_dtype)
        schema = {"type": "integer", "format": dtype.value.lower()}
        schema["minimum"], schema["maximum"] = int(info.min), int(info.max)
    else:
        largest = float(np.finfo(dtype.numpy_dtype).max)
        schema = {"type": "number", "format": dtype.value.lower()}
        schema["minimum"], schema["maximum"] = -largest, largest
    if spec.nullable:
        schema["type"] = [schema["type"], "null"]
    return schema


def _value(spec: TensorSpec) -> JSON:
    """The JSON schema of one row of ``spec`` (nested arrays for the row's dimensions)."""
    schema = _scalar(spec)
    for size in reversed(spec.row_shape):
        schema = {"type": "array", "items": schema}
        if size > 0:
            schema["minItems"] = schema["maxItems"] = size
    return schema


def _envelope(key: str, body: JSON) -> JSON:
    """MLflow's scoring body: ``{key: body}``, optionally with empty ``params``."""
    return {
        "type": "object",
        "properties": {key: body, "params": {"type": "object", "maxProperties": 0}},
        "required": [key],
        "additionalProperties": False,
        "description": f"MLflow scoring body ({key})",
    }


def _request_schema(signature: Signature | None) -> JSON:
    if signature is None:
        return {"description": "The model has no signature: send its input as JSON."}
    if signature.input_kind == "tensor":
        spec = signature.inputs[0]
        rows = {"type": "array", "items": _value(spec), "minItems": 1, "description": "rows"}
        named = {
            "type": "object",
            "properties": {spec.name: rows},
            "required": [spec.name],
            "additionalProperties": False,
        }
        split = {
            "type": "object",
            "properties": {"columns": {"type": "array", "items": {"type": "string"}}, "data": rows},
            "required": ["data"],
        }
        return {
            "anyOf": [
                rows,
                named,
                _envelope("dataframe_split", split),
                _envelope("instances", rows),
                _envelope("inputs", {"anyOf": [rows, named]}),
            ]
        }
    fields = {s.name: _value(s) for s in signature.inputs}
    names = list(signature.input_names)
    record = {
        "type": "object",
        "properties": fields,
        "required": names,
        "additionalProperties": False,
    }
    records = {"type": "array", "items": record, "minItems": 1, "description": "records"}
    columns = {
        "type": "object",
        "properties": {n: {"type": "array", "items": v} for n, v in fields.items()},
        "required": names,
        "additionalProperties": False,
        "description": "columns",
    }
    row = {
        "type": "array",
        "prefixItems": list(fields.values()),
        "items": False,
        "minItems": len(names),
    }
    rows = {"type": "array", "items": row, "minItems": 1, "description": f"rows, values in {names}"}
    split = {
        "type": "object",
        "properties": {"columns": {"const": names}, "data": rows},
        "required": ["columns", "data"],
    }
    return {
        "anyOf": [
            records,
            columns,
            rows,
            _envelope("dataframe_split", split),
            _envelope("dataframe_records", records),
            _envelope("instances", {"anyOf": [records, rows]}),
            _envelope("inputs", {"anyOf": [records, columns, rows]}),
        ]
    }


def _response_schema(signature: Signature | None) -> JSON:
    outputs = () if signature is None else signature.outputs
    if len(outputs) == 1:
        predictions: JSON = {"type": "array", "items": _value(outputs[0])}
    else:
        predictions = {
            "type": "object",
            "properties": {s.name: {"type": "array", "items": _value(s)} for s in outputs},
        }
    return {
        "type": "object",
        "properties": {
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "predictions": predictions,
        },
    }


def openapi_document(served: ServedModel) -> JSON:
    """OpenAPI 3.1 for ``/predict`` (schemas from the signature) and the health endpoints."""
    signature = served.model.signature
    error = {"content": {"application/json": {"schema": _ERROR}}}
    responses: dict[str, Any] = {
        "200": {
            "description": "predictions, one per row, in order",
            "content": {"application/json": {"schema": _response_schema(signature)}},
        },
        "400": {"description": "invalid input: names the field and what was expected", **error},
        "413": {"description": "body too large", **error},
        "415": {"description": "a form or text/plain body: send application/json", **error},
        "421": {"description": "a Host name this server does not answer for", **error},
        "422": {"description": "the model's own input checks refused the input", **error},
        "500": {"description": "the model raised; the error id is in the server log", **error},
        "503": {"description": "the model is not loaded yet", **error},
    }
    ok = {"200": {"description": "yes"}, "503": {"description": "no", **error}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{served.name} (version {served.version_label})",
            "version": served.version_label,
            "description": f"Served by Shipyard {shipyard.__version__}. The Open Inference "
            "Protocol (V2) is also served under /v2.",
        },
        "paths": {
            "/predict": {
                "post": {
                    "summary": f"Predict with {served.name}",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _request_schema(signature)}},
                    },
                    "responses": responses,
                }
            },
            "/": {"get": {"summary": "Where to start (links to /docs)", "responses": ok}},
            "/healthz": {"get": {"summary": "Live", "responses": ok}},
            "/readyz": {"get": {"summary": "Ready (model loaded and verified)", "responses": ok}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": ok}},
        },
    }


def docs_page(served: ServedModel, document: JSON) -> bytes:
    """A self-contained HTML page: the signature, a curl example and the OpenAPI document."""
    signature = served.model.signature
    rows = ""
    for group, specs in (
        ("input", () if signature is None else signature.inputs),
        ("output", () if signature is None else signature.outputs),
    ):
        for spec in specs:
            rows += (
                f"<tr><td>{group}</td><td>{html.escape(spec.name)}</td>"
                f"<td>{spec.dtype.value}</td><td>{list(spec.shape)}</td></tr>"
            )
    title = html.escape(document["info"]["title"])
    schema = html.escape(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body style='font-family:sans-serif;max-width:60em'>"
        f"<h1>{title}</h1><p>POST JSON records, columns, rows or an MLflow scoring body to "
        "<code>/predict</code>; "
        "Open Inference Protocol clients use <code>/v2</code>.</p>"
        "<table border='1' cellpadding='4'><tr><th></th><th>name</th><th>datatype</th>"
        f"<th>shape</th></tr>{rows}</table>"
        f"<h2><a href='/openapi.json'>openapi.json</a></h2><pre>{schema}</pre>"
        "</body></html>"
    ).encode()
