"""Open Inference Protocol (V2) REST: translate HTTP to the data plane and back.

Implements the spec's health, metadata and inference endpoints, with and without
``/versions/{version}``, and the binary tensor data extension that Triton's and KServe's clients
use by default: the request's JSON header length in ``Inference-Header-Content-Length``, each
binary input sized by its ``binary_data_size`` parameter, outputs returned as binary when the
output's ``binary_data`` parameter (or the request's ``binary_data_output``) asks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

import shipyard
from shipyard.errors import InvalidInputError
from shipyard.serve.codecs import (
    decode_binary_tensor,
    decode_json_tensor,
    encode_binary_tensor,
    json_data,
)
from shipyard.serve.dataplane import DataPlane
from shipyard.serve.http import Request, Response, Route, json_response
from shipyard.serve.jsonarrays import body_may_hold_bools
from shipyard.types import JSON, DType

__all__ = ["V2Protocol"]

HEADER_LENGTH = b"inference-header-content-length"
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def parse_json(body: bytes | memoryview) -> Any:
    """``orjson.loads`` with a 400-worthy error for malformed JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"malformed JSON body: {exc}") from None


class V2Protocol:
    """The V2 routes over one data plane."""

    def __init__(self, dataplane: DataPlane) -> None:
        self._dp = dataplane

    def routes(self) -> list[Route]:
        base = "/v2/models/{name}"
        versioned = base + "/versions/{version}"
        return [
            Route("GET", "/v2", self.server_metadata),
            Route("GET", "/v2/health/live", self.server_live, public=True),
            Route("GET", "/v2/health/ready", self.server_ready, public=True),
            Route("GET", base, self.model_metadata),
            Route("GET", versioned, self.model_metadata),
            Route("GET", base + "/ready", self.model_ready),
            Route("GET", versioned + "/ready", self.model_ready),
            Route("POST", base + "/infer", self.infer),
            Route("POST", versioned + "/infer", self.infer),
        ]

    async def server_metadata(self, request: Request) -> Response:
        return json_response(
            {
                "name": "shipyard",
                "version": shipyard.__version__,
                "extensions": ["binary_tensor_data"],
            }
        )

    async def server_live(self, request: Request) -> Response:
        return json_response({"live": True})

    async def server_ready(self, request: Request) -> Response:
        ready = self._dp.is_ready
        return json_response({"ready": ready}, 200 if ready else 503)

    async def model_ready(self, request: Request) -> Response:
        live = self._dp.find(request.params["name"], request.params.get("version"))
        return json_response({"name": live.served.name, "ready": True})

    async def model_metadata(self, request: Request) -> Response:
        live = self._dp.find(request.params["name"], request.params.get("version"))
        served = live.served
        signature = served.model.signature
        return json_response(
            {
                "name": served.name,
                "versions": [served.version_label],
                "platform": served.model.manifest.flavor,
                "inputs": [] if signature is None else [_spec(s) for s in signature.inputs],
                "outputs": [] if signature is None else [_spec(s) for s in signature.outputs],
            }
        )

    async def infer(self, request: Request) -> Response:
        live = self._dp.find(request.params["name"], request.params.get("version"))
        body = await request.body()
        header_length = request.headers.get(HEADER_LENGTH)
        binary: bytes | memoryview
        header: bytes | memoryview
        if header_length is None:
            header, binary = body, b""
        else:
            size = _header_length(header_length, len(body))
            view = memoryview(body)
            header, binary = view[:size], view[size:]
        payload = parse_json(header)
        if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), list):
            raise InvalidInputError(
                'the body must be a V2 inference request: {"inputs": [{"name", "shape", '
                '"datatype", "data"}, ...]}'
            )
        tensors = _decode_inputs(
            payload["inputs"],
            binary,
            live.validator.accepts_missing,
            body_may_hold_bools(header),
        )
        requested = _requested_outputs(payload)
        default_binary = bool(_parameters(payload, "the request").get("binary_data_output", False))
        result = await self._dp.infer(live, tensors, request.request_id, alone=request.alone)
        response: JSON = {
            "model_name": result.served.name,
            "model_version": result.served.version_label,
        }
        if "id" in payload:
            response["id"] = payload["id"]
        outputs, chunks = _encode_outputs(result.outputs, requested, default_binary)
        response["outputs"] = outputs
        header = orjson.dumps(response, option=_OPTIONS)
        if not chunks:
            return Response(200, header)
        return Response(
            200,
            header + b"".join(chunks),
            content_type=b"application/octet-stream",
            headers=[(HEADER_LENGTH, str(len(header)).encode())],
        )


