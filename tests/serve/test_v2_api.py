"""The Open Inference Protocol (V2) REST API: by hand with httpx, and with Triton's real client."""

from __future__ import annotations

import struct

import httpx
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from tests.serve.servers import ThreadServer

Cancer = tuple[np.ndarray, np.ndarray]


def _infer_body(rows: np.ndarray, **extra: object) -> dict[str, object]:
    tensor = {"name": "input", "shape": list(rows.shape), "datatype": "FP64"}
    return {"inputs": [{**tensor, "data": rows.ravel().tolist()}], **extra}


def _row_tensor(datatype: str, data: list[object]) -> dict[str, object]:
    return {"name": "input", "shape": [1, 30], "datatype": datatype, "data": data}


def test_server_metadata_live_and_ready(client: httpx.Client) -> None:
    metadata = client.get("/v2").json()
    assert metadata["name"] == "shipyard"
    assert "binary_tensor_data" in metadata["extensions"]
    assert client.get("/v2/health/live").status_code == 200
    assert client.get("/v2/health/ready").json() == {"ready": True}


def test_model_metadata_with_and_without_version(client: httpx.Client) -> None:
    expected = {
        "name": "bc",
        "versions": ["1"],
        "platform": "sklearn",
        "inputs": [{"name": "input", "datatype": "FP64", "shape": [-1, 30]}],
        "outputs": [{"name": "predictions", "datatype": "INT64", "shape": [-1]}],
    }
    assert client.get("/v2/models/bc").json() == expected
    assert client.get("/v2/models/bc/versions/1").json() == expected
    assert client.get("/v2/models/bc/ready").json() == {"name": "bc", "ready": True}
    assert client.get("/v2/models/bc/versions/1/ready").status_code == 200


def test_infer_json_returns_outputs_and_echoes_id(
    client: httpx.Client, forest: RandomForestClassifier, cancer: Cancer
) -> None:
    rows = cancer[0][:5]
    response = client.post("/v2/models/bc/versions/1/infer", json=_infer_body(rows, id="req-7"))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "req-7"
    assert body["model_name"] == "bc"
    assert body["model_version"] == "1"
    assert body["outputs"] == [
        {
            "name": "predictions",
            "datatype": "INT64",
            "shape": [5],
            "data": forest.predict(rows).tolist(),
        }
    ]


def test_infer_with_binary_input_and_output(
    client: httpx.Client, forest: RandomForestClassifier, cancer: Cancer
) -> None:
    rows = cancer[0][10:13]
    raw = rows.astype("<f8").tobytes()
    header = (
        b'{"inputs":[{"name":"input","shape":[3,30],"datatype":"FP64",'
        b'"parameters":{"binary_data_size":' + str(len(raw)).encode() + b"}}],"
        b'"outputs":[{"name":"predictions","parameters":{"binary_data":true}}]}'
    )
    response = client.post(
        "/v2/models/bc/infer",
        content=header + raw,
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert response.status_code == 200
    json_size = int(response.headers["inference-header-content-length"])
    import orjson

    meta = orjson.loads(response.content[:json_size])
    output = meta["outputs"][0]
    assert output["parameters"]["binary_data_size"] == 3 * 8
    values = struct.unpack("<3q", response.content[json_size:])
    assert list(values) == forest.predict(rows).tolist()


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        ("/v2/models/other/infer", 404, "unknown model 'other': this server serves 'bc'"),
        ("/v2/models/bc/versions/9/infer", 404, "version '9' of model 'bc' is not served"),
    ],
)
def test_unknown_model_or_version_is_404(
    client: httpx.Client, cancer: Cancer, path: str, status: int, fragment: str
) -> None:
    response = client.post(path, json=_infer_body(cancer[0][:1]))
    assert response.status_code == status
    assert fragment in response.json()["error"]
    assert client.get("/v2/models/other").status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"inputs": "x"}, "must be a V2 inference request"),
        (
            {"inputs": [{"name": "input", "shape": [1, 30], "datatype": "FP64", "data": [1.0]}]},
            "shape [1, 30] needs 30 values, data has 1",
        ),
        (
            {"inputs": [{"name": "input", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]},
            "expected shape [-1, 30]",
        ),
        (
            {"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP64", "data": [0] * 30}]},
            "unknown input 'x' and missing input 'input': the model expects ['input']",
        ),
        (
            {
                "inputs": [
                    {"name": "input", "shape": [1, 30], "datatype": "BYTES", "data": ["a"] * 30}
                ]
            },
            "input 'input': expected FP64 values, got BYTES",
        ),
        (
            {
                "inputs": [
                    {"name": "input", "shape": [1, 30], "datatype": "FP64", "data": [0] * 30}
                ],
                "outputs": [{"name": "proba"}],
            },
            "unknown output(s) ['proba']",
        ),
    ],
)
def test_invalid_infer_requests_are_400_and_name_the_problem(
    client: httpx.Client, body: dict[str, object], fragment: str
) -> None:
    response = client.post("/v2/models/bc/infer", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]


def test_binary_data_past_the_body_is_400(client: httpx.Client) -> None:
    header = (
        b'{"inputs":[{"name":"input","shape":[1,30],"datatype":"FP64",'
        b'"parameters":{"binary_data_size":240}}]}'
    )
    response = client.post(
        "/v2/models/bc/infer",
        content=header + b"\x00" * 16,
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert response.status_code == 400
    assert "runs past" in response.json()["error"]


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_triton_http_client_infers(
    server: ThreadServer, forest: RandomForestClassifier, cancer: Cancer, binary: bool
) -> None:
    tritonhttp = pytest.importorskip("tritonclient.http")
    rows = cancer[0][:4]
    client = tritonhttp.InferenceServerClient(f"127.0.0.1:{server.port}")
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        assert client.is_model_ready("bc")
        metadata = client.get_model_metadata("bc")
        assert metadata["inputs"][0]["shape"] == [-1, 30]
        tensor = tritonhttp.InferInput("input", list(rows.shape), "FP64")
        tensor.set_data_from_numpy(rows, binary_data=binary)
        requested = [tritonhttp.InferRequestedOutput("predictions", binary_data=binary)]
        result = client.infer("bc", [tensor], outputs=requested, request_id="t-1")
        np.testing.assert_array_equal(result.as_numpy("predictions"), forest.predict(rows))
        assert result.get_response()["id"] == "t-1"
        default = client.infer("bc", [tensor], model_version="1")
        np.testing.assert_array_equal(default.as_numpy("predictions"), forest.predict(rows))
        with pytest.raises(tritonhttp.InferenceServerException, match="unknown model"):
            client.infer("nope", [tensor])
    finally:
        client.close()
