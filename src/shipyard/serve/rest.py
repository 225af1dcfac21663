"""The plain JSON API: ``POST /predict``, ``/openapi.json`` and ``/docs`` from the signature.

    POST /predict  [{"f1": 1.0, "f2": 2.0}, ...]   (or another body ``payloads`` reads)
    ->             {"model_name": "bc", "model_version": "3", "predictions": [0, 1, ...]}

With several outputs ``predictions`` is an object of output name to values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.errors import InvalidInputError
from shipyard.serve.dataplane import DataPlane
from shipyard.serve.http import Request, Response, Route, json_response
from shipyard.serve.jsonarrays import body_may_hold_bools
from shipyard.serve.openapi import docs_page, openapi_document
from shipyard.serve.payloads import PayloadDecoder
from shipyard.serve.runtime import LiveModel
from shipyard.serve.v2 import parse_json

__all__ = ["RestProtocol"]


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
        self._decoder: tuple[LiveModel, PayloadDecoder] | None = None

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/", self.index),
            Route("POST", "/predict", self.predict),
            Route("GET", "/openapi.json", self.openapi),
            Route("GET", "/docs", self.docs),
        ]

    async def predict(self, request: Request) -> Response:
        live = self._dp.live()
        body = await request.body()
        cached = self._decoder
        if cached is None or cached[0] is not live:
            cached = self._decoder = (live, PayloadDecoder(live.served.model.signature))
        try:
            tensors = cached[1].decode(parse_json(body), may_hold_bools=body_may_hold_bools(body))
        except InvalidInputError as exc:
            self._dp.log_rejected(live, request.request_id, exc)
            raise
        result = await self._dp.infer(live, tensors, request.request_id, alone=request.alone)
        return json_response(
            {
                "model_name": result.served.name,
                "model_version": result.served.version_label,
                "predictions": _predictions(result.outputs),
            }
        )

    async def index(self, request: Request) -> Response:
        """Where to go from ``/``: the docs first (answers while the model loads, too)."""
        live = self._dp.live() if self._dp.is_ready else None
        return json_response(
            {
                "service": "shipyard",
                "model": None if live is None else live.served.name,
                "docs": "/docs",
                "openapi": "/openapi.json",
                "predict": "/predict",
                "v2": "/v2",
                "health": "/healthz",
                "ready": "/readyz",
                "metrics": "/metrics",
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
