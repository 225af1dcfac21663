"""Batch inference: score a whole file or folder with a registered model, as serving would.

>>> from shipyard.batch import BatchOptions, predict_file
>>> result = predict_file("churn@production", "in.parquet", "out.parquet",
...                       BatchOptions(keep=("id",)))
>>> result.rows_written
1000000
"""

from shipyard.batch.job import ProgressCallback, predict_file
from shipyard.batch.options import BatchOptions, BatchResult, DataFormat, OnError

__all__ = [
    "BatchOptions",
    "BatchResult",
    "DataFormat",
    "OnError",
    "ProgressCallback",
    "predict_file",
]
