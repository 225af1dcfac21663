"""The "Done when" list, with the 5-step example pipeline on the local executor (real
processes, a real registry in a private SHIPYARD_HOME)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import shipyard
from shipyard.registry.registry import Registry
from tests.pipelines.conftest import Workspace, executed, statuses, warm_workspace

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ALL = {"ingest", "prepare", "train", "evaluate", "register"}


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, shipyard.ModelVersion]:
    space, summary = warm_workspace(tmp_path_factory, "local-warm", lambda s: s.run(parallel=2))
    assert summary.status == "succeeded", summary.to_dict()
    assert executed(summary) == ALL
    with Registry.from_settings(space.settings) as registry:
        version = registry.get("cancer@production")
    assert version.tags["shipyard.pipeline_run"] == summary.run_id
    return space, version


def test_second_run_executes_no_step(
    warm: tuple[Workspace, shipyard.ModelVersion], fresh_copy: Callable[[Workspace], Workspace]
) -> None:
    space = fresh_copy(warm[0])
    summary = space.run()
    assert summary.executed == 0
    assert set(statuses(summary).values()) == {"cached"}


def test_changing_one_steps_code_reruns_it_and_its_dependents(
    warm: tuple[Workspace, shipyard.ModelVersion], fresh_copy: Callable[[Workspace], Workspace]
) -> None:
    space = fresh_copy(warm[0])
    space.edit("random_state=0).fit", "random_state=1).fit")
    summary = space.run()
    assert executed(summary) == {"train", "evaluate", "register"}
    assert statuses(summary)["ingest"] == statuses(summary)["prepare"] == "cached"


def test_changed_input_file_reruns_what_reads_it(
    warm: tuple[Workspace, shipyard.ModelVersion], fresh_copy: Callable[[Workspace], Workspace]
) -> None:
    space = fresh_copy(warm[0])
    (space.project / "split.json").write_text('{"test_size": 0.3, "seed": 0}\n')
    summary = space.run()
    assert executed(summary) == {"prepare", "train", "evaluate", "register"}
    assert statuses(summary)["ingest"] == "cached"


def test_failing_step_skips_dependents_keeps_outputs_and_resume_finishes(
    warm: tuple[Workspace, shipyard.ModelVersion], fresh_copy: Callable[[Workspace], Workspace]
) -> None:
    space = fresh_copy(warm[0])
    space.edit(
        '    features, target = data.drop(columns="target"), data["target"]\n    scores',
        "    raise RuntimeError('evaluation broke')\n    features, target = "
        'data.drop(columns="target"), data["target"]\n    scores',
    )
    space.edit("n_estimators: int = 50", "n_estimators: int = 20")  # train must run too
    failed = space.run()
    assert failed.status == "failed"
    assert statuses(failed) == {
        "ingest": "cached",
        "prepare": "cached",
        "train": "succeeded",
        "evaluate": "failed",
        "register": "skipped",
    }
    assert "evaluation broke" in (failed.step("evaluate").error or "")
    assert failed.step("train").outputs["output"].files  # kept in the store
    space.edit("    raise RuntimeError('evaluation broke')\n", "")
    resumed = space.run(resume=failed.run_id, no_cache=True)
    assert resumed.run_id == failed.run_id
    assert resumed.status == "succeeded"
    assert executed(resumed) == {"evaluate", "register"}
    assert resumed.step("train").outputs == failed.step("train").outputs


def test_register_step_and_gate_create_a_version_and_move_the_alias(
    warm: tuple[Workspace, shipyard.ModelVersion], fresh_copy: Callable[[Workspace], Workspace]
) -> None:
    first = warm[1]
    assert first.aliases == ("production",)
    assert first.manifest.metadata["metrics"]["auc"] >= 0.90
    space = fresh_copy(warm[0])
    space.edit('promote_if="metrics.auc >= 0.90"', 'promote_if="metrics.auc >= 0.9999"')
    summary = space.run()
    assert executed(summary) == {"register"}
    registered = summary.step("register")
    with Registry.from_settings(space.settings) as registry:
        versions = registry.list_versions("cancer")
        production = registry.get("cancer@production")
    assert [v.version for v in versions] == [1, 2]
    assert production.version == 1  # the gate kept the alias where it was
    assert versions[1].tags["shipyard.pipeline_run"] == summary.run_id
    assert registered.status == "succeeded"