def _spec(spec: Any) -> JSON:
    return {"name": spec.name, "datatype": spec.dtype.value, "shape": list(spec.shape)}


def _parameters(holder: dict[str, Any], where: str) -> dict[str, Any]:
    """The ``parameters`` object of a request, input or output ({} when absent)."""
    parameters = holder.get("parameters")
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise InvalidInputError(
            f'"parameters" of {where} must be an object such as {{"binary_data_output": true}}, '
            f"got {orjson.dumps(parameters).decode()[:100]}"
        )
    return parameters


def _header_length(value: bytes, body_size: int) -> int:
    if not value.isdigit() or int(value) > body_size:
        raise InvalidInputError(
            f"Inference-Header-Content-Length {value.decode(errors='replace')!r} must be the "
            f"byte length of the JSON header, at most the body size {body_size}"
        )
    return int(value)


def _decode_inputs(
    items: list[Any],
    binary: bytes | memoryview,
    accepts_missing: Callable[[str], bool],
    may_hold_bools: bool,
) -> dict[str, np.ndarray]:
    tensors: dict[str, np.ndarray] = {}
    offset = 0
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidInputError(
                'each input needs "name", "shape", "datatype" and "data" (or a binary_data_size '
                f"parameter), got {str(item)[:200]}"
            )
        name = item["name"]
        if name in tensors:
            raise InvalidInputError(f"input {name!r} is given twice")
        for key in ("shape", "datatype"):
            if key not in item:
                raise InvalidInputError(f'input {name!r} has no "{key}"')
        size = _parameters(item, f"input {name!r}").get("binary_data_size")
        if size is not None:
            if not isinstance(size, int) or size < 0 or offset + size > len(binary):
                raise InvalidInputError(
                    f"input {name!r}: binary_data_size {size!r} runs past the {len(binary)} "
                    "bytes of binary data after the JSON header"
                )
            raw = bytes(binary[offset : offset + size])
            offset += size
            tensors[name] = decode_binary_tensor(name, item["datatype"], item["shape"], raw)
        elif "data" in item:
            tensors[name] = decode_json_tensor(
                name,
                item["datatype"],
                item["shape"],
                item["data"],
                nullable=accepts_missing(name),
                may_hold_bools=may_hold_bools,
            )
        else:
            raise InvalidInputError(f'input {name!r} has neither "data" nor binary_data_size')
    if offset != len(binary):
        raise InvalidInputError(
            f"{len(binary) - offset} bytes of binary data after the JSON header belong to no "
            "input: check the binary_data_size parameters"
        )
    return tensors


def _requested_outputs(payload: JSON) -> dict[str, bool | None] | None:
    outputs = payload.get("outputs")
    if outputs is None:
        return None
    if not isinstance(outputs, list):
        raise InvalidInputError('"outputs" must be a list of {"name": ..., "parameters": ...}')
    requested: dict[str, bool | None] = {}
    for item in outputs:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidInputError(f'each requested output needs a "name", got {item!r}')
        binary = _parameters(item, f"output {item['name']!r}").get("binary_data")
        requested[item["name"]] = None if binary is None else bool(binary)
    return requested


def _encode_outputs(
    outputs: dict[str, np.ndarray], requested: dict[str, bool | None] | None, default_binary: bool
) -> tuple[list[JSON], list[bytes]]:
    if requested is None:
        selected: dict[str, bool | None] = dict.fromkeys(outputs)
    else:
        unknown = [n for n in requested if n not in outputs]
        if unknown:
            raise InvalidInputError(
                f"unknown output(s) {unknown}: the model returns {list(outputs)}"
            )
        selected = requested
    encoded: list[JSON] = []
    chunks: list[bytes] = []
    for name, wants_binary in selected.items():
        array = outputs[name]
        dtype = DType.from_numpy(array.dtype)
        tensor: JSON = {"name": name, "datatype": dtype.value, "shape": list(array.shape)}
        if default_binary if wants_binary is None else wants_binary:
            raw = encode_binary_tensor(array, dtype)
            tensor["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        else:
            tensor["data"] = json_data(array, dtype)
        encoded.append(tensor)
    return encoded, chunks
