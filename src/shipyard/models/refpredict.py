"""The model's predictions on the reference sample, profiled next to the inputs.

Monitoring compares live predictions with these, so prediction drift needs no training data. A
model that cannot predict on its own reference data keeps a profile without predictions (a
warning says why) rather than failing the save.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shipyard.errors import ShipyardError
from shipyard.models.loading import load_folder
from shipyard.models.profile import ReferenceProfile, sample_rows

__all__ = ["add_reference_predictions"]

logger = logging.getLogger("shipyard.models")


def add_reference_predictions(
    profile: ReferenceProfile, reference_data: Any, folder: Path
) -> ReferenceProfile:
    """``profile`` with the packaged model's predictions on the sampled reference rows."""
    try:
        loaded = load_folder(folder)
        rows = _sampled(reference_data, sample_rows(profile.row_count))
        signature = loaded.signature
        if isinstance(rows, pd.DataFrame) and signature is not None:
            if signature.input_kind == "tensor":
                rows = rows.to_numpy()
            else:
                rows = rows[list(signature.input_names)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. sklearn's feature-name notices
            outputs = loaded.predict_named(rows)
        return profile.with_predictions(outputs)
    except (ShipyardError, ValueError, TypeError, KeyError) as exc:
        logger.warning("reference profile saved without predictions: the model raised %s", exc)
        return profile


def _sampled(data: Any, rows: np.ndarray) -> pd.DataFrame | np.ndarray:
    if isinstance(data, pd.DataFrame):
        return data.iloc[rows]
    if isinstance(data, np.ndarray):
        return np.asarray(data[rows])
    if isinstance(data, list) and all(isinstance(r, Mapping) for r in data):
        return pd.DataFrame.from_records([data[int(i)] for i in rows])
    raise TypeError(f"cannot take rows of {type(data).__name__}")
