"""Package an MLflow model folder (an ``MLmodel`` file at its root) as a Shipyard model folder.

The ``mlflow`` flavor keeps the folder as it is; this records what ``MLmodel`` says: its
requirements (``requirements.txt``'s pins, without mlflow unless the model is a custom
``python_function`` that needs it to load), its signature (when it fits the input example) and
its input example as the golden sample, so that an image's smoke test covers it like any other
version.

    >>> manifest = package_mlflow_model(Path("mlruns/.../artifacts"), Path("out"),
    ...                                 source="models:/m-4f2a", run_id=None, created_by="ana")
"""

from __future__ import annotations

from pathlib import Path

from packaging.utils import canonicalize_name

from shipyard.errors import ShipyardError
from shipyard.models.manifest import MLFLOW_SOURCE_KEY, ModelManifest
from shipyard.models.mlmodel import MlflowModelFolder, read_mlmodel
from shipyard.models.packaging import package_model
from shipyard.models.signature import Signature

__all__ = ["package_mlflow_model"]

_MLFLOW_DISTRIBUTIONS = {"mlflow", "mlflow-skinny"}


def package_mlflow_model(
    folder: Path, target: Path, *, source: str, run_id: str | None, created_by: str
) -> ModelManifest:
    """Package the MLflow model in ``folder`` into the empty ``target``; its manifest."""
    mlmodel = read_mlmodel(folder)
    keep_mlflow = mlmodel.loader == "python_function"
    pins = [
        line
        for line in mlmodel.requirements
        if "==" in line
        and ";" not in line
        and (keep_mlflow or _distribution(line) not in _MLFLOW_DISTRIBUTIONS)
    ]

    def package(signature: Signature | None) -> ModelManifest:
        return package_model(
            MlflowModelFolder(folder),
            target,
            sample_input=mlmodel.input_example,
            signature=signature,
            extra_requirements=pins,
            metadata={MLFLOW_SOURCE_KEY: source},
            run_id=run_id,
            created_by=created_by,
        )

    if mlmodel.signature is not None:
        try:
            return package(mlmodel.signature)
        except ShipyardError:
            if mlmodel.input_example is None:
                raise
    return package(None)


def _distribution(line: str) -> str:
    return canonicalize_name(line.partition("==")[0].partition("[")[0].strip())
