"""The registry alias as the deploy trigger, on the real engine: ``deploy NAME@production
--follow-alias``, then ``deployments watch --once`` rolls the deployment when the alias moves (by
hand or through a pipeline's gate), holds a broken version after its rollback, and does nothing
when nothing moved. One deployment of a model of its own (2 replicas) serves the whole module;
each test gets it at rest (both replicas ready on the live revision's version, ``production`` on
that version) and leaves it so, failed or not."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from shipyard.config import Settings
from shipyard.deploy.history import DeploymentRecords, RevisionRecord
from shipyard.deploy.service import Deployments
from shipyard.deploy.targets.docker.target import DockerTarget
from shipyard.docker_engine import DockerEngine
from shipyard.pipelines.loader import load_pipeline
from shipyard.pipelines.runner import RunOptions, run_pipeline
from shipyard.registry.entities import ModelVersion
from shipyard.registry.registry import Registry
from tests.deploy.conftest import ROW

pytestmark = [pytest.mark.docker, pytest.mark.slow]

GATED = Path(__file__).resolve().parent / "fixtures" / "gated.py"


@dataclass
class Followed:
    """The following deployment, its model (a name of its own) and the CLI's environment."""

    name: str
    model: str
    env: dict[str, str]
    pipeline: Path
    engine: DockerEngine

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.env)

    def cli(self, *args: str, user: str = "tester", code: int = 0) -> Any:
        env = {**self.env, "SHIPYARD_USER": user}
        result = CliRunner().invoke(app, [*args, "--json"], env=env)
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)

    def watch_once(self, code: int = 0) -> dict[str, Any]:
        summary: dict[str, Any] = self.cli("deployments", "watch", self.name, "--once", code=code)
        assert [d["deployment"] for d in summary["deployments"]] == [self.name]
        return summary

    def history(self) -> list[RevisionRecord]:
        with DeploymentRecords.open(self.settings) as records:
            return records.history(self.name)

    def served(self) -> set[tuple[str, str]]:
        """(model, version) as every replica's ``/readyz`` reports it."""
        status = self.cli("deployments", "status", self.name)
        assert status["ready"] == len(status["replicas"]) == 2, status
        answers: set[tuple[str, str]] = set()
        for replica in status["replicas"]:
            ready = httpx.get(f"{replica['url']}/readyz", timeout=10).json()
            answers.add((ready["model_name"], ready["model_version"]))
        assert httpx.post(f"{status['url']}/predict", json=[ROW], timeout=30).status_code == 200
        return answers

    def drift(self) -> list[str]:
        """How the deployment is off its rest, one line each; empty when it rests."""
        with DeploymentRecords.open(self.settings) as records:
            live = records.live(self.name)
        drift: list[str] = []
        production = self.production().version
        if production != live.spec.model_version:
            drift.append(
                f"production is {production}, revision {live.revision} serves "
                f"{live.spec.model_version}"
            )
        status = self.cli("deployments", "status", self.name)
        if status["ready"] != len(status["replicas"]) or len(status["replicas"]) != 2:
            drift.append(f"{status['ready']} of {len(status['replicas'])} replicas ready, not 2")
        elif any(r["revision"] != live.revision for r in status["replicas"]):
            drift.append(
                f"replicas run {[r['revision'] for r in status['replicas']]}, "
                f"not revision {live.revision}"
            )
        return drift

    def restore(self) -> None:
        """Bring the deployment back to rest: its live revision on both replicas (re-applied
        when they are not), then ``production`` moved back to the version it serves."""
        if not self.drift():
            return
        with Deployments.open(self.settings) as deployments:
            live = deployments.records.live(self.name)
            status = self.cli("deployments", "status", self.name)
            replicas = status["replicas"]
            if (status["ready"], len(replicas)) != (2, 2) or any(
                r["revision"] != live.revision for r in replicas
            ):
                deployments.change(
                    self.name,
                    DockerTarget(self.engine),
                    action="restore",
                    progress=lambda _m: None,
                    spec=live.spec,
                )
        if self.production().version != live.spec.model_version:
            version = str(live.spec.model_version)
            self.cli("models", "alias", "set", self.model, "production", version)
        left = self.drift()
        assert left == [], f"{self.name} could not be brought back to rest: {left}"

    def production(self) -> ModelVersion:
        with Registry.from_settings(self.settings) as registry:
            return registry.get(f"{self.model}@production")

    def save_version(self, seed: int) -> int:
        features, target = load_breast_cancer(return_X_y=True, as_frame=True)
        model = RandomForestClassifier(n_estimators=5, random_state=seed).fit(features, target)
        saved = shipyard.save_model(
            model, self.model, sample_input=features[:5], settings=self.settings
        )
        return saved.version


