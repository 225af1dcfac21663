"""A model in MLflow's format (``mlflow.sklearn.save_model``, the default skops serialization),
registered as a Shipyard version, builds into an image whose smoke test reproduces what
``mlflow.pyfunc.load_model`` predicts on its input example."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from shipyard.config import Settings
from shipyard.docker_engine import DockerEngine
from shipyard.image.image import remove_build
from shipyard.image.pipeline import build_image, plan_build
from shipyard.image.smoketest import run_smoke_test
from shipyard.models.golden import GoldenSample
from shipyard.models.mlflow_import import package_mlflow_model
from shipyard.registry.registry import Registry
from tests.image.conftest import unique_tag

pytestmark = [
    pytest.mark.filterwarnings("ignore:Operation with range is deprecated"),  # mlflow, pandas 3
    pytest.mark.filterwarnings("ignore:.*Any type hint is inferred:UserWarning"),
]


def test_an_mlflow_model_builds_and_passes_its_smoke_test(
    engine: DockerEngine, base_image: str, wheel_cache: Path, tmp_path: Path
) -> None:
    import mlflow.pyfunc  # here: importing it warns, which the module's filters cover
    import mlflow.sklearn

    features, target = load_iris(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(features, target)
    pins = [f"{d}=={metadata.version(d)}" for d in ("scikit-learn", "skops", "numpy")]
    mlflow.sklearn.save_model(
        model, tmp_path / "mlflow-model", input_example=features.head(5), pip_requirements=pins
    )
    expected = mlflow.pyfunc.load_model(str(tmp_path / "mlflow-model")).predict(features.head(5))

    settings = Settings.from_env({"SHIPYARD_HOME": str(tmp_path / "home"), "SHIPYARD_USER": "t"})
    manifest = package_mlflow_model(
        tmp_path / "mlflow-model", tmp_path / "packaged", source="test", run_id=None, created_by="t"
    )
    with Registry.from_settings(settings) as registry:
        version = registry.publish("iris-mlflow", tmp_path / "packaged", manifest)
        folder = registry.fetch(version.ref)
    golden = GoldenSample.read(folder)
    np.testing.assert_array_equal(next(iter(golden.outputs.values())), expected)
    assert "mlflow" not in {r.name for r in manifest.requirements.packages}

    spec = plan_build(folder, base_image=base_image, tags=(unique_tag("shipyard-test/iris"),))
    image = build_image(engine, spec, folder, cache_dir=wheel_cache)
    try:
        result = run_smoke_test(engine, image.id)
    finally:
        remove_build(engine, image, spec.tags)
    assert result.passed, result.failure_report()
