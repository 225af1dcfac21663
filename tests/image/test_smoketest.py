"""Done-when tests of issue 9 against a real Docker engine: a scikit-learn Pipeline wrapping
XGBoost (and one wrapping LightGBM), saved with no ``requirements=``, builds into an image that
reproduces its golden sample exactly, in the smoke test and over HTTP; a model whose import is
missing from the image fails ``shipyard build`` within seconds, with the container's error.

Three images in all, built once per session (the wheel cache is shared with the other build tests).
"""

from __future__ import annotations

import json
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from shipyard.config import Settings
from shipyard.contract import CONTAINER_PORT, READY_PATH, SMOKE_LOAD_SECONDS_TAG, SMOKE_PEAK_RSS_TAG
from shipyard.docker_engine import BuiltImage, DockerEngine
from shipyard.image.image import remove_build
from shipyard.image.pipeline import build_image, plan_build
from shipyard.image.smoketest import SMOKE_TEST_LABEL, run_smoke_test
from shipyard.models.golden import GoldenSample
from shipyard.registry.entities import ModelVersion
from shipyard.registry.registry import Registry
from tests.image.conftest import unique_tag

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1200)]  # image builds


@dataclass(frozen=True)
class Built:
    version: ModelVersion
    folder: Path
    image: BuiltImage
    tag: str


@pytest.fixture(scope="session")
def trust_env(tmp_path_factory: pytest.TempPathFactory, wheel_cache: Path) -> dict[str, str]:
    home = tmp_path_factory.mktemp("trust-home")
    return {
        "SHIPYARD_HOME": str(home),
        "SHIPYARD_USER": "tester",
        "SHIPYARD_BUILD_CACHE": str(wheel_cache),
    }


@pytest.fixture(scope="session")
def cancer() -> tuple[pd.DataFrame, np.ndarray]:
    features, target = load_breast_cancer(return_X_y=True, as_frame=True)
    return features.iloc[:200], target.to_numpy()[:200]


def _save(model: Any, name: str, env: dict[str, str], **kwargs: Any) -> tuple[ModelVersion, Path]:
    settings = Settings.from_env(env)
    version = shipyard.save_model(model, name, settings=settings, **kwargs)
    with Registry.from_settings(settings) as registry:
        return version, registry.fetch(version.ref)


def _build(
    engine: DockerEngine, base_image: str, folder: Path, version: ModelVersion, wheel_cache: Path
) -> Built:
    tag = unique_tag(f"shipyard-test/trust-{version.name}")
    spec = plan_build(folder, base_image=base_image, tags=(tag,))
    image = build_image(engine, spec, folder, cache_dir=wheel_cache)
    return Built(version, folder, image, tag)


@pytest.fixture(scope="session")
def xgb_built(
    engine: DockerEngine,
    base_image: str,
    wheel_cache: Path,
    trust_env: dict[str, str],
    cancer: tuple[pd.DataFrame, np.ndarray],
) -> Iterator[Built]:
    from xgboost import XGBClassifier

    features, target = cancer
    model = Pipeline(
        [("scale", StandardScaler()), ("boost", XGBClassifier(n_estimators=10, max_depth=3))]
    ).fit(features, target)
    version, folder = _save(model, "xgb-pipe", trust_env, sample_input=features.head(8))
    built = _build(engine, base_image, folder, version, wheel_cache)
    yield built
    remove_build(engine, built.image, (built.tag,))


@pytest.fixture(scope="session")
def lgbm_saved(
    trust_env: dict[str, str], cancer: tuple[pd.DataFrame, np.ndarray]
) -> tuple[ModelVersion, Path]:
    from lightgbm import LGBMClassifier

    features, target = cancer
    booster = LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1)
    model = Pipeline([("scale", StandardScaler()), ("boost", booster)]).fit(features, target)
    return _save(model, "lgbm-pipe", trust_env, sample_input=features.head(8))


_GOMP = Path("/usr/lib/x86_64-linux-gnu/libgomp.so.1")


