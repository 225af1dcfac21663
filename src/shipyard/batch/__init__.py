"""Batch inference: score a whole file or folder with a registered model, as serving would.

>>> from shipyard.batch import BatchOptions, predict_file
>>> result = predict_file("churn@production", "in.parquet", "out.parquet",
...                       BatchOptions(keep=("id",)))
>>> result.rows_written
1000000

Names are imported on first use (PEP 562), so the CLI can read ``batch.options`` without pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.lazy import lazy_exports

if TYPE_CHECKING:
    from shipyard.batch.job import ProgressCallback, predict_file
    from shipyard.batch.options import BatchOptions, BatchResult, DataFormat, OnError

_LAZY: dict[str, str] = {
    "BatchOptions": "shipyard.batch.options",
    "BatchResult": "shipyard.batch.options",
    "DataFormat": "shipyard.batch.options",
    "OnError": "shipyard.batch.options",
    "ProgressCallback": "shipyard.batch.job",
    "predict_file": "shipyard.batch.job",
}

__all__ = [
    "BatchOptions",
    "BatchResult",
    "DataFormat",
    "OnError",
    "ProgressCallback",
    "predict_file",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
