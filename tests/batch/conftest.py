"""Batch fixtures: a small forest registered once per session, its data as a DataFrame with an
``id`` column, and a custom model that sleeps or fails on demand (for interrupted runs)."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import shipyard
from shipyard.config import Settings
from shipyard.registry import Registry

STEPPER = '''
import os
import time
from pathlib import Path

import numpy as np
from shipyard.models.custom import PythonModel


class Stepper(PythonModel):
    """Returns 10 * x + 1; logs the first x of each call, sleeps or fails when told to."""

    def predict(self, inputs):
        x = np.asarray(inputs["x"], dtype=float)
        log = os.environ.get("STEPPER_LOG")
        if log:
            with open(log, "a") as stream:
                stream.write(f"{int(x[0])}\\n")
        time.sleep(float(os.environ.get("STEPPER_SLEEP", "0")))
        fail_once = os.environ.get("STEPPER_FAIL_ONCE_AT")
        if fail_once and Path(fail_once + ".armed").exists():
            at = float(Path(fail_once + ".armed").read_text())
            if (x == at).any():
                if not os.environ.get("STEPPER_FAIL_ALWAYS"):
                    Path(fail_once + ".armed").unlink()
                raise RuntimeError(f"injected failure at x={at}")
        return 10 * x + 1
'''


@dataclass(frozen=True)
class Forest:
    """A registered forest, the frame it scores (features + ``id``) and the expected labels."""

    ref: str
    env: dict[str, str]
    frame: pd.DataFrame
    features: list[str]
    expected: np.ndarray[Any, Any]


@pytest.fixture(scope="session")
def batch_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("batch-home")
    return {"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "tester"}


@pytest.fixture(scope="session")
def forest(batch_home: dict[str, str]) -> Forest:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    features, target = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0)
    model.fit(features, target)
    settings = Settings.from_env(batch_home)
    version = shipyard.save_model(model, "cancer", sample_input=features[:5], settings=settings)
    frame = features.copy()
    frame.insert(0, "id", np.arange(1000, 1000 + len(frame)))
    return Forest(
        ref=f"cancer:{version.version}",
        env=batch_home,
        frame=frame,
        features=list(features.columns),
        expected=model.predict(features),
    )


@pytest.fixture(scope="session")
def stepper(batch_home: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    """The ``Stepper`` custom model registered (its module saved with it); its reference."""
    code = tmp_path_factory.mktemp("stepper-code")
    (code / "stepper_model.py").write_text(textwrap.dedent(STEPPER))
    sys.path.insert(0, str(code))
    try:
        module = importlib.import_module("stepper_model")
        sample = pd.DataFrame({"x": np.arange(3, dtype=float)})
        version = shipyard.save_model(
            module.Stepper(), "stepper", sample_input=sample, settings=Settings.from_env(batch_home)
        )
    finally:
        sys.path.remove(str(code))
        sys.modules.pop("stepper_model", None)
    return f"stepper:{version.version}"


@pytest.fixture
def batch_env(
    batch_home: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The session's registry in the environment (and no leftover S3 settings)."""
    for key in ("SHIPYARD_DB_URL", "SHIPYARD_ARTIFACT_URL", "SHIPYARD_S3_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in batch_home.items():
        monkeypatch.setenv(key, value)
    yield dict(batch_home)


@pytest.fixture
def batch_settings(batch_env: dict[str, str]) -> Settings:
    return Settings.from_env(batch_env)


def model_folder(ref: str, env: dict[str, str]) -> Path:
    with Registry.from_settings(Settings.from_env(env)) as registry:
        return registry.fetch(registry.get(ref).ref)
