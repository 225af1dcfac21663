"""The self-check an image runs, run here on real model folders (no Docker), and how the host
reads its result."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import shipyard
from shipyard.config import Settings
from shipyard.contract import SMOKE_LOAD_SECONDS_TAG, SMOKE_PEAK_RSS_TAG
from shipyard.errors import SmokeTestError
from shipyard.image.selfcheck import SelfCheck, run_self_check
from shipyard.image.smoketest import SmokeTest, _parse, require_passed
from shipyard.models.golden import GoldenSample
from shipyard.registry.registry import Registry

X = np.random.default_rng(3).random((20, 4))


@pytest.fixture
def fetched(tmp_path: Path) -> Path:
    """A registered version with a golden sample, fetched and copied to a writable folder."""
    settings = Settings.from_env({"SHIPYARD_HOME": str(tmp_path / "home"), "SHIPYARD_USER": "t"})
    model = LogisticRegression().fit(X, X[:, 0] > 0.5)
    version = shipyard.save_model(model, "logit", sample_input=X[:6], settings=settings)
    with Registry.from_settings(settings) as registry:
        folder = registry.fetch(version.ref)
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    return copy


def test_self_check_reproduces_the_golden_sample_and_measures(fetched: Path) -> None:
    check = run_self_check(fetched)
    assert check.passed and check.exact
    assert check.golden_rows == 6
    assert check.model == "logit:1"
    assert check.load_seconds is not None and check.load_seconds > 0
    assert check.peak_rss_bytes > 20 * 2**20


def test_self_check_refuses_a_folder_that_fails_its_digest(fetched: Path) -> None:
    golden = GoldenSample.read(fetched)
    flipped = {"predictions": 1 - golden.outputs["predictions"]}
    shutil.rmtree(fetched / "golden")
    GoldenSample(inputs=golden.inputs, outputs=flipped).write(fetched)
    check = run_self_check(fetched)
    assert not check.passed
    assert check.error is not None and "IntegrityError" in check.error


def test_host_reads_the_last_marked_json_line_and_reports_failures() -> None:
    failed = SelfCheck(passed=False, model="m:1", error="ModelLoadError: needs 'sklearn'")
    stdout = "noise\n{not json\n" + json.dumps(failed.to_dict()) + "\n"
    result = SmokeTest("img", "sha256:1", 7, 1.5, _parse(stdout), "Traceback...\nModuleNotFound\n")
    assert result.check == failed
    with pytest.raises(SmokeTestError, match="could not load its model: ModelLoadError") as info:
        require_passed(result)
    assert "ModuleNotFound" in str(info.value)


def test_passed_result_becomes_version_tags() -> None:
    check = SelfCheck(passed=True, load_seconds=0.8123, peak_rss_bytes=123, exact=True)
    tags = SmokeTest("img", "sha256:1", 0, 2.0, check, "").tags()
    assert tags[SMOKE_LOAD_SECONDS_TAG] == "0.812"
    assert tags[SMOKE_PEAK_RSS_TAG] == "123"
    assert tags["shipyard.smoke.exact"] == "true"


def test_no_result_line_is_a_failure() -> None:
    result = SmokeTest("img", "sha256:1", 137, 1.0, _parse("Killed\n"), "")
    assert not result.passed
    assert "exited with code 137 without a self-check result" in result.failure_report()
