"""Exported manifests: Jobs (and ConfigMaps) validate offline against the official Kubernetes
schemas of several minor versions (kubernetes-validate, strict). Argo's Workflow is a CRD with no
schema kubernetes-validate knows, so its shape is checked by ``check_workflow`` instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from kubernetes_validate.utils import validate

from shipyard.errors import PipelineDefinitionError
from shipyard.pipelines.export import ExportOptions, check_workflow, export_pipeline
from shipyard.pipelines.loader import load_pipeline
from shipyard.pipelines.task import Task
from tests.pipelines.conftest import Workspace

VERSIONS = ("1.30.0", "1.33.0", "1.35.0", "1.37.0")
OPTIONS = ExportOptions(image_registry="registry.example:5000/ml", namespace="ml")


def _documents(files: tuple[Path, ...]) -> list[dict[str, object]]:
    return [d for f in files for d in yaml.safe_load_all(f.read_text())]


@pytest.mark.parametrize("version", VERSIONS)
def test_exported_jobs_validate_against_kubernetes_schemas(
    workspace: Workspace, tmp_path: Path, version: str
) -> None:
    exported = export_pipeline(
        load_pipeline(workspace.file), "kubernetes", tmp_path / "k8s", OPTIONS
    )
    documents = _documents(exported.files)
    kinds = [d["kind"] for d in documents]
    assert kinds == ["ConfigMap", "ConfigMap", "Job", "Job", "Job", "Job", "Job"]
    for document in documents:
        validate(document, version, strict=True)


def test_jobs_are_ordered_non_root_and_carry_resources(
    workspace: Workspace, tmp_path: Path
) -> None:
    exported = export_pipeline(
        load_pipeline(workspace.file), "kubernetes", tmp_path / "k8s", OPTIONS
    )
    names = [f.name for f in exported.files]
    assert names == [
        "00-configmaps.yaml",
        "01-ingest.yaml",
        "02-prepare.yaml",
        "03-train.yaml",
        "04-evaluate.yaml",
        "05-register.yaml",
    ]
    docs = _documents(exported.files)
    train = docs[4]
    pod = train["spec"]["template"]["spec"]  # type: ignore[index]
    assert pod["securityContext"]["runAsNonRoot"] is True
    container = pod["containers"][0]
    assert container["resources"]["limits"] == {"cpu": "1000m", "memory": "1Gi"}
    assert train["spec"]["backoffLimit"] == 1  # type: ignore[index]
    assert train["metadata"]["annotations"]["shipyard.io/after"] == "prepare"  # type: ignore[index]
    assert container["image"].startswith("registry.example:5000/ml/shipyard-steps:")
    tasks = docs[1]["data"]  # type: ignore[index]
    task = Task.from_json(tasks["train.json"])
    assert [(i.name, i.path) for i in task.inputs] == [("data", "../prepare/out/train")]
    assert task.values == {"n_estimators": 50}
    assert json.loads(tasks["params__split_config__split.json"]) == {"test_size": 0.25, "seed": 0}
    assert "cancer.py" in docs[0]["data"]  # type: ignore[index, operator]


def test_argo_workflow_has_one_dag_task_per_step(workspace: Workspace, tmp_path: Path) -> None:
    exported = export_pipeline(load_pipeline(workspace.file), "argo", tmp_path / "argo", OPTIONS)
    documents = _documents(exported.files)
    for config_map in documents[:2]:
        validate(config_map, VERSIONS[-1], strict=True)
    workflow = documents[2]
    check_workflow(workflow)  # type: ignore[arg-type]
    templates = workflow["spec"]["templates"]  # type: ignore[index]
    dag = {t["name"]: t.get("dependencies", []) for t in templates[0]["dag"]["tasks"]}
    assert dag == {
        "ingest": [],
        "prepare": ["ingest"],
        "train": ["prepare"],
        "evaluate": ["prepare", "train"],
        "register": ["evaluate", "prepare", "train"],
    }
    train = next(t for t in templates if t["name"] == "train")
    assert train["retryStrategy"]["limit"] == "1"
    assert train["container"]["args"][0] == "/work/{{workflow.name}}/train"


def test_check_workflow_reports_broken_shapes() -> None:
    broken = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "dag": {"tasks": [{"name": "a", "template": "x"}]}}],
        },
    }
    with pytest.raises(PipelineDefinitionError, match=r"generateName.*unknown template"):
        check_workflow(broken)
