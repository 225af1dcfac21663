"""``/predict`` bodies -> named arrays: Shipyard's own shapes and MLflow's scoring bodies.

    [{"f1": 1.0, "f2": 2.0}, ...]                  records (columns signature)
    {"f1": [1.0, ...], "f2": [2.0, ...]}           columns
    [[1.0, 2.0, ...], ...]                         rows (tensor signature; or a table, in order)
    {"input": [[1.0, 2.0, ...], ...]}              the tensor by name
    {"dataframe_split": {"columns": [...], "data": [[...], ...]}}    MLflow, pandas "split"
    {"dataframe_records": [{...}, ...]}                              MLflow, pandas "records"
    {"instances": [...]} or {"inputs": [...] | {...}}                MLflow (TF Serving style)

MLflow's envelope may carry ``"params"``; Shipyard models take none, so a non-empty one is
refused. Values are converted strictly (``jsonarrays``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.errors import InvalidInputError
from shipyard.models.signature import Signature, TensorSpec
from shipyard.serve.jsonarrays import json_array
from shipyard.serve.validation import coerce_column, name_problems
from shipyard.types import DType

__all__ = ["MLFLOW_KEYS", "PayloadDecoder", "decode_payload"]

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def decode_payload(
    signature: Signature | None, payload: Any, *, may_hold_bools: bool = True
) -> dict[str, np.ndarray]:
    """Turn a ``/predict`` body into named arrays, or raise ``InvalidInputError``."""
    return PayloadDecoder(signature).decode(payload, may_hold_bools=may_hold_bools)


class PayloadDecoder:
    """Decodes ``/predict`` bodies for one signature (built once per served model)."""

    __slots__ = ("_signature", "_uniform")

    def __init__(self, signature: Signature | None) -> None:
        self._signature = signature
        self._uniform = None if signature is None else _uniform_spec(signature)

    def decode(self, payload: Any, *, may_hold_bools: bool = True) -> dict[str, np.ndarray]:
        """Named arrays for ``payload``, or ``InvalidInputError``."""
        signature = self._signature
        if signature is None:
            if isinstance(payload, dict):
                return {k: np.asarray(v) for k, v in payload.items()}
            return {"input": np.asarray(payload)}
        decoder = _Decoder(signature, self._uniform, may_hold_bools)
        envelope = _mlflow_envelope(signature, payload)
        if envelope is not None:
            key, body = envelope
            return decoder.mlflow(key, body)
        return decoder.plain(payload)


def _uniform_spec(signature: Signature) -> TensorSpec | None:
    """The spec every column shares when a table is all one numeric type (and nullability)."""
    if signature.input_kind != "columns":
        return None
    first = signature.inputs[0]
    if first.dtype is DType.BYTES:
        return None
    same = all(s.dtype is first.dtype and s.nullable == first.nullable for s in signature.inputs)
    return first if same else None


def _mlflow_envelope(signature: Signature, payload: Any) -> tuple[str, Any] | None:
    if not isinstance(payload, dict):
        return None
    keys = [k for k in payload if k in MLFLOW_KEYS and k not in signature.input_names]
    if len(keys) != 1 or set(payload) - {keys[0], "params"}:
        return None
    params = payload.get("params")
    if params not in (None, {}):
        raise InvalidInputError(
            f'"params" {str(params)[:100]} given, but this model takes no parameters: '
            'leave "params" out'
        )
    return keys[0], payload[keys[0]]


class _Decoder:
    __slots__ = ("_bools", "_signature", "_uniform")

    def __init__(
        self, signature: Signature, uniform: TensorSpec | None, may_hold_bools: bool
    ) -> None:
        self._signature = signature
        self._bools = may_hold_bools
        self._uniform = uniform

    def _matrix(self, nested: list[list[Any]]) -> np.ndarray | None:
        """All columns of one numeric type: one conversion for the table, not one per column.

        None when they are not, or when a value is refused (the per-column path then names
        the field).
        """
        spec = self._uniform
        if spec is None or not nested:
            return None
        try:
            matrix = json_array(
                "", spec.dtype, nested, nullable=spec.nullable, may_hold_bools=self._bools
            )
        except InvalidInputError:
            return None
        return matrix if matrix.ndim == 2 else None

    def _by_column(self, matrix: np.ndarray) -> dict[str, np.ndarray]:
        return {name: matrix[:, i] for i, name in enumerate(self._signature.input_names)}

    def plain(self, payload: Any) -> dict[str, np.ndarray]:
        signature = self._signature
        if signature.input_kind == "tensor":
            spec = signature.inputs[0]
            if isinstance(payload, dict):
                if set(payload) != {spec.name}:
                    problem = name_problems(payload, [spec.name])
                    raise InvalidInputError(
                        f"{problem}: send {{{spec.name!r}: rows}} or a list of rows"
                    )
                payload = payload[spec.name]
            return {spec.name: self._tensor(spec, payload)}
        if isinstance(payload, list):
            if payload and all(isinstance(r, list) for r in payload):
                return self._table_rows(payload)
            return self._records(payload)
        if isinstance(payload, dict):
            return self._columns(payload)
        raise InvalidInputError(
            "expected records [{field: value, ...}, ...] or columns {field: [values], ...}"
        )

    def mlflow(self, key: str, body: Any) -> dict[str, np.ndarray]:
        if key == "dataframe_split":
            return self._split(body)
        if key == "dataframe_records":
            if self._signature.input_kind == "tensor" or not isinstance(body, list):
                raise InvalidInputError(
                    '"dataframe_records" takes a list of records [{field: value}, ...] and '
                    "only for a model with named fields; this one takes " + self._takes()
                )
            return self._records(body)
        return self.plain(body)  # "instances" and "inputs" carry what a plain body does

    def _takes(self) -> str:
        signature = self._signature
        if signature.input_kind == "tensor":
            spec = signature.inputs[0]
            return f"rows of shape {list(spec.row_shape)} ({spec.dtype.value})"
        return f"fields {list(signature.input_names)}"

    def _tensor(self, spec: TensorSpec, rows: Any) -> np.ndarray:
        if not isinstance(rows, list):
            raise InvalidInputError(
                f"input {spec.name!r}: expected a list of rows, got {type(rows).__name__}"
            )
        return json_array(
            f"input {spec.name!r}",
            spec.dtype,
            rows,
            nullable=spec.nullable,
            may_hold_bools=self._bools,
        )

    def _records(self, records: list[Any]) -> dict[str, np.ndarray]:
        names = self._signature.input_names
        expected = set(names)
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                raise InvalidInputError(
                    f"record {index} is a {type(record).__name__}: each record is an object of "
                    f"field to value with fields {list(names)}"
                )
            if record.keys() != expected:
                problem = name_problems(record, names, "field")
                raise InvalidInputError(f"record {index}: {problem}: expected fields {list(names)}")
        if self._uniform is not None:
            matrix = self._matrix([[r[n] for n in names] for r in records])
            if matrix is not None:
                return self._by_column(matrix)
        return {
            s.name: coerce_column(s, [r[s.name] for r in records], may_hold_bools=self._bools)
            for s in self._signature.inputs
        }

    def _columns(self, columns: dict[str, Any]) -> dict[str, np.ndarray]:
        names = self._signature.input_names
        problem = name_problems(columns, names, "field")
        if problem is not None:
            raise InvalidInputError(f"columns: {problem}: expected fields {list(names)}")
        if self._uniform is not None:
            matrix = self._matrix([columns[n] for n in names])  # here one row per column
            if matrix is not None:
                return dict(zip(names, matrix, strict=True))
        out = {}
        for spec in self._signature.inputs:
            values = columns[spec.name]
            if not isinstance(values, list):
                raise InvalidInputError(f"field {spec.name!r}: expected a list of values")
            out[spec.name] = coerce_column(spec, values, may_hold_bools=self._bools)
        return out

    def _table_rows(
        self, rows: list[list[Any]], columns: list[str] | None = None
    ) -> dict[str, np.ndarray]:
        """Rows of a table, values in ``columns`` order (default: the signature's)."""
        names = list(self._signature.input_names) if columns is None else columns
        if not rows:
            raise InvalidInputError("the request holds no rows: send at least one")
        for index, row in enumerate(rows):
            if len(row) != len(names):
                raise InvalidInputError(
                    f"row {index} has {len(row)} values but the table has {len(names)} "
                    f"columns {names}: send one value per column, in that order"
                )
        if columns is None:
            matrix = self._matrix(rows)
            if matrix is not None:
                return self._by_column(matrix)
        by_name = dict(zip(names, zip(*rows, strict=True), strict=True))
        return {
            s.name: coerce_column(s, list(by_name[s.name]), may_hold_bools=self._bools)
            for s in self._signature.inputs
        }

    def _split(self, body: Any) -> dict[str, np.ndarray]:
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("data"), list)
            or not all(isinstance(r, list) for r in body["data"])
        ):
            raise InvalidInputError(
                '"dataframe_split" takes {"columns": [names], "data": [[row], ...]} (pandas '
                '"split" orient)'
            )
        rows = body["data"]
        if self._signature.input_kind == "tensor":
            spec = self._signature.inputs[0]
            return {spec.name: self._tensor(spec, rows)}
        columns = body.get("columns")
        if columns is None:
            return self._table_rows(rows)
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise InvalidInputError('"dataframe_split": "columns" must be a list of names')
        names = self._signature.input_names
        problem = name_problems(columns, names, "column")
        if problem is not None or len(set(columns)) != len(columns):
            detail = problem or "a column is named twice"
            raise InvalidInputError(f'"dataframe_split": {detail}: expected columns {list(names)}')
        return self._table_rows(rows, columns)
