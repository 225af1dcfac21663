"""Shipyard: take a trained model from a laptop to a dependable production service.

>>> import shipyard
>>> version = shipyard.save_model(clf, "iris", sample_input=X[:5])
>>> model = shipyard.load_model("iris@production")
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
from shipyard.pipelines import pipeline, register_step, step
from shipyard.refs import ModelRef
from shipyard.registry.entities import AliasEvent, ModelVersion
from shipyard.registry.registry import Registry

__version__ = "0.1.0"

__all__ = [
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
    "Settings",
    "ShipyardError",
    "Signature",
    "StoreError",
    "__version__",
    "load_model",
    "pipeline",
    "register_step",
    "save_model",
    "step",
]
