"""Fixture chain for serving tests: settings -> registry -> saved model -> server -> client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

import shipyard
from shipyard.config import Settings
from shipyard.models.manifest import Lineage, ModelManifest, Requirements
from shipyard.models.predictor import LoadedModel
from shipyard.models.signature import Signature, TensorSpec
from shipyard.refs import ModelRef
from shipyard.registry.entities import ModelVersion
from shipyard.serve import RegistrySource, ServeConfig, create_app
from shipyard.types import DType
from tests.serve.servers import ThreadServer, wait_until_ready


@pytest.fixture(scope="session")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_breast_cancer(return_X_y=True)
    return x, y


@pytest.fixture(scope="session")
def cancer_frame() -> pd.DataFrame:
    frame: pd.DataFrame = load_breast_cancer(as_frame=True).data
    return frame


@pytest.fixture(scope="session")
def forest(cancer: tuple[np.ndarray, np.ndarray]) -> RandomForestClassifier:
    x, y = cancer
    return RandomForestClassifier(n_estimators=10, random_state=0).fit(x, y)


@pytest.fixture(scope="module")
def serve_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("serve-home")
    return Settings.from_env({"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "tester"})


@pytest.fixture(scope="module")
def bc_version(
    serve_settings: Settings, forest: RandomForestClassifier, cancer: tuple[np.ndarray, np.ndarray]
) -> ModelVersion:
    """The forest registered as ``bc`` version 1 (a tensor signature: input [-1, 30])."""
    return shipyard.save_model(forest, "bc", sample_input=cancer[0][:5], settings=serve_settings)


@pytest.fixture(scope="module")
def server(serve_settings: Settings, bc_version: ModelVersion) -> Iterator[ThreadServer]:
    config = ServeConfig(max_body_bytes=64 * 1024, prediction_log=None)
    app = create_app(RegistrySource(serve_settings, ModelRef.parse("bc:1")), config)
    with ThreadServer(app) as running:
        wait_until_ready(running.url)  # the model loads in a thread: slow on a busy machine
        yield running


@pytest.fixture
def client(server: ThreadServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10.0) as http:
        yield http


def tabular_model(
    predict: object,
    columns: tuple[str, ...] = ("a", "b"),
    *,
    nullable: tuple[str, ...] = (),
    python: str = "3.11",
) -> LoadedModel:
    """A hand-built columns-signature LoadedModel (FP64 columns) around any predict function."""
    signature = Signature(
        inputs=tuple(TensorSpec(c, DType.FP64, nullable=c in nullable) for c in columns),
        outputs=(TensorSpec("predictions", DType.FP64),),
        input_kind="columns",
    )
    manifest = ModelManifest(
        flavor="python",
        signature=signature,
        requirements=Requirements(python, ()),
        lineage=Lineage(datetime.now(UTC), "tester"),
    )
    return LoadedModel(manifest, native=predict, native_predict=predict)  # type: ignore[arg-type]


def sum_with_missing_as_zero(frame: pd.DataFrame) -> np.ndarray:
    """``a + b``, a missing ``b`` counting as 0: the model behind ``table_model``."""
    return np.asarray(frame["a"] + frame["b"].fillna(0.0), dtype=float)


def table_model(predict: object = sum_with_missing_as_zero, python: str = "3.11") -> LoadedModel:
    """Columns ``a`` and ``b`` (FP64, ``b`` nullable)."""
    return tabular_model(predict, nullable=("b",), python=python)


def home_of(settings: Settings) -> Path:
    return settings.home