@pytest.fixture(scope="session")
def gomp_base_image(
    engine: DockerEngine, base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The base plus libgomp1, which LightGBM's wheel needs from the system (python:X-slim lacks
    it too). No Debian mirror is reachable from builds here, so the host's copy is used (the host
    and the test base are both Debian 12)."""
    if not _GOMP.is_file():
        pytest.skip(f"{_GOMP} is not on this host: install libgomp1 to build the LightGBM image")
    context = tmp_path_factory.mktemp("gomp-base")
    (context / "libgomp.so.1").write_bytes(_GOMP.read_bytes())
    (context / "Dockerfile").write_text(
        f"FROM {base_image}\nCOPY libgomp.so.1 /usr/lib/x86_64-linux-gnu/libgomp.so.1\n"
    )
    tag = unique_tag("shipyard-test/trust-python-gomp")
    engine.client.images.build(path=str(context), tag=tag, rm=True, pull=False)
    yield tag
    engine.remove_image(tag)


def _cli(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=env)


def test_xgboost_pipeline_records_xgboost_without_requirements(xgb_built: Built) -> None:
    names = {line.partition("==")[0] for line in xgb_built.version.manifest.requirements.to_lines()}
    assert {"xgboost", "scikit-learn", "numpy"} <= names
    assert not xgb_built.version.manifest.requirements.overridden


def test_xgboost_pipeline_image_reproduces_its_golden_sample_exactly(
    engine: DockerEngine, xgb_built: Built
) -> None:
    result = run_smoke_test(engine, xgb_built.tag)
    assert result.passed, result.failure_report()
    assert result.check is not None
    assert result.check.exact is True
    assert result.check.golden_rows == 8
    assert result.check.uid == 10001  # the image's own non-root user
    assert result.check.peak_rss_bytes > 50 * 2**20
    assert 0 < (result.check.load_seconds or 0) < 120
    assert not engine.client.containers.list(
        all=True, filters={"label": SMOKE_TEST_LABEL + "=1", "ancestor": xgb_built.image.id}
    )


def test_xgboost_pipeline_image_serves_the_golden_sample_over_http(
    engine: DockerEngine, xgb_built: Built
) -> None:
    golden = GoldenSample.read(xgb_built.folder)
    records = pd.DataFrame(golden.inputs).to_dict(orient="records")
    container = engine.client.containers.run(
        xgb_built.image.id,
        detach=True,
        name=f"shipyard-trust-http-{uuid.uuid4().hex[:8]}",
        ports={f"{CONTAINER_PORT}/tcp": ("127.0.0.1", None)},
    )
    try:
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"][f"{CONTAINER_PORT}/tcp"][0]["HostPort"]
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}{READY_PATH}", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        response = httpx.post(f"{url}/predict", json=records, timeout=30)
        assert response.status_code == 200, response.text
        served = np.asarray(response.json()["predictions"])
        assert np.array_equal(served, golden.outputs["predictions"])
    finally:
        container.remove(force=True)


def test_verify_runs_the_smoke_test_and_records_tags(
    xgb_built: Built, trust_env: dict[str, str]
) -> None:
    result = _cli(trust_env, "verify", xgb_built.tag, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert report["recorded_on"] == "xgb-pipe:1"
    with Registry.from_settings(Settings.from_env(trust_env)) as registry:
        tags = registry.get("xgb-pipe:1").tags
    assert float(tags[SMOKE_LOAD_SECONDS_TAG]) > 0
    assert int(tags[SMOKE_PEAK_RSS_TAG]) == report["check"]["peak_rss_bytes"]


def test_lightgbm_pipeline_builds_smoke_tested_through_the_cli(
    engine: DockerEngine,
    gomp_base_image: str,
    lgbm_saved: tuple[ModelVersion, Path],
    trust_env: dict[str, str],
) -> None:
    version, _ = lgbm_saved
    assert any(p.startswith("lightgbm==") for p in version.manifest.requirements.to_lines())
    tag = unique_tag("shipyard-test/trust-lgbm")
    args = ["build", "lgbm-pipe:1", "--base-image", gomp_base_image, "-t", tag, "--json"]
    result = _cli(trust_env, *args)
    try:
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        smoke = report["smoke_test"]
        assert smoke["passed"] is True
        assert smoke["check"]["exact"] is True and smoke["check"]["golden_rows"] == 8
        with Registry.from_settings(Settings.from_env(trust_env)) as registry:
            tags = registry.get("lgbm-pipe:1").tags
        assert tags[SMOKE_PEAK_RSS_TAG] == str(smoke["check"]["peak_rss_bytes"])
    finally:
        engine.remove_image(tag)


def test_missing_import_fails_the_build_within_seconds_with_the_error(
    engine: DockerEngine,
    base_image: str,
    wheel_cache: Path,
    trust_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = tmp_path_factory.mktemp("trust-project")
    (project / "needs_sklearn.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            import sklearn

            from shipyard.models.custom import PythonModel


            class Doubler(PythonModel):
                def predict(self, inputs):
                    return np.asarray(inputs) * 2
            """
        )
    )
    monkeypatch.syspath_prepend(str(project))
    import needs_sklearn  # type: ignore[import-not-found]

    numpy_pin = f"numpy=={np.__version__}"  # sklearn deliberately left out of the image
    version, folder = _save(
        needs_sklearn.Doubler(),
        "needs-sklearn",
        trust_env,
        sample_input=np.ones((2, 3)),
        requirements=[numpy_pin],
    )
    built = _build(engine, base_image, folder, version, wheel_cache)
    try:
        result = run_smoke_test(engine, built.tag)
        assert not result.passed
        assert result.seconds < 30
        report = result.failure_report()
        assert "sklearn" in report and "could not load its model" in report

        tag = unique_tag("shipyard-test/trust-needs-sklearn")
        cli = _cli(trust_env, "build", "needs-sklearn:1", "--base-image", base_image, "-t", tag)
        assert cli.exit_code == 11, cli.output
        assert "No module named 'sklearn'" in cli.stderr
        assert tag not in {t for image in engine.client.images.list() for t in image.tags}
    finally:
        remove_build(engine, built.image, (built.tag,))
