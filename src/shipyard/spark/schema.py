"""A version's outputs as the UDF's return type: one struct field per output, on the driver.

The fields are named as ``shipyard predict`` names its Parquet columns (``batch/writer.py``): one
per output, an output of shape ``[-1, k, ...]`` as an array of its element type. With
``on_error="skip"`` a ``_rejected`` string field follows (null for a scored row). Spark has no
unsigned integers, so those widen to the next signed type.

    >>> spark_schema(signature, "skip").simpleString()
    'struct<predictions:bigint,_rejected:string>'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from shipyard.batch.options import OnError
from shipyard.errors import ConfigError
from shipyard.models.signature import Signature, TensorSpec
from shipyard.types import DType

if TYPE_CHECKING:
    from pyspark.sql.types import DataType, StructType

__all__ = ["REJECTED", "arrow_schema", "spark_schema"]

REJECTED = "_rejected"
"""The field that holds why a row was rejected (``on_error="skip"``)."""

_ARROW: dict[DType, pa.DataType] = {
    DType.BOOL: pa.bool_(),
    DType.UINT8: pa.int16(),
    DType.UINT16: pa.int32(),
    DType.UINT32: pa.int64(),
    DType.UINT64: pa.int64(),
    DType.INT8: pa.int8(),
    DType.INT16: pa.int16(),
    DType.INT32: pa.int32(),
    DType.INT64: pa.int64(),
    DType.FP16: pa.float32(),
    DType.FP32: pa.float32(),
    DType.FP64: pa.float64(),
    DType.BYTES: pa.string(),
}


def arrow_schema(signature: Signature | None, on_error: OnError) -> pa.StructType:
    """The Arrow struct the executors return, field for field the Spark one."""
    fields = [pa.field(spec.name, _arrow_type(spec)) for spec in _outputs(signature)]
    if on_error == "skip":
        fields.append(pa.field(REJECTED, pa.string()))
    return pa.struct(fields)


def spark_schema(signature: Signature | None, on_error: OnError) -> StructType:
    """The UDF's return type (PySpark's ``StructType``)."""
    from pyspark.sql.types import StructField, StructType

    struct = arrow_schema(signature, on_error)
    return StructType([StructField(f.name, _spark_type(f.type)) for f in struct])


def _outputs(signature: Signature | None) -> tuple[TensorSpec, ...]:
    if signature is None or not signature.outputs:
        raise ConfigError(
            "the version's signature names no outputs, so the UDF's return type is unknown: "
            "save the model again with a sample_input (or a signature that lists its outputs)"
        )
    if REJECTED in signature.output_names:
        raise ConfigError(f"the model has an output named {REJECTED!r}, the UDF's reject field")
    return signature.outputs


def _arrow_type(spec: TensorSpec) -> pa.DataType:
    element = _ARROW[spec.dtype]
    return pa.list_(element) if spec.row_shape else element


def _spark_type(arrow: pa.DataType) -> DataType:
    from pyspark.sql import types as st

    if pa.types.is_list(arrow):
        return st.ArrayType(_spark_type(arrow.value_type))
    simple: dict[pa.DataType, st.DataType] = {
        pa.bool_(): st.BooleanType(),
        pa.int8(): st.ByteType(),
        pa.int16(): st.ShortType(),
        pa.int32(): st.IntegerType(),
        pa.int64(): st.LongType(),
        pa.float32(): st.FloatType(),
        pa.float64(): st.DoubleType(),
        pa.string(): st.StringType(),
    }
    return simple[arrow]
