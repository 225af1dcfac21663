"""The plain JSON API: ``POST /predict`` with records or columns, and docs from the signature.

    POST /predict  [{"f1": 1.0, "f2": 2.0}, ...]          records (columns signature)
                   {"f1": [1.0, ...], "f2": [2.0, ...]}    columns
                   [[1.0, 2.0, ...], ...]                  rows (tensor signature)
                   {"input": [[1.0, 2.0, ...], ...]}       the tensor by name
    ->             {"model_name": "bc", "model_version": "3", "predictions": [0, 1, ...]}

With several outputs ``predictions`` is an object of output name to values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.errors import InvalidInputError
from shipyard.models.signature import Signature, TensorSpec
from shipyard.serve.dataplane import DataPlane
from shipyard.serve.http import Request, Response, Route, json_response
from shipyard.serve.openapi import docs_page, openapi_document
from shipyard.serve.runtime import LiveModel
from shipyard.serve.v2 import parse_json
from shipyard.serve.validation import coerce_column
from shipyard.types import DType

__all__ = ["RestProtocol", "decode_payload"]


def decode_payload(signature: Signature | None, payload: Any) -> dict[str, np.ndarray]:
    """Turn a ``/predict`` body into named arrays (records, columns or rows)."""
    if signature is None:
        if isinstance(payload, dict):
            return {k: np.asarray(v) for k, v in payload.items()}
        return {"input": np.asarray(payload)}
    if signature.input_kind == "tensor":
        spec = signature.inputs[0]
        if isinstance(payload, dict):
            if set(payload) != {spec.name}:
                raise InvalidInputError(
                    f"expected {{{spec.name!r}: rows}} or a list of rows, got keys {list(payload)}"
                )
            payload = payload[spec.name]
        return {spec.name: _tensor(spec, payload)}
    if isinstance(payload, list):
        return _records(signature, payload)
    if isinstance(payload, dict):
        return _columns(signature, payload)
    raise InvalidInputError(
        "expected records [{field: value, ...}, ...] or columns {field: [values], ...}"
    )


def _tensor(spec: TensorSpec, rows: Any) -> np.ndarray:
    if not isinstance(rows, list):
        raise InvalidInputError(
            f"{spec.name!r}: expected a list of rows, got {type(rows).__name__}"
        )
    try:
        if spec.dtype is DType.BYTES:
            return np.array(rows, dtype=object)
        array = np.asarray(rows, dtype=spec.dtype.numpy_dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(
            f"input {spec.name!r}: expected rows of {spec.dtype.value} with shape "
            f"{list(spec.shape)}, could not read them ({exc})"
        ) from None
    return array


def _records(signature: Signature, records: list[Any]) -> dict[str, np.ndarray]:
    names = signature.input_names
    expected = set(names)
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidInputError(
                f"record {index} is a {type(record).__name__}: each record is an object of "
                f"field to value with fields {list(names)}"
            )
        if record.keys() != expected:
            missing = [n for n in names if n not in record]
            extra = sorted(set(record) - expected)
            problem = f"is missing {missing}" if missing else f"has unknown field(s) {extra}"
            raise InvalidInputError(f"record {index} {problem}: expected fields {list(names)}")
    return {s.name: coerce_column(s, [r[s.name] for r in records]) for s in signature.inputs}


def _columns(signature: Signature, columns: dict[str, Any]) -> dict[str, np.ndarray]:
    names = signature.input_names
    missing = [n for n in names if n not in columns]
    extra = sorted(set(columns) - set(names))
    if missing or extra:
        problem = f"missing {missing}" if missing else f"unknown field(s) {extra}"
        raise InvalidInputError(f"columns {problem}: expected fields {list(names)}")
    out = {}
    for spec in signature.inputs:
        values = columns[spec.name]
        if not isinstance(values, list):
            raise InvalidInputError(f"field {spec.name!r}: expected a list of values")
        out[spec.name] = coerce_column(spec, values)
    return out


def _predictions(outputs: dict[str, np.ndarray]) -> Any:
    plain = {k: _plain(v) for k, v in outputs.items()}
    if len(plain) == 1:
        return next(iter(plain.values()))
    return plain


def _plain(array: np.ndarray) -> Any:
    if array.dtype.kind in "biuf" and array.dtype != np.float16:
        return np.ascontiguousarray(array)
    return array.tolist()


class RestProtocol:
    """``/predict``, ``/openapi.json`` and ``/docs`` over one data plane."""

    def __init__(self, dataplane: DataPlane) -> None:
        self._dp = dataplane
        self._docs: tuple[LiveModel, bytes, bytes] | None = None

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/predict", self.predict),
            Route("GET", "/openapi.json", self.openapi),
            Route("GET", "/docs", self.docs),
        ]

    async def predict(self, request: Request) -> Response:
        live = self._dp.live()
        payload = parse_json(await request.body())
        try:
            tensors = decode_payload(live.served.model.signature, payload)
        except InvalidInputError as exc:
            self._dp.log_rejected(live, request.request_id, exc)
            raise
        result = await self._dp.infer(live, tensors, request.request_id)
        return json_response(
            {
                "model_name": result.served.name,
                "model_version": result.served.version_label,
                "predictions": _predictions(result.outputs),
            }
        )

    async def openapi(self, request: Request) -> Response:
        return Response(200, self._rendered()[0])

    async def docs(self, request: Request) -> Response:
        return Response(200, self._rendered()[1], content_type=b"text/html; charset=utf-8")

    def _rendered(self) -> tuple[bytes, bytes]:
        live = self._dp.live()
        if self._docs is None or self._docs[0] is not live:
            document = openapi_document(live.served)
            self._docs = (live, json_response(document).body, docs_page(live.served, document))
        return self._docs[1], self._docs[2]
