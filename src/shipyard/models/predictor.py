"""``LoadedModel``: a packaged model in memory, whatever its flavor.

``predict(X)`` returns what the native model returns, as ``mlflow.pyfunc`` does: ``X`` is a
DataFrame (``columns`` signature), an array (``tensor``), or a mapping of input name to array.
``predict_named(inputs)`` is what serving and batching use: outputs as a dict of output name to
array (first dimension the batch), and the model's exceptions as ``PredictionError`` (or
``InputRejectedError`` when the model's own input checks refused the input).

    >>> model = shipyard.load_model("iris@production")
    >>> model.predict(frame.head(2))
    array([0, 0])
    >>> model.predict_named({"sepal_length": np.array([5.1]), ...})
    {'predictions': array([0])}
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from shipyard.errors import InputRejectedError, InvalidInputError, PredictionError
from shipyard.models.manifest import ModelManifest
from shipyard.models.rejection import is_input_rejection
from shipyard.models.signature import Signature

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LoadedModel", "NativePredict", "is_dataframe", "to_output_dict"]

NativePredict = Callable[[Any], Any]
"""A flavor's predict: takes a DataFrame (columns) or ndarray (tensor), returns array-likes."""


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A model ready to predict, with the manifest it was saved with."""

    manifest: ModelManifest
    native: Any
    native_predict: NativePredict

    @property
    def signature(self) -> Signature | None:
        return self.manifest.signature

    def predict(self, inputs: Mapping[str, np.ndarray] | pd.DataFrame | np.ndarray) -> Any:
        """Run the model on a batch and return exactly what the native model returns.

        Raises ``InvalidInputError`` when a mapping lacks one of the signature's inputs; the
        model's own exceptions propagate unchanged.
        """
        return self.native_predict(self.to_native_input(inputs))

    def predict_named(
        self, inputs: Mapping[str, np.ndarray] | pd.DataFrame | np.ndarray
    ) -> dict[str, np.ndarray]:
        """Run the model on a batch and return its outputs by name (what serving sends).

        Raises ``InvalidInputError`` when the inputs do not fit the signature's names,
        ``InputRejectedError`` when the model's own input checks refuse them and
        ``PredictionError`` when the model fails otherwise.
        """
        native_input = self.to_native_input(inputs)
        try:
            raw = self.native_predict(native_input)
        except Exception as exc:
            if is_input_rejection(exc):
                raise InputRejectedError(
                    f"the model rejected the input ({type(exc).__name__}): {exc}"
                ) from exc
            raise PredictionError(f"model raised {type(exc).__name__}: {exc}") from exc
        output_names = self.signature.output_names if self.signature else ()
        return to_output_dict(raw, output_names)

    def to_native_input(
        self, inputs: Mapping[str, np.ndarray] | pd.DataFrame | np.ndarray
    ) -> pd.DataFrame | np.ndarray:
        """Build the flavor's input: a DataFrame for columns, an array for tensor."""
        signature = self.signature
        if isinstance(inputs, np.ndarray) or is_dataframe(inputs):
            return inputs  # type: ignore[return-value]
        inputs = cast("Mapping[str, np.ndarray]", inputs)
        if signature is None:
            if len(inputs) == 1:
                return np.asarray(next(iter(inputs.values())))
            return _frame({k: np.asarray(v) for k, v in inputs.items()})
        missing = [name for name in signature.input_names if name not in inputs]
        if missing:
            raise InvalidInputError(
                f"missing input(s) {missing}: the model expects {list(signature.input_names)}"
            )
        if signature.input_kind == "tensor":
            return np.asarray(inputs[signature.inputs[0].name])
        return _frame({name: inputs[name] for name in signature.input_names})


def _frame(columns: Mapping[str, Any]) -> pd.DataFrame:
    """A DataFrame of ``columns``; pandas is imported here, so a tensor server runs without it."""
    import pandas as pd

    return pd.DataFrame(columns, copy=False)


def is_dataframe(value: object) -> bool:
    """A pandas DataFrame (pandas is not imported for it: none exists until pandas is)."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(value, pd.DataFrame)


def to_output_dict(raw: Any, names: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Normalize what a model returned (array, list, DataFrame, dict, tuple) to named arrays."""
    if isinstance(raw, Mapping):
        return {str(k): np.asarray(v) for k, v in raw.items()}
    if isinstance(raw, np.ndarray):
        return {names[0] if len(names) == 1 else "predictions": raw}
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(raw, pd.DataFrame):
        return {str(c): raw[c].to_numpy() for c in raw.columns}
    if pd is not None and isinstance(raw, pd.Series):
        return {names[0] if names else "predictions": raw.to_numpy()}
    if isinstance(raw, tuple):
        keys = names if len(names) == len(raw) else tuple(f"output_{i}" for i in range(len(raw)))
        return {k: np.asarray(v) for k, v in zip(keys, raw, strict=True)}
    return {names[0] if len(names) == 1 else "predictions": np.asarray(raw)}
