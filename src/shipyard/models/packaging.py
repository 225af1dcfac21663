"""Package a trained model into a folder: model files, code, requirements, ``shipyard.json``.

    >>> manifest = package_model(clf, Path("out/iris"), sample_input=X[:5], created_by="ana")
    >>> manifest.flavor, manifest.signature.input_kind
    ('sklearn', 'tensor')

The folder is loaded back before the manifest is final: outputs are inferred by running the loaded
model on ``sample_input``, so a folder that packages also loads and predicts. The sample and those
outputs are stored as the golden sample (``models/golden.py``) that every image checks itself with.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from packaging.utils import canonicalize_name

from shipyard.errors import PackagingError, ShipyardError
from shipyard.models.artifacts import artifact_imports, artifact_packages, save_artifacts
from shipyard.models.custom import PythonModel
from shipyard.models.flavors import detect_flavor
from shipyard.models.golden import GOLDEN_DIR, GoldenSample
from shipyard.models.lineage import capture_lineage
from shipyard.models.loading import load_folder
from shipyard.models.manifest import ModelManifest, Requirements
from shipyard.models.profile import PROFILE_FILE, profile_reference_data
from shipyard.models.refpredict import add_reference_predictions
from shipyard.models.requirements import (
    capture_requirements,
    imported_distributions,
    module_distributions,
    parse_extra_requirements,
    parse_requirements,
    write_requirements_file,
)
from shipyard.models.schema import (
    Sample,
    as_sample,
    check_sample_fits,
    coerce_signature,
    infer_input_signature,
    infer_output_specs,
)
from shipyard.models.signature import Signature
from shipyard.models.sourcecode import (
    copy_code,
    defining_modules,
    is_user_module,
    referenced_modules,
)
from shipyard.types import JSON

__all__ = ["package_model"]


def package_model(
    model: Any,
    folder: Path,
    *,
    sample_input: Any = None,
    signature: Signature | JSON | None = None,
    requirements: Sequence[str] | str | Path | None = None,
    extra_requirements: Sequence[str] | None = None,
    reference_data: Any = None,
    metadata: JSON | None = None,
    run_id: str | None = None,
    dataset_digest: str | None = None,
    code_paths: Sequence[str | Path] | None = None,
    created_by: str,
    artifacts: Mapping[str, Any] | None = None,
    flavor_options: Mapping[str, Any] | None = None,
) -> ModelManifest:
    """Write ``model`` into the empty ``folder`` and return its manifest.

    ``requirements`` replaces the inferred pins, ``extra_requirements`` adds to them.
    ``artifacts`` (``PythonModel`` only): inner models or file paths saved next to it.
    ``flavor_options``: flavor-specific settings, e.g. ``{"init_kwargs": {...}}`` for a PyTorch
    ``nn.Module``.
    """
    folder = Path(folder)
    with _fresh_folder(folder):
        metadata = _json_metadata(metadata)
        flavor = detect_flavor(model)
        sample = None if sample_input is None else as_sample(sample_input)
        explicit = None if signature is None else coerce_signature(signature)
        if explicit is not None and sample is not None:
            check_sample_fits(explicit, sample)
        if artifacts and not isinstance(model, PythonModel):
            raise PackagingError(
                "artifacts=... is for shipyard.models.custom.PythonModel subclasses"
            )

        options = dict(flavor.save(model, folder, {**metadata, **(flavor_options or {})}))
        packages = list(flavor.packages(model))
        imported = [str(m) for m in options.get("imports") or ()]
        if artifacts:
            options["artifacts"] = save_artifacts(folder, artifacts)
            packages.extend(artifact_packages(artifacts))
            imported.extend(artifact_imports(options["artifacts"]))
        pickled = _user_modules(imported)  # the user's modules pickle imports by name
        code = copy_code(folder, [*referenced_modules(model), *pickled], code_paths or ())
        copied = {m.__name__.partition(".")[0] for m in pickled}  # in code/, not a requirement
        packages.extend(module_distributions(m for m in imported if m not in copied))
        defining = [m for m in defining_modules(model) if m.__name__ == "__main__"]
        defining += [m for m in defining_modules(model) if is_user_module(m)]
        packages.extend(imported_distributions([*defining, *pickled]))
        pinned = _requirements(requirements, packages, extra_requirements)
        write_requirements_file(pinned, folder)

        profile = None if reference_data is None else profile_reference_data(reference_data)
        profile_path = None if profile is None else PROFILE_FILE

        manifest = ModelManifest(
            flavor=flavor.name,
            signature=explicit,
            requirements=pinned,
            lineage=capture_lineage(
                created_by=created_by, run_id=run_id, dataset_digest=dataset_digest
            ),
            flavor_options=options,
            code_paths=code,
            profile_path=profile_path,
            metadata=metadata,
        )
        manifest.write(folder)
        if sample is not None:
            manifest = _with_golden_sample(manifest, folder, sample, explicit)
            manifest.write(folder)
        if profile is not None:
            add_reference_predictions(profile, reference_data, folder).write(folder / PROFILE_FILE)
        return manifest


def _user_modules(imported: Sequence[str]) -> list[ModuleType]:
    """The modules of the user's project among ``imported`` (they are saved in ``code/``)."""
    found = {}
    for name in imported:
        module = sys.modules.get(name)
        if module is not None and is_user_module(module):
            found[module.__name__] = module
    return list(found.values())


