"""Tiny real models and data for the models/ tests, plus helpers to package and import user code."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from shipyard.models.manifest import ModelManifest
from shipyard.models.packaging import package_model

Package = Callable[..., tuple[ModelManifest, Path]]
WriteModule = Callable[[str, str], ModuleType]


@pytest.fixture(scope="session")
def iris() -> tuple[pd.DataFrame, np.ndarray]:
    """Iris features (renamed to identifiers) and labels."""
    data = load_iris(as_frame=True)
    frame = data.frame.drop(columns="target")
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    return frame, data.target.to_numpy()


@pytest.fixture(scope="session")
def iris_array(iris: tuple[pd.DataFrame, np.ndarray]) -> np.ndarray:
    return iris[0].to_numpy(dtype=np.float32)


@pytest.fixture(scope="session")
def sklearn_pipeline(iris: tuple[pd.DataFrame, np.ndarray]) -> Pipeline:
    frame, target = iris
    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=300))]).fit(
        frame, target
    )


@pytest.fixture
def package(tmp_path: Path) -> Package:
    """Package a model into a fresh folder under tmp_path; returns (manifest, folder)."""
    count = 0

    def run(model: Any, **kwargs: Any) -> tuple[ModelManifest, Path]:
        nonlocal count
        count += 1
        folder = tmp_path / f"model-{count}"
        kwargs.setdefault("created_by", "tester")
        return package_model(model, folder, **kwargs), folder

    return run


@pytest.fixture
def write_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WriteModule]:
    """Write a user module into tmp_path/project, import it, and forget it after the test."""
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.syspath_prepend(str(project))
    written: list[str] = []

    def write(name: str, source: str) -> ModuleType:
        (project / f"{name}.py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        written.append(name)
        return importlib.import_module(name)

    yield write
    for name in written:
        sys.modules.pop(name, None)


def forget_module(module: ModuleType) -> None:
    """Make ``module`` unimportable from where it was written: delete its file, drop it."""
    assert module.__file__ is not None
    Path(module.__file__).unlink()
    sys.modules.pop(module.__name__, None)
    importlib.invalidate_caches()
