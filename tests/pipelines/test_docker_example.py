"""The "Done when" list on the docker executor: the real engine, one step image shared by the
module (built once from the local base image, SHIPYARD_TEST_BASE_IMAGE), each step in its own
container. Skips with the reason when no engine is reachable."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shipyard.docker_engine import DockerEngine
from shipyard.errors import BuildError, DockerUnavailableError
from shipyard.pipelines.artifacts import materialize
from shipyard.pipelines.executors.stepimage import plan_step_image
from shipyard.pipelines.run_store import PipelineRecords
from shipyard.pipelines.serializers import read_value
from shipyard.registry.artifacts import LocalArtifactStore
from shipyard.registry.registry import Registry
from shipyard.tracking import RunStatus, Tracker
from tests.pipelines.conftest import TINY, Workspace, executed, statuses, warm_workspace

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1800)]

DEFAULT_BASE = "shipyard-test/python:3.11-bookworm"
ALL = {"ingest", "prepare", "train", "evaluate", "register"}


@pytest.fixture(scope="module")
def engine() -> Iterator[DockerEngine]:
    try:
        connected = DockerEngine.connect()
    except DockerUnavailableError as exc:
        pytest.skip(f"no Docker engine: {exc}")
    yield connected
    connected.close()


@pytest.fixture(scope="module")
def docker_options(
    engine: DockerEngine, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Options for the docker executor; the step image this module builds is removed after."""
    base = os.environ.get("SHIPYARD_TEST_BASE_IMAGE", DEFAULT_BASE)
    try:
        engine.inspect(base)
    except BuildError as exc:
        pytest.skip(f"base image {base} is missing ({exc}): run `. scripts/services.sh`")
    cache = getattr(request.config, "cache", None)
    wheels = Path(cache.mkdir("shipyard-build-cache")) if cache else tmp_path_factory.mktemp("w")
    tag = plan_step_image(("pyarrow>=14", "scikit-learn>=1.3"), base_image=base).tag
    existed = _exists(engine, tag)
    builders = _builder_images(engine)
    yield {"executor": "docker", "base_image": base, "build_cache": wheels}
    if not existed:
        engine.remove_image(tag, force=False)
        for image in _builder_images(engine) - builders:  # the stage image this module built
            engine.remove_image(image, force=False)
    leftover = engine.client.containers.list(all=True, filters={"name": "shipyard-step-"})
    assert not [c for c in leftover if c.labels.get("io.shipyard.pipeline-step")], "containers"


def _builder_images(engine: DockerEngine) -> set[str]:
    labelled = engine.client.images.list(filters={"label": "io.shipyard.stage=step-builder"})
    return {image.id for image in labelled}


def _exists(engine: DockerEngine, tag: str) -> bool:
    try:
        engine.inspect(tag)
    except BuildError:
        return False
    return True


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory, docker_options: dict[str, Any]) -> Workspace:
    space, summary = warm_workspace(
        tmp_path_factory, "docker-warm", lambda s: s.run(parallel=2, **docker_options)
    )
    assert summary.status == "succeeded", summary.to_dict()
    assert executed(summary) == ALL
    with Registry.from_settings(space.settings) as registry:
        production = registry.get("cancer@production")
    assert production.tags["shipyard.pipeline_run"] == summary.run_id
    assert "[shipyard] train attempt 1" in Path(summary.step("train").log_path or "").read_text()
    # the run is a tracked run, and the version registered on the driver links to it
    with Tracker.from_settings(space.settings) as tracker:
        tracked = tracker.store.get_run(str(summary.tracking_run_id))
    assert tracked.tags["shipyard.executor"] == "docker"
    assert tracked.metrics["auc"].value >= 0.9
    assert tracked.metrics["step.train.cached"].value == 0
    assert production.manifest.lineage.run_id == summary.tracking_run_id
    assert production.manifest.lineage.dataset_digest == tracked.tags["shipyard.dataset_digest"]
    return space


