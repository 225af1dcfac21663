"""Export a pipeline for Kubernetes: one Job per step (applied in dependency order by a driver)
or one Argo Workflow (a DAG template). Plain dicts rendered to YAML (the render is pure).

Every step runs the same worker as on the laptop, in its environment's step image:

    /work                   the PersistentVolumeClaim ``claim``; a run's folders under /work/RUN
    /opt/shipyard/code      ConfigMap ``<pipeline>-code``: the pipeline file and its local modules
    /opt/shipyard/tasks     ConfigMap ``<pipeline>-tasks``: one task.json per step, file params

A step reads its inputs from the folders of the steps before it on the claim. The exported
manifests do not consult the cache (the cluster has no access to the laptop's cache index): every
step runs. The ``register`` step reads registry settings from the optional Secret
``shipyard-registry`` (SHIPYARD_DB_URL, SHIPYARD_ARTIFACT_URL, ...).

    >>> export_pipeline(loaded, "argo", Path("deploy"), ExportOptions(image_registry="reg:5000"))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from shipyard.contract import IMAGE_UID
from shipyard.errors import ConfigError, PipelineDefinitionError
from shipyard.pipelines.codedigest import local_files
from shipyard.pipelines.executors.base import requirements_of
from shipyard.pipelines.executors.stepimage import CODE_DIR, WORK_DIR, plan_step_image
from shipyard.pipelines.graph import Node, PipelineGraph
from shipyard.pipelines.loader import LoadedPipeline
from shipyard.pipelines.params import resolve_params
from shipyard.pipelines.task import Task, TaskInput, TaskOutput

__all__ = [
    "ExportOptions",
    "Exported",
    "StepManifest",
    "check_workflow",
    "export_pipeline",
    "plan_export",
    "render_jobs",
    "render_workflow",
]

TASKS_DIR = "/opt/shipyard/tasks"
REGISTRY_SECRET = "shipyard-registry"  # noqa: S105 - a Secret's name, not a secret
_DNS = re.compile(r"[^a-z0-9-]+")


def dns_name(*parts: str) -> str:
    """A DNS-1123 label from ``parts``: lowercase, ``-`` for anything else, at most 63."""
    name = _DNS.sub("-", "-".join(parts).lower()).strip("-")
    return name[:63].rstrip("-")


def config_key(path: str) -> str:
    """A ConfigMap key for a relative path (keys allow ``[-._a-zA-Z0-9]``)."""
    return re.sub(r"[^-._a-zA-Z0-9]", "_", path.replace("/", "__"))


@dataclass(frozen=True, slots=True)
class ExportOptions:
    image_registry: str = ""
    claim: str = "shipyard-artifacts"
    namespace: str = "default"
    base_image: str | None = None
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class StepManifest:
    """What the render needs of one step."""

    node: str
    name: str
    image: str
    upstream: tuple[str, ...]
    retries: int
    timeout_s: float | None
    cpu: float | None
    memory: str | None
    env: dict[str, str]
    registry_access: bool


@dataclass(frozen=True, slots=True)
class ExportPlan:
    pipeline: str
    namespace: str
    claim: str
    run_id: str
    steps: tuple[StepManifest, ...]
    code: dict[str, str]
    tasks: dict[str, str]
    images: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Exported:
    files: tuple[Path, ...]
    images: list[str]


def _task(node: Node, graph: PipelineGraph, source: str, values: dict[str, Any]) -> Task:
    inputs: list[TaskInput] = []
    task_values: dict[str, Any] = {}
    for name, binding in node.bindings.items():
        if binding.source_type == "output":
            kind = graph.output_spec(binding.source, binding.output).kind
            inputs.append(TaskInput(name, kind, f"../{binding.source}/out/{binding.output}"))
        elif binding.source_type == "param":
            parameter = graph.parameters[binding.source]
            if parameter.is_path:
                inputs.append(
                    TaskInput(name, parameter.kind, f"{TASKS_DIR}/params/{binding.source}")
                )
            else:
                task_values[name] = values[binding.source]
        else:
            task_values[name] = binding.value
    outputs = tuple(TaskOutput(o.name, o.kind) for o in node.step.outputs)
    return Task(source, graph.name, node.id, tuple(inputs), task_values, outputs)


def plan_export(loaded: LoadedPipeline, options: ExportOptions) -> ExportPlan:
    """Everything the manifests say, computed from the pipeline (reads its files)."""
    graph = loaded.pipeline.graph()
    project = loaded.project
    values = resolve_params(graph.parameters, {}, project)
    code = {loaded.file.relative_to(project).as_posix(): loaded.file.read_text()}
    tasks: dict[str, str] = {}
    for name, parameter in graph.parameters.items():
        if parameter.kind == "folder":
            raise PipelineDefinitionError(
                f"parameter {name!r} is a folder: an export carries files only; put the "
                "folder on the claim and read it from a step"
            )
        if parameter.kind == "file":
            path = Path(values[name])
            tasks[f"params/{name}/{path.name}"] = path.read_text()
    images: dict[tuple[str, ...], str] = {}
    steps = []
    source = f"{CODE_DIR}/{loaded.file.relative_to(project).as_posix()}"
    prefix = options.image_registry.rstrip("/")
    for node_id in graph.order():
        node = graph.nodes[node_id]
        _, files = local_files(node.step.func, project)
        for file in files:
            code[file.relative_to(project.resolve()).as_posix()] = file.read_text()
        needed = requirements_of(node, loaded.pipeline.requirements)
        if needed not in images:
            tag = plan_step_image(needed, base_image=options.base_image).tag
            images[needed] = f"{prefix}/{tag}" if prefix else tag
        tasks[f"{node_id}.json"] = _task(node, graph, source, values).to_json()
        resources = node.step.resources
        steps.append(
            StepManifest(
                node=node_id,
                name=dns_name(graph.name, node_id),
                image=images[needed],
                upstream=tuple(sorted(node.upstream())),
                retries=resources.retries,
                timeout_s=resources.timeout_s,
                cpu=resources.cpu,
                memory=resources.memory,
                env=dict(node.step.env),
                registry_access=node.step.runs_on == "driver",
            )
        )
    run_id = options.run_id or f"export-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    return ExportPlan(
        pipeline=graph.name,
        namespace=options.namespace,
        claim=options.claim,
        run_id=run_id,
        steps=tuple(steps),
        code=code,
        tasks=tasks,
        images=tuple(dict.fromkeys(images.values())),
    )


def _config_map(plan: ExportPlan, suffix: str, files: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": dns_name(plan.pipeline, suffix),
            "namespace": plan.namespace,
            "labels": {"app.kubernetes.io/managed-by": "shipyard"},
        },
        "data": {config_key(path): text for path, text in sorted(files.items())},
    }


def _volumes(plan: ExportPlan) -> list[dict[str, Any]]:
    def items(files: dict[str, str]) -> list[dict[str, str]]:
        return [{"key": config_key(p), "path": p} for p in sorted(files)]

    return [
        {"name": "work", "persistentVolumeClaim": {"claimName": plan.claim}},
        {
            "name": "code",
            "configMap": {"name": dns_name(plan.pipeline, "code"), "items": items(plan.code)},
        },
        {
            "name": "tasks",
            "configMap": {"name": dns_name(plan.pipeline, "tasks"), "items": items(plan.tasks)},
        },
    ]


def _container(plan: ExportPlan, step: StepManifest, run: str) -> dict[str, Any]:
    env = [{"name": "SHIPYARD_PIPELINE_NAME", "value": plan.pipeline}]
    env += [{"name": "SHIPYARD_PIPELINE_RUN_ID", "value": run}]
    env += [{"name": k, "value": v} for k, v in sorted(step.env.items())]
    container: dict[str, Any] = {
        "name": "step",
        "image": step.image,
        "imagePullPolicy": "IfNotPresent",
        "args": [f"{WORK_DIR}/{run}/{step.node}", f"{TASKS_DIR}/{step.node}.json"],
        "env": env,
        "volumeMounts": [
            {"name": "work", "mountPath": WORK_DIR},
            {"name": "code", "mountPath": CODE_DIR, "readOnly": True},
            {"name": "tasks", "mountPath": TASKS_DIR, "readOnly": True},
        ],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    limits: dict[str, str] = {}
    if step.cpu is not None:
        limits["cpu"] = f"{int(step.cpu * 1000)}m"
    if step.memory is not None:
        limits["memory"] = step.memory
    if limits:
        container["resources"] = {"requests": dict(limits), "limits": limits}
    if step.registry_access:
        container["envFrom"] = [{"secretRef": {"name": REGISTRY_SECRET, "optional": True}}]
    return container


_POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": IMAGE_UID,
    "runAsGroup": IMAGE_UID,
    "fsGroup": IMAGE_UID,
}


def render_jobs(plan: ExportPlan) -> list[dict[str, Any]]:
    """The ConfigMaps, then one ``batch/v1`` Job per step in dependency order."""
    documents = [_config_map(plan, "code", plan.code), _config_map(plan, "tasks", plan.tasks)]
    for index, step in enumerate(plan.steps):
        spec: dict[str, Any] = {
            "backoffLimit": step.retries,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": {"shipyard.io/pipeline": plan.pipeline}},
                "spec": {
                    "restartPolicy": "Never",
                    "securityContext": dict(_POD_SECURITY),
                    "containers": [_container(plan, step, plan.run_id)],
                    "volumes": _volumes(plan),
                },
            },
        }
        if step.timeout_s is not None:
            spec["activeDeadlineSeconds"] = int(step.timeout_s * (step.retries + 1))
        documents.append(
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {
                    "name": dns_name(plan.pipeline, plan.run_id[-15:], step.node),
                    "namespace": plan.namespace,
                    "labels": {
                        "app.kubernetes.io/managed-by": "shipyard",
                        "shipyard.io/pipeline": plan.pipeline,
                        "shipyard.io/step": dns_name(step.node),
                    },
                    "annotations": {
                        "shipyard.io/order": str(index),
                        "shipyard.io/after": ",".join(step.upstream),
                        "shipyard.io/run": plan.run_id,
                    },
                },
                "spec": spec,
            }
        )
    return documents


def render_workflow(plan: ExportPlan) -> list[dict[str, Any]]:
    """The ConfigMaps and one Argo ``Workflow`` whose DAG has one task per step."""
    run = "{{workflow.name}}"
    templates: list[dict[str, Any]] = [
        {
            "name": "main",
            "dag": {
                "tasks": [
                    {
                        "name": dns_name(s.node),
                        "template": dns_name(s.node),
                        **(
                            {"dependencies": [dns_name(u) for u in s.upstream]}
                            if s.upstream
                            else {}
                        ),
                    }
                    for s in plan.steps
                ]
            },
        }
    ]
    for step in plan.steps:
        template: dict[str, Any] = {
            "name": dns_name(step.node),
            "container": _container(plan, step, run),
        }
        if step.retries:
            template["retryStrategy"] = {"limit": str(step.retries), "retryPolicy": "Always"}
        if step.timeout_s is not None:
            template["activeDeadlineSeconds"] = int(step.timeout_s)
        templates.append(template)
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": f"{dns_name(plan.pipeline)}-",
            "namespace": plan.namespace,
            "labels": {"app.kubernetes.io/managed-by": "shipyard"},
        },
        "spec": {
            "entrypoint": "main",
            "securityContext": dict(_POD_SECURITY),
            "volumes": _volumes(plan),
            "templates": templates,
        },
    }
    check_workflow(workflow)
    return [_config_map(plan, "code", plan.code), _config_map(plan, "tasks", plan.tasks), workflow]


def check_workflow(workflow: dict[str, Any]) -> None:
    """Check an Argo Workflow's shape (no published schema validates the CRD offline): kind,
    entrypoint, unique template names, DAG tasks naming known templates and known tasks."""
    problems: list[str] = []
    if workflow.get("apiVersion") != "argoproj.io/v1alpha1" or workflow.get("kind") != "Workflow":
        problems.append("apiVersion/kind must be argoproj.io/v1alpha1 Workflow")
    meta = workflow.get("metadata") or {}
    if not (meta.get("name") or meta.get("generateName")):
        problems.append("metadata needs name or generateName")
    spec = workflow.get("spec") or {}
    templates = spec.get("templates") or []
    names = [t.get("name") for t in templates]
    if len(set(names)) != len(names):
        problems.append(f"template names repeat: {names}")
    if spec.get("entrypoint") not in names:
        problems.append(f"entrypoint {spec.get('entrypoint')!r} is not a template")
    for template in templates:
        bodies = [k for k in ("container", "dag", "steps", "script", "resource") if k in template]
        if len(bodies) != 1:
            problems.append(f"template {template.get('name')!r} needs exactly one body")
        if "container" in template and not template["container"].get("image"):
            problems.append(f"template {template.get('name')!r} has no image")
        tasks = (template.get("dag") or {}).get("tasks") or []
        task_names = {t.get("name") for t in tasks}
        for task in tasks:
            if task.get("template") not in names:
                problems.append(f"task {task.get('name')!r} names unknown template")
            for dep in task.get("dependencies") or ():
                if dep not in task_names:
                    problems.append(f"task {task.get('name')!r} depends on unknown {dep!r}")
    if problems:
        raise PipelineDefinitionError("invalid Argo Workflow: " + "; ".join(problems))


def _write(documents: Sequence[dict[str, Any]], path: Path) -> Path:
    import yaml

    path.write_text(yaml.safe_dump_all(documents, sort_keys=False, default_flow_style=False))
    return path


def export_pipeline(
    loaded: LoadedPipeline,
    kind: Literal["kubernetes", "argo"],
    dest: Path,
    options: ExportOptions | None = None,
) -> Exported:
    """Write the manifests into ``dest`` (created; files it holds are replaced)."""
    plan = plan_export(loaded, options or ExportOptions())
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {dest}: {exc}") from exc
    files: list[Path] = []
    if kind == "argo":
        files.append(_write(render_workflow(plan), dest / f"{plan.pipeline}-workflow.yaml"))
    else:
        documents = render_jobs(plan)
        files.append(_write(documents[:2], dest / "00-configmaps.yaml"))
        for index, job in enumerate(documents[2:], start=1):
            node = job["metadata"]["labels"]["shipyard.io/step"]
            files.append(_write([job], dest / f"{index:02d}-{node}.yaml"))
    return Exported(tuple(files), list(plan.images))
