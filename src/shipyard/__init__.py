"""Shipyard: take a trained model from a laptop to a dependable production service.

>>> import shipyard
>>> version = shipyard.save_model(clf, "iris", sample_input=X[:5])
>>> model = shipyard.load_model("iris@production")
>>> with shipyard.start_run(experiment="iris") as run:
...     run.log_metric("accuracy", 0.97)

The names below are imported on first use (PEP 562), so ``import shipyard`` and the CLI start
without numpy, pandas or SQLAlchemy; ``from shipyard import save_model`` works as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from shipyard.lazy import lazy_exports

if TYPE_CHECKING:
    from shipyard._api import load_model, save_model
    from shipyard.config import Settings
    from shipyard.models.manifest import ModelManifest
    from shipyard.models.predictor import LoadedModel
    from shipyard.models.signature import Signature
    from shipyard.pipelines.pipeline import pipeline
    from shipyard.pipelines.register import register_step
    from shipyard.pipelines.step import step
    from shipyard.refs import ModelRef
    from shipyard.registry.entities import AliasEvent, ModelVersion
    from shipyard.registry.registry import Registry
    from shipyard.spark.udf import spark_udf
    from shipyard.tracking import ActiveRun, Run, RunStatus, Tracker, start_run

__version__ = "0.1.0"

# name -> the module that defines it, imported when the name is first read.
_LAZY: dict[str, str] = {
    "AliasEvent": "shipyard.registry.entities",
    "LoadedModel": "shipyard.models.predictor",
    "ModelManifest": "shipyard.models.manifest",
    "ModelRef": "shipyard.refs",
    "ModelVersion": "shipyard.registry.entities",
    "Registry": "shipyard.registry.registry",
    "Settings": "shipyard.config",
    "Signature": "shipyard.models.signature",
    "load_model": "shipyard._api",
    "pipeline": "shipyard.pipelines.pipeline",
    "register_step": "shipyard.pipelines.register",
    "save_model": "shipyard._api",
    "spark_udf": "shipyard.spark.udf",
    "step": "shipyard.pipelines.step",
    "ActiveRun": "shipyard.tracking.run",
    "Run": "shipyard.tracking.entities",
    "RunStatus": "shipyard.tracking.entities",
    "Tracker": "shipyard.tracking.tracker",
    "start_run": "shipyard.tracking.run",
}

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
    "pipeline",
    "register_step",
    "save_model",
    "spark_udf",
    "start_run",
    "step",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
