"""A model's input/output signature: what serving validates requests against.

Two input kinds:

- ``columns``: a table (pandas DataFrame, list of dicts). Each input is one column, shape ``(-1,)``;
  the model receives a DataFrame with the columns in signature order.
- ``tensor``: a single array (numpy). One input named ``input``, shape ``(-1, ...)``; the model
  receives an ndarray.

Outputs are always named tensors whose first dimension is the batch (rows). ``-1`` in a shape
means "any size". An input with ``nullable`` set accepts missing values (JSON ``null``, read as
NaN for floats and ``None`` for text); only float and text inputs can be nullable. Serving refuses
``null`` everywhere else.

    >>> sig = Signature.from_dict({"input_kind": "tensor",
    ...     "inputs": [{"name": "input", "dtype": "FP64", "shape": [-1, 4]}],
    ...     "outputs": [{"name": "predictions", "dtype": "INT64", "shape": [-1]}]})
    >>> sig.inputs[0].shape
    (-1, 4)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from shipyard.errors import PackagingError
from shipyard.types import JSON, DType

__all__ = ["InputKind", "Signature", "TensorSpec"]

InputKind = Literal["columns", "tensor"]


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One named input column or tensor: datatype and shape (first dimension is the batch)."""

    name: str
    dtype: DType
    shape: tuple[int, ...] = (-1,)
    nullable: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise PackagingError("a signature field needs a non-empty name")
        if self.nullable and not self.can_hold_missing:
            raise PackagingError(
                f"field {self.name!r} is {self.dtype.value} and cannot be nullable: only float "
                "(FP16/FP32/FP64) and text (BYTES) fields can hold missing values"
            )
        if not self.shape or any(d < -1 or d == 0 for d in self.shape):
            raise PackagingError(
                f"field {self.name!r} has invalid shape {self.shape!r}: use positive sizes or -1 "
                "for 'any', batch dimension first"
            )

    @property
    def row_shape(self) -> tuple[int, ...]:
        """The shape of one row (the shape without its batch dimension)."""
        return self.shape[1:]

    @property
    def can_hold_missing(self) -> bool:
        """Whether this datatype has a missing value (NaN for floats, ``None`` for text)."""
        return self.dtype is DType.BYTES or self.dtype.numpy_dtype.kind == "f"

    def to_dict(self) -> JSON:
        data: JSON = {"name": self.name, "dtype": self.dtype.value, "shape": list(self.shape)}
        if self.nullable:
            data["nullable"] = True
        return data

    @classmethod
    def from_dict(cls, data: JSON) -> TensorSpec:
        try:
            nullable = data.get("nullable", False)
            if not isinstance(nullable, bool):
                raise TypeError("nullable must be true or false")
            return cls(
                name=str(data["name"]),
                dtype=DType(str(data["dtype"]).upper()),
                shape=tuple(int(d) for d in data.get("shape", (-1,))),
                nullable=nullable,
            )
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise PackagingError(
                f"invalid signature field {data!r}: expected "
                "{'name': str, 'dtype': one of " + ", ".join(d.value for d in DType) + ", "
                "'shape': [-1, ...], 'nullable': false}"
            ) from exc


@dataclass(frozen=True, slots=True)
class Signature:
    """The inputs a model accepts and the outputs it returns."""

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    input_kind: InputKind = "columns"

    def __post_init__(self) -> None:
        if self.input_kind not in get_args(InputKind):
            raise PackagingError(
                f"invalid input_kind {self.input_kind!r}: use 'columns' or 'tensor'"
            )
        if not self.inputs:
            raise PackagingError("a signature needs at least one input")
        if self.input_kind == "tensor" and len(self.inputs) != 1:
            raise PackagingError("a 'tensor' signature has exactly one input")
        if self.input_kind == "columns" and any(len(s.shape) != 1 for s in self.inputs):
            raise PackagingError(
                "every input of a 'columns' signature has shape [-1] (one value a row)"
            )
        for group, specs in (("input", self.inputs), ("output", self.outputs)):
            names = [s.name for s in specs]
            if len(set(names)) != len(names):
                raise PackagingError(f"duplicate {group} names in signature: {names}")

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.outputs)

    def to_dict(self) -> JSON:
        return {
            "input_kind": self.input_kind,
            "inputs": [s.to_dict() for s in self.inputs],
            "outputs": [s.to_dict() for s in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: JSON | Any) -> Signature:
        if not isinstance(data, dict):
            raise PackagingError(
                "a signature is a dict with 'inputs', 'outputs' and 'input_kind' "
                "('columns' or 'tensor')"
            )
        return cls(
            inputs=tuple(TensorSpec.from_dict(s) for s in data.get("inputs", ())),
            outputs=tuple(TensorSpec.from_dict(s) for s in data.get("outputs", ())),
            input_kind=data.get("input_kind", "columns"),
        )
