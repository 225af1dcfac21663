"""The pickle walker: modules named by a pickle's opcodes and by the objects pickled into it."""

from __future__ import annotations

import pickle
from pathlib import Path

import cloudpickle  # type: ignore[import-untyped]
import lightgbm
import numpy as np
import pytest
import xgboost
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from shipyard.models.imports import pickle_modules, top_level
from shipyard.models.pickling import dump_pickle
from shipyard.models.requirements import module_distributions, third_party
from tests.models.conftest import WriteModule

X = np.random.default_rng(0).random((40, 3))
Y = (X[:, 0] > 0.5).astype(int)


def _saved(obj: object, tmp_path: Path) -> frozenset[str]:
    return top_level(dump_pickle(obj, tmp_path / "model.pkl"))


def test_nested_estimator_inside_a_pipeline_is_found(tmp_path: Path) -> None:
    inner = Pipeline([("boost", xgboost.XGBClassifier(n_estimators=2))])
    model = Pipeline([("scale", StandardScaler()), ("inner", inner)]).fit(X, Y)
    assert {"sklearn", "xgboost", "numpy"} <= _saved(model, tmp_path)


def test_estimator_inside_a_column_transformer_is_found(tmp_path: Path) -> None:
    booster = lightgbm.LGBMClassifier(n_estimators=2, verbose=-1)
    model = Pipeline(
        [("cols", ColumnTransformer([("s", StandardScaler(), [0, 1])])), ("m", booster)]
    ).fit(X, Y)
    assert {"sklearn", "lightgbm"} <= _saved(model, tmp_path)


def test_stack_global_opcodes_of_plain_pickle_are_read() -> None:
    data = pickle.dumps({"scaler": StandardScaler()}, protocol=5)
    assert "sklearn.preprocessing._data" in pickle_modules(data)


def test_protocol_0_global_opcodes_are_read() -> None:
    assert "sklearn.preprocessing._data" in pickle_modules(pickle.dumps(StandardScaler, 0))


def test_by_value_function_records_the_modules_it_uses(tmp_path: Path) -> None:
    def transform(batch: np.ndarray) -> np.ndarray:
        import scipy.special

        return np.asarray(scipy.special.expit(batch))

    found = _saved(FunctionTransformer(transform), tmp_path)
    assert {"numpy", "scipy", "sklearn", "cloudpickle"} <= found
    assert "tests" not in found  # the by-value function's own module is not imported to load it


def test_cloudpickle_subimport_names_a_module() -> None:
    def uses_numpy(batch: np.ndarray) -> np.ndarray:
        return np.log1p(batch)

    assert "numpy" in pickle_modules(cloudpickle.dumps(uses_numpy))


def test_importable_user_function_is_recorded_by_reference(
    write_module: WriteModule, tmp_path: Path
) -> None:
    module = write_module("feature_fns", "def double(x):\n    return x * 2\n")
    assert "feature_fns" in _saved(FunctionTransformer(module.double), tmp_path)


def test_stdlib_and_shipyard_are_not_third_party(tmp_path: Path) -> None:
    found = _saved({"when": __import__("datetime").date(2020, 1, 1), "p": Path("x")}, tmp_path)
    assert {"datetime", "pathlib"} <= found
    assert third_party([*found, "shipyard.models", "__main__", "builtins"]) == ()


def test_modules_map_to_distributions_with_namespace_packages_resolved() -> None:
    assert module_distributions(["sklearn.pipeline", "xgboost", "json", "shipyard"]) == (
        "scikit-learn",
        "xgboost",
    )


def test_unpicklable_model_leaves_no_file(tmp_path: Path) -> None:
    from shipyard.errors import PackagingError

    with pytest.raises(PackagingError, match="cannot pickle"):
        dump_pickle({"lock": __import__("threading").Lock()}, tmp_path / "model.pkl")
    assert not (tmp_path / "model.pkl").exists()
