"""``shipyard.save_model`` / ``shipyard.load_model`` end to end on the embedded registry."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import shipyard
from shipyard.config import Settings
from shipyard.errors import ConfigError, IntegrityError, InvalidNameError
from shipyard.registry import Registry
from shipyard.registry.artifacts import LocalArtifactStore

from .registry.registry_worker import save_one, worker_context


@pytest.fixture(scope="module")
def iris_data() -> tuple[pd.DataFrame, np.ndarray]:
    data = load_iris(as_frame=True)
    frame = data.frame.drop(columns="target")
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    return frame, data.target.to_numpy()


@pytest.fixture(scope="module")
def classifier(iris_data: tuple[pd.DataFrame, np.ndarray]) -> LogisticRegression:
    frame, target = iris_data
    return LogisticRegression(max_iter=300).fit(frame, target)


def test_save_then_load_predicts_like_the_original(
    settings: Settings, classifier: LogisticRegression, iris_data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, _ = iris_data

    first = shipyard.save_model(classifier, "iris", sample_input=frame[:5], settings=settings)
    second = shipyard.save_model(
        classifier,
        "iris",
        sample_input=frame[:5],
        tags={"team": "ml"},
        run_id="run-42",
        settings=settings,
    )
    loaded = shipyard.load_model("iris", settings=settings)

    assert (first.version, second.version) == (1, 2)
    assert second.tags == {"team": "ml"}
    assert second.manifest.lineage.run_id == "run-42"
    assert second.manifest.flavor == "sklearn"
    predicted = loaded.predict(frame[:10])
    assert type(predicted) is np.ndarray
    np.testing.assert_array_equal(predicted, classifier.predict(frame[:10]))
    assert list((settings.home / "tmp").iterdir()) == []


def test_load_model_predict_returns_what_the_native_model_returns(
    settings: Settings, classifier: LogisticRegression, iris_data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, _ = iris_data
    shipyard.save_model(classifier, "native", sample_input=frame[:5], settings=settings)
    loaded = shipyard.load_model("native", settings=settings)
    np.testing.assert_array_equal(loaded.predict(frame[:7]), classifier.predict(frame[:7]))
    named = loaded.predict_named(frame[:7])
    assert list(named) == ["predictions"]
    np.testing.assert_array_equal(named["predictions"], classifier.predict(frame[:7]))


def test_load_model_reads_settings_from_the_environment(
    settings: Settings, classifier: LogisticRegression, iris_data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    shipyard.save_model(classifier, "iris", sample_input=iris_data[0][:5])

    loaded = shipyard.load_model("iris:1")

    assert loaded.manifest.flavor == "sklearn"


def test_load_model_from_a_model_folder(
    settings: Settings, classifier: LogisticRegression, iris_data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    shipyard.save_model(classifier, "iris", sample_input=iris_data[0][:5], settings=settings)
    with Registry.from_settings(settings) as registry:
        folder = registry.fetch("iris:1")

    assert shipyard.load_model(folder).manifest.flavor == "sklearn"
    assert shipyard.load_model(str(folder)).manifest.flavor == "sklearn"
    (folder / "shipyard.json").write_text((folder / "shipyard.json").read_text() + " ")
    with pytest.raises(IntegrityError, match=r"shipyard\.json"):
        shipyard.load_model(folder)


def test_load_model_refuses_a_tampered_artifact_in_the_store(
    settings: Settings, classifier: LogisticRegression, iris_data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    version = shipyard.save_model(
        classifier, "iris", sample_input=iris_data[0][:5], settings=settings
    )
    model_file = next(f for f in version.files if f.path != "shipyard.json" and f.size > 200)
    with Registry.from_settings(settings) as registry:
        assert isinstance(registry.artifacts, LocalArtifactStore)
        blob = registry.artifacts.path_of(model_file.sha256)
    blob.write_bytes(blob.read_bytes()[: model_file.size // 2])

    with pytest.raises(IntegrityError, match="tampered or truncated"):
        shipyard.load_model("iris:1", settings=settings)


def test_save_model_refuses_bad_names_before_packaging(
    settings: Settings, classifier: LogisticRegression
) -> None:
    for name in ("../etc", "a/b", ".."):
        with pytest.raises(InvalidNameError):
            shipyard.save_model(classifier, name, settings=settings)
    assert not (settings.home / "tmp").exists()


def test_save_model_with_an_unusable_home_says_how_to_fix_it(
    tmp_path: Path, classifier: LogisticRegression
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    for home in (tmp_path / "a-file" / "home", tmp_path / "a-file"):
        settings = Settings.from_env({"SHIPYARD_HOME": str(home)})
        with pytest.raises(ConfigError, match="set SHIPYARD_HOME"):
            shipyard.save_model(classifier, "iris", settings=settings)


def test_public_api_is_curated_and_sorted() -> None:
    assert shipyard.__all__ == sorted(shipyard.__all__)
    for name in ("save_model", "load_model", "ModelRef", "ModelVersion", "Registry", "Settings"):
        assert hasattr(shipyard, name)


@pytest.mark.slow
def test_eight_processes_saving_the_same_model_get_versions_one_to_eight(
    settings: Settings, tmp_path: Path
) -> None:
    start = tmp_path / "start"
    context = worker_context()
    workers = [
        context.Process(
            target=save_one, args=(dict(os.environ), "iris", label, tmp_path, start), daemon=True
        )
        for label in range(8)
    ]
    for worker in workers:
        worker.start()
    try:
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"ready-{label}").exists() for label in range(8)):
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.01)
        start.touch()
        for worker in workers:
            worker.join(timeout=120)
    finally:
        for worker in workers:
            worker.kill()
            worker.join()

    assert [w.exitcode for w in workers] == [0] * 8
    results = [json.loads((tmp_path / f"result-{label}.json").read_text()) for label in range(8)]
    assert sorted(r["version"] for r in results) == list(range(1, 9))
    for result in results:
        loaded = shipyard.load_model(f"iris:{result['version']}", settings=settings)
        [predicted] = loaded.predict_named(np.array([[3.0]])).values()
        assert predicted.tolist() == [result["label"]]
