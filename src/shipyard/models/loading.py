"""Load a packaged model folder into a ``LoadedModel``.

``load_folder`` reads ``shipyard.json``, makes the folder's ``code/`` importable, loads the model
with the flavor named in the manifest and, for a ``PythonModel``, runs its ``load`` with a
``ModelContext``. It does not verify digests: the registry does before handing a folder over, and
pickle-based flavors (scikit-learn, Python) must only load verified folders.

    >>> model = load_folder(Path("/opt/shipyard/model"))
    >>> model.predict({"input": np.zeros((1, 4))})
"""

from __future__ import annotations

from pathlib import Path

from shipyard.errors import ModelLoadError, ShipyardError
from shipyard.models.artifacts import load_context
from shipyard.models.custom import PythonModel, activate
from shipyard.models.flavors import flavor_named
from shipyard.models.manifest import ModelManifest
from shipyard.models.predictor import LoadedModel
from shipyard.models.sourcecode import importable_code

__all__ = ["load_folder"]


def load_folder(folder: Path) -> LoadedModel:
    """Load the model packaged in ``folder``; ``ModelLoadError`` says what is missing or broken."""
    folder = Path(folder)
    manifest = ModelManifest.read(folder)
    flavor = flavor_named(manifest.flavor)
    with importable_code(folder, manifest.code_paths):
        try:
            native, predict = flavor.load(folder, manifest.flavor_options)
            if isinstance(native, PythonModel):
                context = load_context(folder, dict(manifest.flavor_options.get("artifacts") or {}))
                predict = activate(native, context)
        except ShipyardError:
            raise
        except Exception as exc:
            raise ModelLoadError(
                f"cannot load the {manifest.flavor} model in {folder}: {type(exc).__name__}: {exc}"
            ) from exc
    return LoadedModel(manifest=manifest, native=native, native_predict=predict)
