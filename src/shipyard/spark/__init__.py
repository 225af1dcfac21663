"""Score Spark DataFrames with a registered version, on the executors, as ``shipyard predict``.

    >>> scores = shipyard.spark_udf(spark, "churn@production", on_error="skip")
    >>> df.withColumn("scores", scores()).select("id", "scores.*")

``udf.py`` builds the Arrow UDF, ``schema.py`` its return type from the version's signature,
``shipping.py`` sends the version to the executors as one archive and loads it there once per
Python process, after checking its digest. PySpark is the optional ``shipyard[spark]`` extra.
"""

from __future__ import annotations

__all__: list[str] = []