@pytest.fixture(scope="module")
def shared_follower(
    engine: DockerEngine,
    base_image: str,
    lb_image: str,
    wheel_cache: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Followed]:
    root = tmp_path_factory.mktemp("follow")
    model = f"sy-fol-{uuid.uuid4().hex[:6]}"
    pipeline = root / "gated.py"
    pipeline.write_text(GATED.read_text().replace('MODEL = "gated"', f'MODEL = "{model}"'))
    env = {
        "SHIPYARD_HOME": str(root / "home"),
        "SHIPYARD_USER": "tester",
        "SHIPYARD_BUILD_CACHE": str(wheel_cache),
    }
    space = Followed(f"sy-dep-{uuid.uuid4().hex[:6]}", model, env, pipeline, engine)
    first = space.save_version(seed=0)
    space.cli("models", "alias", "set", model, "production", str(first))
    args = ["deploy", f"{model}@production", "--follow-alias", "--name", space.name]
    options = ["--replicas", "2", "--port", "0", "--lb-image", lb_image, "--base-image", base_image]
    try:
        deployed = space.cli(*args, *options)  # builds the image first: the engine lacks it
        assert deployed["ready"] == 2
        yield space
    finally:
        CliRunner().invoke(app, ["deployments", "rm", space.name, "--json"], env=env)
        for image in engine.client.images.list(name=f"shipyard/{model}"):
            for tag in image.tags:
                if tag.startswith(f"shipyard/{model}:"):
                    engine.client.images.remove(tag, force=True)


@pytest.fixture
def followed(shared_follower: Followed) -> Iterator[Followed]:
    """The module's deployment at rest, and back at rest afterwards, failed or not."""
    try:
        shared_follower.restore()  # only when an earlier test's teardown could not
    except Exception as exc:
        pytest.fail(f"an earlier test left the shared deployment off its rest: {exc}")
    try:
        yield shared_follower
    finally:
        shared_follower.restore()


def test_list_and_status_show_what_the_deployment_follows(followed: Followed) -> None:
    listed = {d["name"]: d for d in followed.cli("deployments", "list")}
    assert listed[followed.name]["follows"] == f"{followed.model}@production"
    status = followed.cli("deployments", "status", followed.name)
    assert status["follows"] == f"{followed.model}@production"


def test_follow_alias_refuses_a_reference_that_cannot_move(followed: Followed) -> None:
    refused = followed.cli("deploy", f"{followed.model}:1", "--follow-alias", "--dry-run", code=2)
    assert "needs NAME@ALIAS" in refused["error"]["message"]


def test_watch_rolls_the_deployment_when_its_alias_moves_and_then_rests(
    followed: Followed,
) -> None:
    live = followed.history()[-1].spec.model_version
    version = followed.save_version(seed=1)
    followed.cli("models", "alias", "set", followed.model, "production", str(version), user="ana")

    summary = followed.watch_once()  # builds the new version's image, then rolls

    (entry,) = summary["deployments"]
    assert (entry["action"], entry["outcome"], entry["moved_by"]) == ("roll", "rolled", "ana")
    assert (entry["live_version"], entry["desired_version"]) == (live, version)
    assert followed.served() == {(followed.model, str(version))}
    last = followed.history()[-1]
    assert (last.action, last.outcome, last.spec.model_version) == ("follow", "applied", version)
    assert "moved by ana" in last.created_by and last.spec.image_digest
    count = len(followed.history())

    again = followed.watch_once()

    assert again["deployments"][0]["action"] == "in-sync" and again["rolled"] == 0
    assert len(followed.history()) == count


def test_a_broken_version_is_rolled_back_and_not_tried_again(
    followed: Followed, broken_image: str
) -> None:
    before = followed.served()
    version = followed.save_version(seed=2)
    followed.engine.client.images.get(broken_image).tag(f"shipyard/{followed.model}", str(version))
    followed.cli("models", "alias", "set", followed.model, "production", str(version), user="ana")

    summary = followed.watch_once(code=14)  # its image is there: no build; it fails readiness

    (entry,) = summary["deployments"]
    assert (entry["outcome"], summary["failed"]) == ("rolled-back", 1)
    assert entry["error"]["exit_code"] == 14 and "could not load" in entry["error"]["message"]
    assert followed.served() == before
    assert followed.history()[-1].outcome == "rolled-back"
    count = len(followed.history())

    again = followed.watch_once()

    assert again["deployments"][0]["action"] == "failed-before" and again["failed"] == 0
    assert len(followed.history()) == count and followed.served() == before


def test_a_pipeline_gate_moves_production_and_the_follower_rolls(followed: Followed) -> None:
    loaded = load_pipeline(str(followed.pipeline))
    with pytest.MonkeyPatch.context() as patch:  # the register step runs here, on the driver
        for key, value in followed.env.items():
            patch.setenv(key, value)
        passed = run_pipeline(loaded, followed.settings, RunOptions(params={"n_estimators": 8}))
        assert passed.status == "succeeded", passed.to_dict()
        promoted = followed.production()
        assert promoted.tags["shipyard.pipeline_run"] == passed.run_id  # the gate moved it

        rolled = followed.watch_once()

        assert rolled["deployments"][0]["outcome"] == "rolled"
        assert followed.served() == {(followed.model, str(promoted.version))}
        count = len(followed.history())

        stopped = run_pipeline(loaded, followed.settings, RunOptions(params={"constant": True}))
        assert stopped.status == "succeeded", stopped.to_dict()
        assert followed.production() == promoted  # the gate (AUC 0.5 < 0.90) kept it

        rested = followed.watch_once()

    assert rested["deployments"][0]["action"] == "in-sync" and rested["rolled"] == 0
    assert len(followed.history()) == count
    assert followed.served() == {(followed.model, str(promoted.version))}
    with Registry.from_settings(followed.settings) as registry:
        newest = registry.list_versions(followed.model)[-1]
    assert newest.tags["shipyard.pipeline_run"] == stopped.run_id and newest.aliases == ()
