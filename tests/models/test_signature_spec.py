"""Signature values: validation and their dict form."""

from __future__ import annotations

import pytest

from shipyard.errors import PackagingError
from shipyard.models.signature import Signature, TensorSpec
from shipyard.types import DType

TENSOR = {
    "input_kind": "tensor",
    "inputs": [{"name": "input", "dtype": "FP64", "shape": [-1, 30]}],
    "outputs": [{"name": "predictions", "dtype": "INT64", "shape": [-1]}],
}


def test_dict_form_round_trips() -> None:
    signature = Signature.from_dict(TENSOR)
    assert signature.inputs[0] == TensorSpec("input", DType.FP64, (-1, 30))
    assert signature.inputs[0].row_shape == (30,)
    assert Signature.from_dict(signature.to_dict()) == signature


def test_unknown_dtype_error_lists_the_valid_ones() -> None:
    bad = {"inputs": [{"name": "x", "dtype": "FLOAT", "shape": [-1]}], "outputs": []}
    with pytest.raises(PackagingError, match="FP32"):
        Signature.from_dict(bad)


@pytest.mark.parametrize("shape", [(), (0,), (-2, 3)])
def test_invalid_shapes_are_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(PackagingError, match="invalid shape"):
        TensorSpec("x", DType.FP32, shape)


def test_columns_signature_needs_one_value_per_row() -> None:
    with pytest.raises(PackagingError, match="shape \\[-1\\]"):
        Signature(inputs=(TensorSpec("x", DType.FP32, (-1, 2)),), outputs=())


def test_tensor_signature_has_exactly_one_input() -> None:
    two = (TensorSpec("a", DType.FP32), TensorSpec("b", DType.FP32))
    with pytest.raises(PackagingError, match="exactly one input"):
        Signature(inputs=two, outputs=(), input_kind="tensor")


def test_duplicate_names_are_refused() -> None:
    dup = (TensorSpec("a", DType.FP32), TensorSpec("a", DType.FP64))
    with pytest.raises(PackagingError, match="duplicate input names"):
        Signature(inputs=dup, outputs=())


def test_unknown_input_kind_is_refused() -> None:
    with pytest.raises(PackagingError, match="input_kind"):
        Signature.from_dict({**TENSOR, "input_kind": "image"})


def test_nullable_round_trips_and_is_left_out_when_false() -> None:
    spec = TensorSpec("b", DType.FP64, nullable=True)
    assert spec.to_dict() == {"name": "b", "dtype": "FP64", "shape": [-1], "nullable": True}
    assert TensorSpec.from_dict(spec.to_dict()) == spec
    assert "nullable" not in TensorSpec("a", DType.FP64).to_dict()


def test_only_float_and_text_fields_can_be_nullable() -> None:
    assert TensorSpec("t", DType.BYTES, nullable=True).nullable
    with pytest.raises(PackagingError, match="INT64 and cannot be nullable"):
        TensorSpec("n", DType.INT64, nullable=True)
    with pytest.raises(PackagingError, match="invalid signature field"):
        TensorSpec.from_dict({"name": "x", "dtype": "FP64", "nullable": "yes"})
