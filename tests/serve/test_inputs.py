"""What requests may carry: strict values, nullable fields, misspelled names, other clients' bodies.

The ``client`` fixture serves the breast-cancer forest (tensor input [-1, 30], FP64); ``table``
serves a columns model (``a``, ``b`` FP64, ``b`` nullable) that returns ``a + b`` with NaN as 0.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInputError
from shipyard.serve import ServeConfig, create_app
from shipyard.serve.runtime import python_mismatch
from tests.serve.conftest import sum_with_missing_as_zero, table_model
from tests.serve.servers import ThreadServer

ROW = [0.5] * 30


@pytest.fixture(scope="module")
def table() -> Iterator[httpx.Client]:
    app = create_app(table_model(), ServeConfig(), name="table")
    with ThreadServer(app) as running, httpx.Client(base_url=running.url, timeout=10) as http:
        yield http


def _v2(name: str, datatype: str, shape: list[int], data: Any) -> dict[str, Any]:
    return {"inputs": [{"name": name, "datatype": datatype, "shape": shape, "data": data}]}


def _error(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["error"]
    return message


# --- strict values -------------------------------------------------------------------------------
def test_predict_rejects_numeric_string_with_400(client: httpx.Client) -> None:
    error = _error(client.post("/predict", json=[["3", *ROW[1:]]]))
    assert error == (
        "input 'input': expected FP64 values (numbers), got the string '3': send numbers "
        "without quotes"
    )


def test_predict_rejects_boolean_sent_as_number_with_400(client: httpx.Client) -> None:
    error = _error(client.post("/predict", json=[[*ROW[:29], True]]))
    assert error == "input 'input': expected FP64 values (numbers), got true: a boolean"


def test_predict_rejects_null_in_tensor_rows_with_400(client: httpx.Client) -> None:
    error = _error(client.post("/predict", json=[[None, *ROW[1:]]]))
    assert error.startswith("input 'input': got null, but the field does not allow it")


def test_v2_infer_rejects_null_with_400(client: httpx.Client) -> None:
    body = _v2("input", "FP64", [1, 30], [None, *ROW[1:]])
    error = _error(client.post("/v2/models/bc/infer", json=body))
    assert error.startswith("input 'input': got null, but the field does not allow it")


def test_v2_infer_rejects_numeric_string_with_400(client: httpx.Client) -> None:
    body = _v2("input", "FP64", [1, 30], ["3", *ROW[1:]])
    error = _error(client.post("/v2/models/bc/infer", json=body))
    assert "got the string '3'" in error


def test_v2_infer_rejects_number_sent_as_boolean_with_400(client: httpx.Client) -> None:
    error = _error(client.post("/v2/models/bc/infer", json=_v2("input", "BOOL", [1], [1])))
    assert error == "input 'input': expected BOOL values (true or false), got int 1"


def test_v2_infer_rejects_boolean_sent_as_number_with_400(client: httpx.Client) -> None:
    body = _v2("input", "FP64", [1, 30], [False, *ROW[1:]])
    error = _error(client.post("/v2/models/bc/infer", json=body))
    assert error == "input 'input': expected FP64 values (numbers), got false: a boolean"


def test_v2_infer_rejects_a_value_the_datatype_cannot_hold_with_400(client: httpx.Client) -> None:
    body = _v2("input", "FP32", [1, 30], [1e300, *ROW[1:]])
    error = _error(client.post("/v2/models/bc/infer", json=body))
    assert error == "input 'input': 1e+300 is out of range for FP32"


def test_records_reject_numeric_strings_and_null_in_a_non_nullable_field(
    table: httpx.Client,
) -> None:
    text = _error(table.post("/predict", json=[{"a": "1", "b": 2.0}]))
    assert text.startswith("field 'a': expected FP64 values (numbers), got the string '1'")
    null = _error(table.post("/predict", json=[{"a": None, "b": 2.0}]))
    assert null.startswith("field 'a': got null, but the field does not allow it")


def test_nullable_field_accepts_null_as_missing(table: httpx.Client) -> None:
    records = table.post("/predict", json=[{"a": 1.0, "b": None}, {"a": 1.0, "b": 2.0}])
    columns = table.post("/predict", json={"a": [1.0], "b": [None]})
    assert records.json()["predictions"] == [1.0, 3.0]
    assert columns.json()["predictions"] == [1.0]


# --- a model that refuses its input ---------------------------------------------------------------
# scikit-learn casts to float32 (warning about the overflow) before its check refuses the input.
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_model_rejecting_its_input_is_422_naming_the_problem(client: httpx.Client) -> None:
    # Finite in FP64, so it passes validation; the forest works in float32 and refuses it.
    error = _error(client.post("/predict", json=[[1e300, *ROW[1:]]]), 422)
    assert error.startswith("the model rejected the input (ValueError): Input X contains ")
    assert "dtype('float32')" in error
    assert client.post("/predict", json=[ROW]).status_code == 200


def _refuse_negative(frame: pd.DataFrame) -> np.ndarray:
    if (frame["a"] < 0).any():
        raise InvalidInputError("a must not be negative")
    return sum_with_missing_as_zero(frame)


def test_custom_model_raising_invalid_input_error_is_422() -> None:
    app = create_app(table_model(_refuse_negative), name="picky")
    with ThreadServer(app) as running, httpx.Client(base_url=running.url) as http:
        error = _error(http.post("/predict", json=[{"a": -1.0, "b": 0.0}]), 422)
    assert error == "the model rejected the input (InvalidInputError): a must not be negative"


# --- misspelled names -----------------------------------------------------------------------------
def test_misspelled_field_reports_unknown_missing_and_did_you_mean(table: httpx.Client) -> None:
    error = _error(table.post("/predict", json=[{"aa": 1.0, "b": 2.0}]))
    assert error == (
        "record 0: unknown field 'aa' (did you mean 'a'?) and missing field 'a': "
        "expected fields ['a', 'b']"
    )
    columns = _error(table.post("/predict", json={"a": [1.0], "bb": [2.0]}))
    assert "unknown field 'bb' (did you mean 'b'?) and missing field 'b'" in columns


def test_v2_infer_misspelled_input_reports_did_you_mean(client: httpx.Client) -> None:
    error = _error(client.post("/v2/models/bc/infer", json=_v2("inptu", "FP64", [1, 30], ROW)))
    assert error == (
        "unknown input 'inptu' (did you mean 'input'?) and missing input 'input': the model "
        "expects ['input']"
    )


# --- clients from elsewhere -----------------------------------------------------------------------
def test_v2_infer_accepts_one_2d_tensor_for_a_dataframe_model(table: httpx.Client) -> None:
    body = _v2("input-0", "FP32", [2, 2], [1.0, 2.0, 3.0, 4.0])
    response = table.post("/v2/models/table/infer", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["data"] == [3.0, 7.0]


def test_v2_infer_2d_tensor_of_the_wrong_width_says_what_fits(table: httpx.Client) -> None:
    body = _v2("input-0", "FP32", [1, 3], [1.0, 2.0, 3.0])
    error = _error(table.post("/v2/models/table/infer", json=body))
    assert "one 2-D tensor of shape [-1, 2] with the columns in that order" in error


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0], [3.0, 4.0]]}},
        {"dataframe_split": {"columns": ["b", "a"], "data": [[2.0, 1.0], [4.0, 3.0]]}},
        {"dataframe_records": [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]},
        {"instances": [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]},
        {"instances": [[1.0, 2.0], [3.0, 4.0]]},
        {"inputs": {"a": [1.0, 3.0], "b": [2.0, 4.0]}},
        {"inputs": [[1.0, 2.0], [3.0, 4.0]], "params": {}},
        [[1.0, 2.0], [3.0, 4.0]],
    ],
)
def test_predict_accepts_mlflow_bodies_for_a_dataframe_model(
    table: httpx.Client, body: Any
) -> None:
    response = table.post("/predict", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == [3.0, 7.0]


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": [f"f{i}" for i in range(30)], "data": [ROW]}},
        {"instances": [ROW]},
        {"inputs": [ROW]},
        {"inputs": {"input": [ROW]}},
    ],
)
def test_predict_accepts_mlflow_bodies_for_a_tensor_model(
    client: httpx.Client, forest: Any, body: Any
) -> None:
    response = client.post("/predict", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == forest.predict(np.array([ROW])).tolist()


def test_predict_refuses_mlflow_params_and_unknown_split_columns(table: httpx.Client) -> None:
    params = _error(table.post("/predict", json={"inputs": [[1.0, 2.0]], "params": {"k": 1}}))
    assert "this model takes no parameters" in params
    body = {"dataframe_split": {"columns": ["a", "c"], "data": [[1.0, 2.0]]}}
    split = _error(table.post("/predict", json=body))
    assert "unknown column 'c'" in split and "missing column 'b'" in split


# --- the edges --------------------------------------------------------------------------------
def test_root_points_to_the_docs(client: httpx.Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json()["docs"] == "/docs"
    assert client.get(response.json()["docs"]).status_code == 200


def test_python_mismatch_is_told_by_major_minor() -> None:
    assert python_mismatch("3.11.2", "3.11.9") is None
    warning = python_mismatch("3.10.4", "3.11.9")
    assert warning is not None and "saved with Python 3.10.4" in warning


def test_server_warns_at_startup_when_the_model_was_saved_with_another_python(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(table_model(python="3.9.18"), name="old")
    with caplog.at_level(logging.WARNING, logger="shipyard.serve"), ThreadServer(app) as running:
        with httpx.Client(base_url=running.url) as http:
            for _ in range(100):
                if http.get("/readyz").status_code == 200:
                    break
                time.sleep(0.02)
    assert any("saved with Python 3.9.18" in r.getMessage() for r in caplog.records)
