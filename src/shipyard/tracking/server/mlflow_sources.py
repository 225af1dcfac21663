"""An MLflow ``create_model_version`` source made into a Shipyard version.

The mlflow client names the model's files by a URI on this server: ``models:/<model_id>`` (an
MLflow 3 logged model), ``runs:/<run_id>/<path>`` or ``mlflow-artifacts:/<path>``. Their files are
copied out of the tracking artifact store into a scratch folder, scanned like an imported archive
(``registry/scan.py``: a pickle that would run code is refused before anything loads it), and
packaged through the ``mlflow`` flavor: the folder is kept as it is, its requirements, signature and
input example (the golden sample) are recorded, and the model is loaded once to check that it
predicts. A source anywhere else (``s3://``, a local path) is refused: the server reads only what
it stores. MLflow's prompt versions (``create_prompt_version``: the placeholder source
``prompt-template``, the template in the version's tags) become versions of the ``prompt`` flavor.

    >>> version = register_source(tracker, registry, "churn", "models:/m-4f2a", run_id=None)
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from shipyard.errors import InvalidInputError, NotFoundError, ShipyardError
from shipyard.models.manifest import MLFLOW_SOURCE_KEY
from shipyard.models.mlflow_import import package_mlflow_model
from shipyard.models.packaging import package_model
from shipyard.models.prompt import PROMPT_SOURCES, PromptTemplate, prompt_from_tags
from shipyard.registry.entities import ModelVersion
from shipyard.registry.registry import Registry
from shipyard.registry.scan import scan_folder
from shipyard.tracking.artifacts import artifact_root, check_artifact_path, store_path
from shipyard.tracking.tracker import Tracker

__all__ = ["register_source", "source_location"]


def source_location(tracker: Tracker, source: str) -> tuple[str, str | None]:
    """The artifact-store folder ``source`` names, and the run it belongs to (if known)."""
    if source.startswith("models:/"):
        model_id = source.removeprefix("models:/").strip("/")
        if not model_id or "/" in model_id:
            raise InvalidInputError(
                f"source {source!r} is not a logged model: use models:/<model_id>"
            )
        logged = tracker.store.get_logged_model(model_id)
        location, _ = source_location(tracker, logged.artifact_location)
        return location, logged.source_run_id
    if source.startswith("runs:/"):
        run_id, _, path = source.removeprefix("runs:/").partition("/")
        run = tracker.store.get_run(run_id)
        return posixpath.join(artifact_root(run.info), check_artifact_path(path)), run_id
    stored = store_path(source)
    if stored is not None:
        return stored, None
    raise InvalidInputError(
        f"source {source!r} is not stored on this server: register a model logged here "
        "(models:/<model_id>, runs:/<run_id>/<path> or mlflow-artifacts:/<path>)"
    )


def register_source(
    tracker: Tracker,
    registry: Registry,
    name: str,
    source: str,
    *,
    run_id: str | None,
    tags: Mapping[str, str] | None = None,
) -> ModelVersion:
    """Package the MLflow model at ``source`` and publish it as the next version of ``name``;
    an MLflow prompt version (a placeholder source, the template in its tags) is packaged in the
    ``prompt`` flavor."""
    prompt = prompt_from_tags(tags or {}) if source in PROMPT_SOURCES else None
    if prompt is not None:
        return _register_prompt(registry, name, prompt, source, run_id, dict(tags or {}))
    location, source_run = source_location(tracker, source)
    run_id = run_id or source_run
    with registry.scratch_folder(f"mlflow-{name}-") as scratch:
        folder = _download(tracker, location, scratch / "source")
        scan_folder(folder, what=f"the MLflow model at {source}")
        try:
            manifest = package_mlflow_model(
                folder, scratch / "model", source=source, run_id=run_id, created_by=registry.user
            )
            version = registry.publish(name, scratch / "model", manifest, dict(tags or {}))
        except InvalidInputError:
            raise
        except ShipyardError as exc:
            raise InvalidInputError(f"cannot register {source}: {exc}") from exc
    if run_id is not None:
        try:
            tracker.store.link_model(run_id, name, version.version, None)
        except NotFoundError:
            pass  # a run of another server: the version keeps the id in its lineage
    return version


def _register_prompt(
    registry: Registry,
    name: str,
    prompt: PromptTemplate,
    source: str,
    run_id: str | None,
    tags: dict[str, str],
) -> ModelVersion:
    """The prompt as the next version of ``name``; its golden sample fills each variable with
    its own name, so an image's smoke test checks the rendering."""
    sample = pd.DataFrame([{v: f"<{v}>" for v in prompt.variables}]) if prompt.variables else None
    with registry.scratch_folder(f"prompt-{name}-") as scratch:
        manifest = package_model(
            prompt,
            scratch / "model",
            sample_input=sample,
            metadata={MLFLOW_SOURCE_KEY: source},
            run_id=run_id,
            created_by=registry.user,
        )
        return registry.publish(name, scratch / "model", manifest, tags)


def _download(tracker: Tracker, location: str, destination: Path) -> Path:
    files = tracker.store.artifact_files(location)
    if not files:
        raise NotFoundError(f"no model files are stored at {location!r}")
    for found in files:
        relative = found.path[len(location) :].lstrip("/")
        target = destination / check_artifact_path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        tracker.artifacts.blobs.get(found.sha256, target)
    return destination
