"""MLflow's model registry, through the real ``mlflow`` client, on Shipyard's registry.

The workflow of MLflow's registry docs (register, alias, search, tags, rename, delete) against
``shipyard server`` on SQLite and PostgreSQL; a version registered through MLflow is a Shipyard
version (``shipyard serve`` answers what ``mlflow.pyfunc.load_model`` predicts), and one saved
with ``shipyard.save_model`` is listed by MLflow's search.
"""

from __future__ import annotations

import tempfile
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

import shipyard
from shipyard.config import Settings
from shipyard.registry.registry import Registry
from tests.serve.servers import CliServer, wait_until_ready

from .conftest import RunningServer

pytestmark = [
    # mlflow 3.17's input-example code on pandas 3, and its advice on models without type hints
    pytest.mark.filterwarnings("ignore:Operation with range is deprecated"),
    pytest.mark.filterwarnings("ignore:.*Any type hint is inferred:UserWarning"),
]


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, RandomForestClassifier]:
    features, target = load_iris(return_X_y=True, as_frame=True)
    return features, RandomForestClassifier(n_estimators=5, random_state=0).fit(features, target)


def _log_mlflow_model(model: Any, example: pd.DataFrame) -> str:
    """Log ``model`` in MLflow's format as the artifacts ``model`` of a new run; its run id.

    ``save_model`` + ``log_artifacts`` writes the same folder ``log_model`` uploads, without
    MLflow 3's logged-model record (covered in test_mlflow3.py). The requirements are given,
    as a project would pin them: inferring them costs mlflow a subprocess and seconds."""
    mlflow.set_experiment(_unique("registry"))
    with tempfile.TemporaryDirectory() as scratch, mlflow.start_run() as run:
        folder = Path(scratch) / "model"
        pins = [f"{d}=={metadata.version(d)}" for d in ("scikit-learn", "skops", "numpy")]
        mlflow.sklearn.save_model(model, folder, input_example=example, pip_requirements=pins)
        mlflow.log_artifacts(str(folder), "model")
    return str(run.info.run_id)


def _error_code(call: Any) -> str:
    with pytest.raises(MlflowException) as caught:
        call()
    return str(caught.value.error_code)


def test_the_registry_workflow_of_mlflows_docs(
    mlflow_client: Any, server_settings: Settings, iris: tuple[pd.DataFrame, Any]
) -> None:
    features, model = iris
    name = _unique("churn")
    run_id = _log_mlflow_model(model, features.head(5))

    registered = mlflow.register_model(f"runs:/{run_id}/model", name, tags={"stage": "dev"})
    assert registered.version == "1" and registered.run_id == run_id
    assert registered.tags == {"stage": "dev"} and registered.status == "READY"
    assert _error_code(lambda: mlflow_client.create_registered_model(name)) == (
        "RESOURCE_ALREADY_EXISTS"
    )

    mlflow_client.set_registered_model_alias(name, "champion", "1")
    assert mlflow_client.get_model_version_by_alias(name, "champion").version == "1"
    mlflow_client.set_registered_model_tag(name, "team", "growth")
    mlflow_client.set_model_version_tag(name, "1", "validated", "yes")
    mlflow_client.update_registered_model(name, description="weekly churn")
    mlflow_client.update_model_version(name, "1", description="first cut")
    found = mlflow_client.search_model_versions(f"name = '{name}' and tags.validated = 'yes'")
    assert [(v.version, v.description, v.aliases) for v in found] == [
        ("1", "first cut", ["champion"])
    ]
    assert [m.name for m in mlflow_client.search_registered_models(f"name = '{name}'")] == [name]
    model_info = mlflow_client.get_registered_model(name)
    assert model_info.tags == {"team": "growth"} and model_info.description == "weekly churn"
    assert model_info.aliases == {"champion": "1"}

    # One registry: Shipyard sees the version, its alias, the MLflow tags and who moved what.
    with Registry.from_settings(server_settings) as registry:
        version = registry.get(f"{name}@champion")
        assert version.version == 1 and version.flavor == "mlflow"
        assert version.tags == {"stage": "dev", "validated": "yes"}
        assert version.manifest.lineage.run_id == run_id
        assert version.manifest.golden_path is not None  # from the input example
        assert [e.alias for e in registry.history(name)] == ["champion"]

    mlflow_client.delete_model_version_tag(name, "1", "validated")
    mlflow_client.delete_registered_model_tag(name, "team")
    # deleting a tag that is not there is no error, as in MLflow's store
    mlflow_client.delete_model_version_tag(name, "1", "validated")
    mlflow_client.delete_registered_model_tag(name, "never-set")
    mlflow_client.rename_registered_model(name, f"{name}-v2")
    assert mlflow_client.get_model_version(f"{name}-v2", "1").tags == {"stage": "dev"}
    assert _error_code(lambda: mlflow_client.get_registered_model(name)) == (
        "RESOURCE_DOES_NOT_EXIST"
    )
    mlflow_client.delete_registered_model_alias(f"{name}-v2", "champion")
    mlflow_client.delete_model_version(f"{name}-v2", "1")
    assert mlflow_client.search_model_versions(f"name = '{name}-v2'") == []
    mlflow_client.delete_registered_model(f"{name}-v2")
    assert _error_code(lambda: mlflow_client.get_registered_model(f"{name}-v2")) == (
        "RESOURCE_DOES_NOT_EXIST"
    )