def test_docker_second_run_then_code_change(
    warm: Workspace,
    fresh_copy: Callable[[Workspace], Workspace],
    docker_options: dict[str, Any],
) -> None:
    space = fresh_copy(warm)
    assert space.run(**docker_options).executed == 0
    space.edit("random_state=0).fit", "random_state=2).fit")
    changed = space.run(**docker_options)
    assert executed(changed) == {"train", "evaluate", "register"}


def test_docker_input_change_failure_and_resume(
    warm: Workspace,
    fresh_copy: Callable[[Workspace], Workspace],
    docker_options: dict[str, Any],
) -> None:
    space = fresh_copy(warm)
    (space.project / "split.json").write_text('{"test_size": 0.3, "seed": 1}\n')
    space.edit(
        '    return {\n        "auc"',
        "    raise RuntimeError('evaluation broke')\n    return {\n        \"auc\"",
    )
    failed = space.run(**docker_options)
    assert statuses(failed) == {
        "ingest": "cached",
        "prepare": "succeeded",
        "train": "succeeded",
        "evaluate": "failed",
        "register": "skipped",
    }
    assert "evaluation broke" in (failed.step("evaluate").error or "")
    with Tracker.from_settings(space.settings) as tracker:
        tracked = tracker.store.get_run(str(failed.tracking_run_id))
    assert tracked.info.status is RunStatus.FAILED
    assert "evaluation broke" in tracked.tags["shipyard.error"]
    space.edit("    raise RuntimeError('evaluation broke')\n", "")
    resumed = space.run(resume=failed.run_id, no_cache=True, **docker_options)
    assert resumed.status == "succeeded"
    assert executed(resumed) == {"evaluate", "register"}
    assert resumed.tracking_run_id == failed.tracking_run_id
    with Tracker.from_settings(space.settings) as tracker:
        tracked = tracker.store.get_run(str(resumed.tracking_run_id))
    assert tracked.info.status is RunStatus.FINISHED  # continued by --resume
    assert tracked.tags["step.evaluate.status"] == "succeeded"


def test_docker_steps_run_non_root_without_network_and_timeout_kills(
    workspace: Workspace, docker_options: dict[str, Any]
) -> None:
    summary = workspace.run(f"{TINY}:contained", parallel=2, **docker_options)
    assert statuses(summary) == {
        "identity": "succeeded",
        "sleepy": "failed",
        "after_sleepy": "skipped",
    }
    assert "timeout of 2" in (summary.step("sleepy").error or "")
    folder = workspace.home / "identity"
    store = LocalArtifactStore(workspace.home / "artifacts")
    materialize(store, summary.step("identity").outputs["output"], folder)
    seen = read_value("json", folder)
    assert seen["uid"] != 0
    assert seen["interfaces"] == ["lo"]


def test_ctrl_c_kills_the_running_step_container(
    workspace: Workspace, docker_options: dict[str, Any], engine: DockerEngine
) -> None:
    def step_containers() -> list[Any]:
        found = engine.client.containers.list(all=True, filters={"name": "shipyard-step-"})
        return [c for c in found if c.labels.get("io.shipyard.pipeline-step") == "long_nap"]

    interrupted_at: list[float] = []

    def interrupt_once_it_runs() -> None:
        deadline = time.monotonic() + 600  # the first run may build the step image
        while not step_containers() and time.monotonic() < deadline:
            time.sleep(0.2)
        interrupted_at.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C: KeyboardInterrupt in the main thread

    threading.Thread(target=interrupt_once_it_runs, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        workspace.run(f"{TINY}:napping", **docker_options)
    assert time.monotonic() - interrupted_at[0] < 30  # the step sleeps 120 s: it was killed
    assert step_containers() == []  # killed and removed, not left to sleep out its 120 s
    with Registry.from_settings(workspace.settings) as registry:
        last = PipelineRecords(registry.metadata.engine).list_runs(limit=1)[0]
    assert last.status == "failed"
