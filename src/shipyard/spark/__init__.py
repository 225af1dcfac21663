"""Score Spark DataFrames with a registered version, on the executors, as ``shipyard predict``.

    >>> scores = shipyard.spark_udf(spark, "churn@production", on_error="skip")
    >>> df.withColumn("scores", scores()).select("id", "scores.*")

``udf.py`` builds the Arrow UDF, ``schema.py`` its return type from the version's signature,
``shipping.py`` sends the version to the executors as one archive and loads it there once per
Python process, after checking its digest. PySpark is the optional ``shipyard[spark]`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.lazy import lazy_exports

if TYPE_CHECKING:
    from shipyard.spark.udf import ModelUDF, spark_udf

__all__ = ["ModelUDF", "spark_udf"]

__getattr__, __dir__ = lazy_exports(
    __name__, {"ModelUDF": "shipyard.spark.udf", "spark_udf": "shipyard.spark.udf"}
)