def test_registered_versions_load_through_models_uris(
    mlflow_client: Any, iris: tuple[pd.DataFrame, Any]
) -> None:
    features, model = iris
    name = _unique("iris")
    run_id = _log_mlflow_model(model, features.head(5))
    mlflow.register_model(f"runs:/{run_id}/model", name)
    mlflow_client.set_registered_model_alias(name, "production", "1")
    expected = model.predict(features)
    for uri in (f"models:/{name}/1", f"models:/{name}@production"):
        loaded = mlflow.pyfunc.load_model(uri)
        np.testing.assert_array_equal(loaded.predict(features), expected)


def test_a_version_registered_through_mlflow_is_served_by_shipyard(
    mlflow_client: Any,
    server_settings: Settings,
    server_env: dict[str, str],
    iris: tuple[pd.DataFrame, Any],
    tmp_path: Path,
) -> None:
    features, model = iris
    name = _unique("served")
    run_id = _log_mlflow_model(model, features.head(5))
    mlflow.register_model(f"runs:/{run_id}/model", name)
    mlflow_client.set_registered_model_alias(name, "production", "1")
    expected = mlflow.pyfunc.load_model(f"models:/{name}@production").predict(features)
    with CliServer([f"{name}@production"], server_env, tmp_path / "serve.log") as server:
        wait_until_ready(server.url)
        rows = features.to_dict(orient="records")
        answer = httpx.post(f"{server.url}/predict", json=rows, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == expected.tolist()


def test_versions_saved_by_shipyard_are_listed(
    mlflow_client: Any, server_settings: Settings, iris: tuple[pd.DataFrame, Any]
) -> None:
    features, model = iris
    name = _unique("native")
    shipyard.save_model(model, name, sample_input=features.head(), tags={"owner": "ana"},
                        settings=server_settings)  # fmt: skip
    shipyard.save_model(model, name, sample_input=features.head(), settings=server_settings)
    with Registry.from_settings(server_settings) as registry:
        registry.set_alias(name, "production", 1)
    found = mlflow_client.search_model_versions(f"name = '{name}'")
    assert [(v.version, v.current_stage, v.aliases) for v in found] == [
        ("2", "None", []),
        ("1", "Production", ["production"]),
    ]
    assert found[1].tags == {"owner": "ana"}
    with pytest.warns(FutureWarning):  # stages are deprecated in MLflow; they still answer
        latest = mlflow_client.get_latest_versions(name, stages=["None", "Production"])
    assert sorted(v.version for v in latest) == ["1", "2"]
    page = mlflow_client.search_model_versions(f"name = '{name}'", max_results=1)
    assert len(page) == 1 and page.token
    rest = mlflow_client.search_model_versions(
        f"name = '{name}'", max_results=1, page_token=page.token
    )
    assert [v.version for v in rest] == ["1"] and not rest.token
    assert _error_code(lambda: mlflow_client.get_model_version_download_uri(name, "1")) == (
        "INVALID_PARAMETER_VALUE"
    )


def test_mlflow_prompts_are_shipyard_versions_of_the_prompt_flavor(
    mlflow_client: Any, server_settings: Settings
) -> None:
    name = _unique("prompt").replace("-", "_")
    mlflow_client.create_prompt(name, description="answers", tags={"team": "search"})
    created = mlflow_client.create_prompt_version(
        name, "Respond as a {{style}} assistant: {{query}}", tags={"author": "alice"}
    )
    chat = mlflow_client.create_prompt_version(
        name,
        [{"role": "system", "content": "You are {{style}}."}, {"role": "user", "content": "hi"}],
    )
    assert (created.version, chat.version) == (1, 2)
    mlflow_client.set_prompt_alias(name, "production", 1)
    loaded = mlflow_client.load_prompt(f"prompts:/{name}@production")
    assert loaded.format(style="terse", query="2+2?") == "Respond as a terse assistant: 2+2?"
    assert mlflow_client.load_prompt(f"prompts:/{name}/2").format(style="kind")[0] == {
        "role": "system",
        "content": "You are kind.",
    }
    assert [v.version for v in mlflow_client.search_prompt_versions(name)] == [2, 1]

    # one registry: the prompt's versions are Shipyard versions that load and render
    with Registry.from_settings(server_settings) as registry:
        version = registry.get(f"{name}@production")
        assert version.flavor == "prompt" and version.tags["author"] == "alice"
        assert version.manifest.golden_path is not None
    rendered = shipyard.load_model(f"{name}@production", settings=server_settings).predict(
        pd.DataFrame([{"style": "terse", "query": "2+2?"}])
    )
    assert list(rendered) == ["Respond as a terse assistant: 2+2?"]

    mlflow_client.set_prompt_tag(name, "environment", "dev")
    mlflow_client.delete_prompt_tag(name, "environment")
    mlflow_client.delete_prompt_tag(name, "environment")  # an absent tag: no error, as in MLflow
    assert "environment" not in mlflow_client.get_prompt(name).tags
    mlflow_client.delete_prompt_version(name, "2")
    assert mlflow_client.get_prompt_version(name, 1).template.startswith("Respond as")
    assert _error_code(lambda: mlflow_client.get_model_version(name, "2")) == (
        "RESOURCE_DOES_NOT_EXIST"
    )


def test_stages_map_onto_the_production_and_staging_aliases(
    mlflow_client: Any, server_settings: Settings, iris: tuple[pd.DataFrame, Any]
) -> None:
    features, model = iris
    name = _unique("staged")
    for _ in range(2):
        shipyard.save_model(model, name, sample_input=features.head(), settings=server_settings)
    with pytest.warns(FutureWarning):
        mlflow_client.transition_model_version_stage(name, "1", "Production")
        mlflow_client.transition_model_version_stage(name, "2", "staging")
        assert [v.version for v in mlflow_client.get_latest_versions(name, ["Production"])] == ["1"]
        mlflow_client.transition_model_version_stage(name, "2", "Production")
        mlflow_client.transition_model_version_stage(name, "1", "Archived")
    with Registry.from_settings(server_settings) as registry:
        state = {v.version: v.aliases for v in registry.list_versions(name)}
    assert state == {1: (), 2: ("production",)}
    with pytest.warns(FutureWarning):
        code = _error_code(lambda: mlflow_client.transition_model_version_stage(name, "1", "X"))
    assert code == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("registered-models/get", {"name": "no-such-model"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("model-versions/search", {"filter": "name = "}, 400, "INVALID_PARAMETER_VALUE"),
        ("model-versions/search", {"filter": "flavor = 'x'"}, 400, "INVALID_PARAMETER_VALUE"),
        ("model-versions/search", {"max_results": "0"}, 400, "INVALID_PARAMETER_VALUE"),
        ("model-versions/search", {"page_token": "%%%"}, 400, "INVALID_PARAMETER_VALUE"),
        ("registered-models/search", {"order_by": "size"}, 400, "INVALID_PARAMETER_VALUE"),
        ("model-versions/get", {"name": "x", "version": "one"}, 400, "INVALID_PARAMETER_VALUE"),
    ],
)
def test_bad_reads_get_mlflows_error_codes(
    tracking_server: RunningServer, path: str, body: dict[str, str], status: int, code: str
) -> None:
    answer = httpx.get(f"{tracking_server.url}/api/2.0/mlflow/{path}", params=body)
    assert (answer.status_code, answer.json()["error_code"]) == (status, code)


def test_a_source_the_server_does_not_store_is_refused(tracking_server: RunningServer) -> None:
    url = f"{tracking_server.url}/api/2.0/mlflow"
    name = _unique("foreign")
    assert httpx.post(f"{url}/registered-models/create", json={"name": name}).status_code == 200
    for source in ("s3://bucket/model", "/etc", "file:///etc", "runs:/0123/model"):
        answer = httpx.post(f"{url}/model-versions/create", json={"name": name, "source": source})
        assert answer.status_code in (400, 404), (source, answer.text)
        assert answer.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")


def test_log_model_with_a_registered_name_makes_a_shipyard_version(
    mlflow_client: Any, server_settings: Settings, iris: tuple[pd.DataFrame, Any]
) -> None:
    features, model = iris
    name = _unique("logged")
    mlflow.set_experiment(_unique("log-model"))
    pins = [f"{d}=={metadata.version(d)}" for d in ("scikit-learn", "skops", "numpy")]
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=features.head(3),
            pip_requirements=pins,
            registered_model_name=name,
        )
    assert str(info.registered_model_version) == "1"
    again = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)  # via its logged model
    assert again.version == "2" and again.run_id == run.info.run_id
    expected = model.predict(features)
    for uri in (f"models:/{name}/1", f"models:/{name}/2", f"models:/{info.model_id}"):
        np.testing.assert_array_equal(mlflow.pyfunc.load_model(uri).predict(features), expected)
    with Registry.from_settings(server_settings) as registry:
        versions = registry.list_versions(name)
        assert [v.manifest.lineage.run_id for v in versions] == [run.info.run_id] * 2
        assert [v.flavor for v in versions] == ["mlflow", "mlflow"]
        requirements = {r.name: r.version for r in versions[0].manifest.requirements.packages}
        assert requirements["scikit-learn"] == metadata.version("scikit-learn")
        assert "mlflow" not in requirements  # a sklearn model loads without mlflow
