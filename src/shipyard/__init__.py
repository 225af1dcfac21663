"""Shipyard: take a trained model from a laptop to a dependable production service.

>>> import shipyard
>>> version = shipyard.save_model(clf, "iris", sample_input=X[:5])
>>> model = shipyard.load_model("iris@production")
>>> with shipyard.start_run(experiment="iris") as run:
...     run.log_metric("accuracy", 0.97)
"""

from shipyard._api import load_model, save_model
from shipyard.config import Settings
from shipyard.errors import (
    ConfigError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    InvalidNameError,
    ModelLoadError,
    NotFoundError,
    PackagingError,
    PredictionError,
    ShipyardError,
    StoreError,
)
from shipyard.models.loaded import LoadedModel
from shipyard.models.manifest import ModelManifest
from shipyard.models.signature import Signature
from shipyard.refs import ModelRef
from shipyard.registry.entities import AliasEvent, ModelVersion
from shipyard.registry.registry import Registry
from shipyard.tracking import ActiveRun, Run, RunStatus, Tracker, start_run

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "AliasEvent",
    "ConfigError",
    "ConflictError",
    "IntegrityError",
    "InvalidInputError",
    "InvalidNameError",
    "LoadedModel",
    "ModelLoadError",
    "ModelManifest",
    "ModelRef",
    "ModelVersion",
    "NotFoundError",
    "PackagingError",
    "PredictionError",
    "Registry",
    "Run",
    "RunStatus",
    "Settings",
    "ShipyardError",
    "Signature",
    "StoreError",
    "Tracker",
    "__version__",
    "load_model",
    "save_model",
    "start_run",
]
