"""Spark fixtures: one local SparkSession for the whole run (skipped, visibly, without Java or
PySpark), and an iris forest and an iris ONNX classifier registered once, with their rows."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import shipyard
from shipyard.config import Settings


@dataclass(frozen=True)
class Registered:
    """A registered version, the settings of its registry and the rows it scores (``id`` first)."""

    ref: str
    settings: Settings
    frame: pd.DataFrame
    features: list[str]


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (a JDK 17 on PATH)")
    pyspark_sql = pytest.importorskip("pyspark.sql", reason="pip install 'shipyard[spark]'")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        session = _session(pyspark_sql.SparkSession)
        session.sparkContext.setLogLevel("ERROR")
        yield session
        session.stop()


def _session(builder_of: Any) -> Any:
    return (
        builder_of.builder.master("local[2]")
        .appName("shipyard-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
        .getOrCreate()
    )


@pytest.fixture(scope="session")
def spark_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("spark-home")
    return Settings.from_env({"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "tester"})


def _iris() -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import load_iris

    features, target = load_iris(return_X_y=True, as_frame=True)
    return features, np.asarray(target)


def _with_ids(features: pd.DataFrame) -> pd.DataFrame:
    frame = features.copy()
    frame.insert(0, "id", np.arange(1000, 1000 + len(frame)))
    return frame


@pytest.fixture(scope="session")
def forest(spark_settings: Settings) -> Registered:
    from sklearn.ensemble import RandomForestClassifier

    features, target = _iris()
    model = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0).fit(
        features, target
    )
    version = shipyard.save_model(model, "iris", sample_input=features[:5], settings=spark_settings)
    return Registered(
        f"iris:{version.version}", spark_settings, _with_ids(features), list(features.columns)
    )


@pytest.fixture(scope="session")
def onnx_iris(spark_settings: Settings) -> Registered:
    """A tensor model with a ``[-1, 3]`` FP32 output (``probabilities``) beside ``label``."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    features, target = _iris()
    array = features.to_numpy(dtype=np.float32)
    clf = LogisticRegression(max_iter=300).fit(array, target)
    proto = to_onnx(clf, array[:1], options={"zipmap": False}, target_opset=17)
    version = shipyard.save_model(
        proto, "iris-onnx", sample_input=array[:3], settings=spark_settings
    )
    names = ["f0", "f1", "f2", "f3"]
    frame = _with_ids(pd.DataFrame(array, columns=names))
    return Registered(f"iris-onnx:{version.version}", spark_settings, frame, names)


def model_folder(ref: str, settings: Settings) -> Path:
    from shipyard.registry import Registry

    with Registry.from_settings(settings) as registry:
        return registry.fetch(registry.get(ref).ref)