def _with_golden_sample(
    manifest: ModelManifest, folder: Path, sample: Sample, explicit: Signature | None
) -> ModelManifest:
    """Load the folder back, run it on the sample, record the outputs it returned (unless the
    signature names them) and store sample and outputs as the golden sample."""
    inputs = explicit if explicit is not None else infer_input_signature(sample)
    try:
        loaded = load_folder(folder)
    except ShipyardError as exc:
        raise PackagingError(f"the packaged model does not load back: {exc}") from exc
    native_input = sample
    if inputs.input_kind == "columns":
        native_input = sample[list(inputs.input_names)]
    try:
        raw = loaded.native_predict(native_input)
    except Exception as exc:
        raise PackagingError(
            f"the model raised {type(exc).__name__} on sample_input: {exc}. Check that "
            "sample_input has the layout the model was trained on"
        ) from exc
    signature = explicit
    if signature is None or not signature.outputs:
        signature = Signature(
            inputs=inputs.inputs, outputs=infer_output_specs(raw), input_kind=inputs.input_kind
        )
    manifest = replace(manifest, signature=signature)
    golden_inputs = _named_inputs(native_input, signature)
    try:
        outputs = replace(loaded, manifest=manifest).predict_named(golden_inputs)
        golden = GoldenSample(inputs=golden_inputs, outputs=outputs).write(folder)
    except (ShipyardError, ValueError, TypeError):  # e.g. outputs of Python objects: none stored
        shutil.rmtree(folder / GOLDEN_DIR, ignore_errors=True)
        return manifest
    return replace(manifest, golden_path=golden)


def _named_inputs(native_input: Sample, signature: Signature) -> dict[str, np.ndarray[Any, Any]]:
    """The sample as serving hands it to ``LoadedModel.predict``: one array per input name."""
    if isinstance(native_input, pd.DataFrame):
        return {str(c): native_input[c].to_numpy() for c in native_input.columns}
    return {signature.inputs[0].name: np.asarray(native_input)}


def _requirements(
    requirements: Sequence[str] | str | Path | None,
    packages: Sequence[str],
    extra: Sequence[str] | None,
) -> Requirements:
    """``requirements`` replaces the inferred pins; ``extra`` adds to (or re-pins) either."""
    base = parse_requirements(requirements) if requirements is not None else None
    pinned = base if base is not None else capture_requirements(packages)
    if not extra:
        return pinned
    added = parse_extra_requirements(extra)
    names = {canonicalize_name(r.name.partition("[")[0]) for r in added}
    kept = [r for r in pinned.packages if canonicalize_name(r.name.partition("[")[0]) not in names]
    return replace(pinned, packages=(*kept, *added))


@contextmanager
def _fresh_folder(folder: Path) -> Iterator[None]:
    """Create or reuse the empty ``folder``; if packaging fails, leave it as it was found."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise PackagingError(f"{folder} is not an empty folder: package a model into a new one")
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            for child in folder.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise


def _json_metadata(metadata: JSON | None) -> JSON:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise PackagingError("metadata must be a dict of JSON values")
    try:
        json.dumps(metadata)
    except (TypeError, ValueError) as exc:
        raise PackagingError(
            f"metadata must hold JSON values only (str, number, list...): {exc}"
        ) from exc
    return dict(metadata)
