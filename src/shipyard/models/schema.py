"""Signature inference: from a sample input (and what the model returns on it) to a ``Signature``.

- numpy array → ``tensor`` signature, one input named ``input`` of shape ``(-1, *row_shape)``;
- pandas DataFrame or list of dicts → ``columns`` signature, one ``(-1,)`` input per column;
- outputs → one spec per named output, batch dimension first.

A float or text input whose sample holds missing values (NaN, ``None``) is ``nullable``: the model
was shown missing values, so serving lets requests send ``null`` there.

    >>> infer_input_signature(as_sample(np.zeros((2, 4), dtype="float32"))).inputs
    (TensorSpec(name='input', dtype=<DType.FP32: 'FP32'>, shape=(-1, 4)),)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from shipyard.errors import PackagingError
from shipyard.models.predictor import to_output_dict
from shipyard.models.signature import Signature, TensorSpec
from shipyard.types import JSON, DType

__all__ = [
    "Sample",
    "as_sample",
    "check_sample_fits",
    "coerce_signature",
    "infer_input_signature",
    "infer_output_specs",
]

Sample: TypeAlias = pd.DataFrame | np.ndarray

_KINDS = "a numpy array (tensor input), a pandas DataFrame or a non-empty list of dicts (columns)"


def as_sample(sample_input: object) -> Sample:
    """Normalize a sample input to a DataFrame or an ndarray, or raise ``PackagingError``."""
    if isinstance(sample_input, np.ndarray):
        if sample_input.ndim == 0 or len(sample_input) == 0:
            raise PackagingError("sample_input is an empty array: give at least one row")
        return sample_input
    if isinstance(sample_input, pd.DataFrame):
        if sample_input.empty:
            raise PackagingError("sample_input is an empty DataFrame: give at least one row")
        bad = [c for c in sample_input.columns if not isinstance(c, str) or not c]
        if bad:
            raise PackagingError(
                f"sample_input columns {bad!r} are not names: give every column a string name, "
                "e.g. df.columns = [str(c) for c in df.columns], or pass df.to_numpy()"
            )
        return sample_input
    if isinstance(sample_input, list) and sample_input:
        if all(isinstance(row, Mapping) for row in sample_input):
            return as_sample(pd.DataFrame.from_records(sample_input))
    raise PackagingError(f"sample_input must be {_KINDS}; got {_describe(sample_input)}")


def infer_input_signature(sample: Sample) -> Signature:
    """A signature with the sample's inputs and no outputs yet."""
    if isinstance(sample, np.ndarray):
        dtype = _dtype_of(sample.dtype, "input")
        missing = bool(pd.isna(sample).any()) if sample.dtype.kind in "fO" else False
        spec = TensorSpec("input", dtype, (-1, *sample.shape[1:]))
        return Signature(inputs=(_nullable(spec, missing),), outputs=(), input_kind="tensor")
    specs = tuple(
        _nullable(
            TensorSpec(str(name), _dtype_of(sample[name].dtype, str(name))),
            bool(sample[name].isna().any()),
        )
        for name in sample.columns
    )
    return Signature(inputs=specs, outputs=(), input_kind="columns")


def _nullable(spec: TensorSpec, has_missing: bool) -> TensorSpec:
    if has_missing and spec.can_hold_missing:
        return TensorSpec(spec.name, spec.dtype, spec.shape, nullable=True)
    return spec


def infer_output_specs(raw: Any, names: tuple[str, ...] = ()) -> tuple[TensorSpec, ...]:
    """One spec per output the model returned on the sample, batch dimension first."""
    specs = []
    for name, value in to_output_dict(raw, names).items():
        array = np.asarray(value)
        if array.ndim == 0:
            raise PackagingError(
                f"the model returned a scalar for output {name!r}: return one value per input row"
            )
        specs.append(TensorSpec(name, _dtype_of(array.dtype, name), (-1, *array.shape[1:])))
    return tuple(specs)


def coerce_signature(signature: Signature | JSON) -> Signature:
    """Accept a ``Signature`` or its dict form; anything else is a ``PackagingError``."""
    if isinstance(signature, Signature):
        return signature
    return Signature.from_dict(signature)


def check_sample_fits(signature: Signature, sample: Sample) -> None:
    """Raise ``PackagingError`` when an explicit signature does not describe the sample input."""
    if signature.input_kind == "tensor":
        if not isinstance(sample, np.ndarray):
            raise PackagingError(
                "the signature takes a tensor but sample_input is a table: pass a numpy array "
                "or use input_kind 'columns'"
            )
        expected = signature.inputs[0].row_shape
        actual = sample.shape[1:]
        if len(expected) != len(actual) or any(
            e not in (-1, a) for e, a in zip(expected, actual, strict=True)
        ):
            raise PackagingError(
                f"sample_input rows have shape {list(actual)} but the signature says "
                f"{list(expected)}"
            )
        return
    if not isinstance(sample, pd.DataFrame):
        raise PackagingError(
            "the signature takes columns but sample_input is an array: pass a DataFrame or a list "
            "of dicts, or use input_kind 'tensor'"
        )
    missing = [n for n in signature.input_names if n not in sample.columns]
    if missing:
        raise PackagingError(
            f"sample_input lacks signature input(s) {missing}; it has {list(sample.columns)}"
        )


def _dtype_of(dtype: Any, name: str) -> DType:
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    if isinstance(dtype, pd.StringDtype):
        return DType.BYTES
    numpy_dtype = getattr(dtype, "numpy_dtype", dtype)  # pandas extension dtypes such as Int64
    try:
        return DType.from_numpy(np.dtype(numpy_dtype))
    except (TypeError, ValueError) as exc:
        raise PackagingError(f"field {name!r} has dtype {dtype}, which has no tensor type") from exc


def _describe(obj: object) -> str:
    if isinstance(obj, list):
        if not obj:
            return "an empty list"
        return f"a list of {type(obj[0]).__name__}"
    return f"a {type(obj).__module__}.{type(obj).__qualname__}"
