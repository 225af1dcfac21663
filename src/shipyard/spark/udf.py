"""``spark_udf``: a version as a Spark Arrow UDF that scores as ``shipyard predict`` does.

On the driver the reference is resolved and verified (and checked against the trust policy),
the return type comes from the version's signature and the version is shipped to the executors
(``shipping.py``); the model is not loaded there. On the executors each Arrow batch is one chunk
for ``RowScorer`` (``batch/rows.py``): the same conversion, validation, prediction and bisection
of model errors as ``shipyard predict``, and the same output columns as its Parquet output.

``on_error="fail"`` raises on the first bad row, naming it and its values; ``"skip"`` gives a
bad row null outputs and the reason in ``_rejected``, as ``--on-error skip`` writes it in the
rejects file. An executor keeps one ``RowScorer`` per version, ``on_error`` and feature columns
(``_SCORERS``), beside the model that ``shipping.py`` loads once per process.

    >>> scores = spark_udf(spark, "churn@production", on_error="skip")
    >>> df.withColumn("s", scores()).select("id", "s.*")   # the signature's input columns
    >>> df.withColumn("s", scores("a", "b"))               # or these, in the inputs' order
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from shipyard.batch.options import OnError
from shipyard.batch.reader import Chunk
from shipyard.batch.rows import RowScorer
from shipyard.batch.writer import output_table
from shipyard.config import Settings
from shipyard.errors import ConfigError, InvalidInputError, PredictionError
from shipyard.models.signature import Signature
from shipyard.registry.entities import ModelVersion
from shipyard.spark.schema import REJECTED, arrow_schema, spark_schema
from shipyard.spark.shipping import ShippedModel, load_shipped, ship_version

if TYPE_CHECKING:
    from pyspark.sql import Column, SparkSession
    from pyspark.sql.types import StructType

__all__ = ["ModelUDF", "spark_udf"]

_SCORERS: dict[tuple[str, OnError, tuple[str, ...]], RowScorer] = {}


def spark_udf(
    spark: SparkSession,
    model: str,
    *,
    on_error: OnError = "fail",
    settings: Settings | None = None,
) -> ModelUDF:
    """A UDF scoring with ``model`` (a registry reference or a model folder); call it with the
    feature columns (none: the signature's input columns) to get a struct column of outputs."""
    _require_pyspark()
    if on_error not in ("fail", "skip"):
        raise ConfigError(f"on_error must be 'fail' or 'skip', not {on_error!r}")
    settings = settings or Settings.from_env()
    folder, version = _resolve(model, settings)
    spark_schema(version.manifest.signature, on_error)  # a version without outputs fails here
    shipped = ship_version(spark, folder, version, settings.import_limits)
    return ModelUDF(shipped, version.manifest.signature, on_error)


@dataclass(frozen=True, slots=True)
class ModelUDF:
    """A shipped version and how to score with it; calling it applies it to columns."""

    shipped: ShippedModel
    signature: Signature | None
    on_error: OnError = "fail"

    @property
    def return_type(self) -> StructType:
        """The struct of output fields (and ``_rejected`` when skipping)."""
        return spark_schema(self.signature, self.on_error)

    def __call__(self, *columns: str | Column) -> Column:
        from pyspark.sql.pandas.functions import arrow_udf

        features = self._features(columns)
        score = _batch_scorer(self.shipped, self.signature, self.on_error, features)
        # Arrays to an array, told by the type hints (the stubs only list functionType calls,
        # which PySpark 4 warns about).
        udf = arrow_udf(score, self.return_type)  # type: ignore[call-overload]
        column: Column = udf(*(columns or features))
        return column

    def _features(self, columns: tuple[str | Column, ...]) -> tuple[str, ...]:
        signature = self.signature
        if signature is not None and signature.input_kind == "columns":
            names = signature.input_names
            if columns and len(columns) != len(names):
                raise ConfigError(
                    f"{self.shipped.label} takes {len(names)} columns {list(names)}, "
                    f"{len(columns)} were given: pass them in that order, or none"
                )
            return tuple(names)
        if not columns or not all(isinstance(c, str) for c in columns):
            raise ConfigError(
                f"{self.shipped.label} takes a tensor: name its feature columns in order, "
                "as strings (udf('f0', 'f1', ...))"
            )
        return tuple(str(c) for c in columns)


def _batch_scorer(
    shipped: ShippedModel, signature: Signature | None, on_error: OnError, features: tuple[str, ...]
) -> Callable[..., pa.Array]:
    """The function the executors run on each Arrow batch (pickled with what it closes over)."""
    struct = arrow_schema(signature, on_error)

    def score(*arrays: pa.Array) -> pa.Array:
        return score_batch(shipped, on_error, features, struct, arrays)

    return score


def score_batch(
    shipped: ShippedModel,
    on_error: OnError,
    features: tuple[str, ...],
    struct: pa.StructType,
    arrays: tuple[pa.Array, ...],
) -> pa.StructArray:
    """Score one Arrow batch on an executor: one struct per row, nulls for a rejected row."""
    scorer = _scorer(shipped, on_error, features)
    table = pa.table(dict(zip(features, arrays, strict=True)))
    chunk = Chunk(0, 0, table=table)
    converted = scorer.convert(chunk)
    rows = table.num_rows
    if converted.reasons and on_error == "fail":
        row, reason = min(converted.reasons.items())
        values = table.slice(row, 1).to_pylist()[0]
        raise InvalidInputError(
            f"{shipped.label}: row {row} of a batch of {rows} rows {values}: {reason}. Fix the "
            "input, or pass on_error='skip' for null outputs and the reason in _rejected"
        )
    try:
        scored = scorer.predict(converted)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{shipped.label}, a batch of {rows} rows: {exc}") from None
    except PredictionError as exc:
        raise PredictionError(f"{shipped.label}, a batch of {rows} rows: {exc}") from exc
    good = output_table({}, scored.outputs, "parquet") if scored.outputs else None
    positions = np.cumsum(scored.good) - 1
    take = pa.array(positions, mask=~scored.good, type=pa.int64())
    fields: list[pa.Array] = []
    for field in struct:
        if field.name == REJECTED:
            fields.append(pa.array([scored.reasons.get(i) for i in range(rows)], pa.string()))
        elif good is None:
            fields.append(pa.nulls(rows, field.type))
        else:
            values = good.column(field.name).combine_chunks().cast(field.type)
            fields.append(values.take(take))
    return pa.StructArray.from_arrays(fields, fields=list(struct))


def _scorer(shipped: ShippedModel, on_error: OnError, features: tuple[str, ...]) -> RowScorer:
    key = (shipped.digest, on_error, features)
    scorer = _SCORERS.get(key)
    if scorer is None:
        scorer = _SCORERS[key] = RowScorer(load_shipped(shipped).model, on_error, features)
    return scorer


def _resolve(model: str, settings: Settings) -> tuple[Path, ModelVersion]:
    """The verified model folder and version of a reference or folder, on the driver."""
    from shipyard.registry import Registry, read_verified_folder
    from shipyard.registry.trust import require_trusted
    from shipyard.serve.sources import is_model_folder

    path = Path(model).expanduser()
    if is_model_folder(path):
        folder = path
    else:
        with Registry.from_settings(settings) as registry:
            folder = registry.fetch(registry.get(model).ref)
    version = read_verified_folder(folder)
    require_trusted(version, settings.trusted_keys)
    return folder, version


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"spark_udf needs PySpark: pip install 'shipyard[spark]' ({exc})"
        ) from None
