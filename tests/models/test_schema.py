from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import PackagingError
from shipyard.models.schema import (
    as_sample,
    check_sample_fits,
    coerce_signature,
    infer_input_signature,
    infer_output_specs,
)
from shipyard.models.signature import Signature, TensorSpec
from shipyard.types import DType


def test_ndarray_gives_one_tensor_input_named_input() -> None:
    signature = infer_input_signature(as_sample(np.zeros((5, 3, 2), dtype=np.float32)))
    assert signature.input_kind == "tensor"
    assert signature.inputs == (TensorSpec("input", DType.FP32, (-1, 3, 2)),)


def test_dataframe_gives_one_column_input_per_column_with_its_dtype() -> None:
    frame = pd.DataFrame(
        {
            "age": np.array([31, 42], dtype=np.int64),
            "score": np.array([0.5, 0.7], dtype=np.float32),
            "city": ["Oslo", "Lima"],
            "active": [True, False],
            "tier": pd.Categorical(["a", "b"]),
            "visits": pd.array([1, None], dtype="Int64"),
        }
    )
    signature = infer_input_signature(as_sample(frame))
    assert signature.input_kind == "columns"
    assert [(s.name, s.dtype, s.shape) for s in signature.inputs] == [
        ("age", DType.INT64, (-1,)),
        ("score", DType.FP32, (-1,)),
        ("city", DType.BYTES, (-1,)),
        ("active", DType.BOOL, (-1,)),
        ("tier", DType.BYTES, (-1,)),
        ("visits", DType.INT64, (-1,)),
    ]


def test_list_of_dicts_is_read_as_a_table() -> None:
    sample = as_sample([{"a": 1.0, "b": "x"}, {"a": 2.5, "b": "y"}])
    signature = infer_input_signature(sample)
    assert signature.input_kind == "columns"
    assert signature.input_names == ("a", "b")
    assert signature.inputs[0].dtype == DType.FP64


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ([[1.0, 2.0]], "got a list of list"),
        ([], "got an empty list"),
        ({"a": [1.0]}, "got a builtins.dict"),
        (np.zeros((0, 3)), "empty array"),
        (pd.DataFrame(), "empty DataFrame"),
        (pd.DataFrame(np.zeros((2, 2))), "string name"),
    ],
)
def test_sample_of_the_wrong_kind_is_refused_with_what_is_accepted(
    sample: object, message: str
) -> None:
    with pytest.raises(PackagingError, match=message):
        as_sample(sample)


def test_outputs_keep_batch_first_and_row_shape() -> None:
    specs = infer_output_specs({"label": np.array([1, 0]), "proba": np.zeros((2, 3))})
    assert specs == (
        TensorSpec("label", DType.INT64, (-1,)),
        TensorSpec("proba", DType.FP64, (-1, 3)),
    )


def test_single_array_output_is_named_predictions() -> None:
    assert infer_output_specs(np.array(["a", "b"])) == (TensorSpec("predictions", DType.BYTES),)


def test_scalar_output_is_refused() -> None:
    with pytest.raises(PackagingError, match="one value per input row"):
        infer_output_specs(np.float64(1.0))


def test_signature_dict_form_is_accepted() -> None:
    signature = coerce_signature(
        {"input_kind": "tensor", "inputs": [{"name": "input", "dtype": "FP32", "shape": [-1, 4]}]}
    )
    assert isinstance(signature, Signature)
    assert signature.inputs[0].shape == (-1, 4)


def test_explicit_tensor_signature_refuses_sample_with_other_row_shape() -> None:
    signature = Signature((TensorSpec("input", DType.FP32, (-1, 4)),), (), "tensor")
    check_sample_fits(signature, np.zeros((2, 4)))
    with pytest.raises(PackagingError, match=r"shape \[3\].*\[4\]"):
        check_sample_fits(signature, np.zeros((2, 3)))


def test_explicit_columns_signature_names_missing_sample_columns() -> None:
    signature = Signature((TensorSpec("age", DType.INT64), TensorSpec("city", DType.BYTES)), ())
    with pytest.raises(PackagingError, match=r"lacks signature input\(s\) \['city'\]"):
        check_sample_fits(signature, pd.DataFrame({"age": [1]}))
    with pytest.raises(PackagingError, match="takes columns but sample_input is an array"):
        check_sample_fits(signature, np.zeros((1, 2)))


def test_sample_with_missing_values_makes_those_fields_nullable() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, None], "c": ["x", None], "d": [1, 2]})
    nullable = {s.name: s.nullable for s in infer_input_signature(as_sample(frame)).inputs}
    assert nullable == {"a": False, "b": True, "c": True, "d": False}
    array = np.array([[1.0, np.nan]])
    assert infer_input_signature(as_sample(array)).inputs[0].nullable
    assert not infer_input_signature(as_sample(np.ones((2, 2)))).inputs[0].nullable
