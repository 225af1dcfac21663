"""The two calls most people need: ``save_model`` and ``load_model``.

>>> version = shipyard.save_model(clf, "iris", sample_input=X[:5], tags={"team": "ml"})
>>> version.version
1
>>> model = shipyard.load_model("iris:1")
>>> model.predict(X[:2])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shipyard.config import Settings
from shipyard.models.loading import load_folder
from shipyard.models.packaging import package_model
from shipyard.models.predictor import LoadedModel
from shipyard.models.signature import Signature
from shipyard.refs import ModelRef, validate_name
from shipyard.registry.entities import ModelVersion
from shipyard.registry.folder import read_verified_folder
from shipyard.registry.registry import Registry
from shipyard.registry.trust import require_trusted
from shipyard.tracking.run import ActiveRun, active_run
from shipyard.tracking.store import TrackingStore
from shipyard.types import JSON

__all__ = ["load_model", "save_model"]


def save_model(
    model: Any,
    name: str,
    *,
    sample_input: Any = None,
    signature: Signature | JSON | None = None,
    requirements: Sequence[str] | str | Path | None = None,
    extra_requirements: Sequence[str] | None = None,
    reference_data: Any = None,
    metadata: JSON | None = None,
    tags: dict[str, str] | None = None,
    run_id: str | None = None,
    dataset_digest: str | None = None,
    run: ActiveRun | str | None = None,
    code_paths: Sequence[str | Path] | None = None,
    artifacts: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
) -> ModelVersion:
    """Package ``model`` and register it as the next version of ``name``.

    The model is packaged into a scratch folder under ``SHIPYARD_HOME/tmp`` and published from
    there; the returned ``ModelVersion`` says which number it got. Requirements are inferred from
    what the model imports; ``extra_requirements`` adds to them, ``requirements`` replaces them.

    Inside ``shipyard.start_run`` (or given ``run=``, a run or a run id) the version is linked to
    the run: its lineage records the run id and the run's dataset digest, and the run lists it.
    """
    validate_name(name)
    settings = settings or Settings.from_env()
    linked = run if run is not None else (active_run() if run_id is None else None)
    if isinstance(linked, ActiveRun):
        run_id = linked.run_id
        dataset_digest = dataset_digest or linked.dataset_digest
    elif isinstance(linked, str):
        run_id = linked
        _check_run_exists(linked, settings)
    with (
        Registry.from_settings(settings) as registry,
        registry.scratch_folder(f"save-{name}-") as workdir,
    ):
        folder = workdir / "model"
        manifest = package_model(
            model,
            folder,
            sample_input=sample_input,
            signature=signature,
            requirements=requirements,
            extra_requirements=extra_requirements,
            reference_data=reference_data,
            metadata=metadata,
            run_id=run_id,
            dataset_digest=dataset_digest,
            code_paths=code_paths,
            created_by=settings.user,
            artifacts=artifacts,
        )
        version = registry.publish(name, folder, manifest, tags=tags)
    if linked is not None and run_id is not None:
        _link(run_id, version, settings)
    return version


def _check_run_exists(run_id: str, settings: Settings) -> None:
    store = TrackingStore.open(settings.registry.db_url)
    try:
        store.get_run(run_id)
    finally:
        store.close()


def _link(run_id: str, version: ModelVersion, settings: Settings) -> None:
    store = TrackingStore.open(settings.registry.db_url)
    try:
        lineage = version.manifest.lineage
        store.link_model(run_id, version.name, version.version, lineage.dataset_digest)
    finally:
        store.close()


def load_model(
    ref_or_folder: ModelRef | str | Path, settings: Settings | None = None
) -> LoadedModel:
    """Load a registered version (``"iris@production"``) or a model folder (a ``Path``).

    Either way the files are verified against their digests first: a tampered or truncated
    artifact raises ``IntegrityError`` and is never loaded. Under a trust policy
    (``SHIPYARD_TRUSTED_KEYS``) an unsigned or untrusted version raises ``TrustError``. A string
    holding a ``/`` or starting with ``.`` is taken as a folder path, anything else as a
    reference.
    """
    if isinstance(ref_or_folder, str) and _looks_like_path(ref_or_folder):
        ref_or_folder = Path(ref_or_folder).expanduser()
    settings = settings or Settings.from_env()
    if isinstance(ref_or_folder, Path):
        require_trusted(read_verified_folder(ref_or_folder), settings.trusted_keys)
        return load_folder(ref_or_folder)
    with Registry.from_settings(settings) as registry:
        version = registry.get(ref_or_folder)
        folder = registry.fetch(version.ref)
    require_trusted(version, settings.trusted_keys)
    return load_folder(folder)


def _looks_like_path(text: str) -> bool:
    return "/" in text or text.startswith((".", "~"))
