from __future__ import annotations

import platform
from pathlib import Path

import pytest
import sklearn
import xgboost

from shipyard.errors import PackagingError
from shipyard.models.requirements import (
    capture_requirements,
    imported_distributions,
    parse_requirements,
)
from tests.models.conftest import Package, WriteModule


def test_capture_pins_installed_versions_and_python() -> None:
    captured = capture_requirements(["scikit-learn", "not-a-real-distribution-xyz"])
    assert captured.to_lines() == [f"scikit-learn=={sklearn.__version__}"]
    assert captured.python_version == platform.python_version()
    assert not captured.overridden


def test_user_module_imports_map_to_distributions_skipping_stdlib_and_shipyard(
    write_module: WriteModule,
) -> None:
    module = write_module(
        "feature_code",
        """
        import json
        import os.path
        from xgboost import XGBClassifier
        import sklearn.linear_model
        from shipyard.models.custom import PythonModel
        """,
    )
    assert imported_distributions([module]) == ("scikit-learn", "xgboost")


def test_user_module_in_a_declared_non_utf8_encoding_is_read(write_module: WriteModule) -> None:
    module = write_module("latin_code", "import xgboost\n")
    assert module.__file__ is not None
    Path(module.__file__).write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\nimport xgboost\n")

    assert imported_distributions([module]) == ("xgboost",)


def test_sklearn_model_pins_its_flavor_packages(package: Package, sklearn_pipeline: object) -> None:
    manifest, folder = package(sklearn_pipeline)
    lines = manifest.requirements.to_lines()
    assert f"scikit-learn=={sklearn.__version__}" in lines
    assert any(line.startswith("numpy==") for line in lines)
    assert (folder / "requirements.txt").read_text().splitlines() == lines


def test_model_module_imports_are_captured(package: Package, write_module: WriteModule) -> None:
    module = write_module(
        "scorer_code",
        """
        import xgboost

        def score(batch):
            return batch.sum(axis=1)
        """,
    )
    manifest, _ = package(module.score)
    assert f"xgboost=={xgboost.__version__}" in manifest.requirements.to_lines()


def test_override_list_replaces_captured_requirements(
    package: Package, sklearn_pipeline: object
) -> None:
    manifest, folder = package(sklearn_pipeline, requirements=["scikit-learn==1.5.2", "numpy==2.0"])
    assert manifest.requirements.overridden
    assert manifest.requirements.to_lines() == ["numpy==2.0", "scikit-learn==1.5.2"]
    assert (folder / "requirements.txt").read_text() == "numpy==2.0\nscikit-learn==1.5.2\n"


def test_override_file_skips_comments_and_keeps_extras(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("# pinned\nrequests[socks]==2.32.3  # http\n\nnumpy==2.1.0\n")
    assert parse_requirements(path).to_lines() == ["numpy==2.1.0", "requests[socks]==2.32.3"]


@pytest.mark.parametrize("line", ["numpy", "numpy>=2", "numpy==2.*", "numpy>=1,<3"])
def test_unpinned_requirement_is_refused_with_how_to_pin(line: str) -> None:
    with pytest.raises(PackagingError, match=r"not pinned.*'numpy==X\.Y\.Z'"):
        parse_requirements([line])


def test_missing_requirements_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackagingError, match=r"requirements file .* not found"):
        parse_requirements(tmp_path / "nope.txt")


def test_pipeline_wrapping_xgboost_pins_xgboost(package: Package) -> None:
    import numpy as np
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    features = np.random.default_rng(1).random((30, 2))
    model = Pipeline(
        [("scale", StandardScaler()), ("boost", xgboost.XGBClassifier(n_estimators=2))]
    ).fit(features, features[:, 0] > 0.5)
    manifest, _ = package(model)
    lines = manifest.requirements.to_lines()
    assert f"xgboost=={xgboost.__version__}" in lines
    assert f"scikit-learn=={sklearn.__version__}" in lines
    assert "xgboost" in manifest.flavor_options["imports"]


def test_pipeline_wrapping_lightgbm_pins_lightgbm(package: Package) -> None:
    import lightgbm
    import numpy as np
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    features = np.random.default_rng(1).random((30, 2))
    booster = lightgbm.LGBMClassifier(n_estimators=2, verbose=-1)
    model = Pipeline([("scale", StandardScaler()), ("boost", booster)]).fit(
        features, features[:, 0] > 0.5
    )
    manifest, _ = package(model)
    assert f"lightgbm=={lightgbm.__version__}" in manifest.requirements.to_lines()


def test_python_model_holding_a_booster_pins_its_library(package: Package) -> None:
    import numpy as np

    booster = xgboost.XGBRegressor(n_estimators=2).fit(np.eye(3), [0.0, 1.0, 2.0])

    class Holder:
        def __init__(self) -> None:
            self.booster = booster

        def predict(self, batch: np.ndarray) -> np.ndarray:
            return np.asarray(self.booster.predict(batch))

    manifest, _ = package(Holder())
    assert manifest.flavor == "python"
    assert f"xgboost=={xgboost.__version__}" in manifest.requirements.to_lines()


def test_extra_requirements_add_to_the_inferred_pins(
    package: Package, sklearn_pipeline: object
) -> None:
    import packaging

    manifest, _ = package(sklearn_pipeline, extra_requirements=["packaging", "xgboost==2.0.3"])
    lines = manifest.requirements.to_lines()
    assert f"packaging=={packaging.__version__}" in lines
    assert "xgboost==2.0.3" in lines
    assert f"scikit-learn=={sklearn.__version__}" in lines
    assert not manifest.requirements.overridden


def test_extra_requirements_also_add_to_an_override(
    package: Package, sklearn_pipeline: object
) -> None:
    manifest, _ = package(
        sklearn_pipeline, requirements=["scikit-learn==1.5.2"], extra_requirements=["numpy==2.0"]
    )
    assert manifest.requirements.to_lines() == ["numpy==2.0", "scikit-learn==1.5.2"]


def test_extra_requirement_not_installed_and_unpinned_is_refused(
    package: Package, sklearn_pipeline: object
) -> None:
    with pytest.raises(PackagingError, match="not installed here"):
        package(sklearn_pipeline, extra_requirements=["not-a-real-distribution-xyz"])
