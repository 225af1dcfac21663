"""``follow.decide``: the pure reconcile decision (desired version from the alias vs live)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.tree import DecisionTreeClassifier
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from shipyard.config import Settings
from shipyard.deploy.follow import (
    AliasPointer,
    Observation,
    decide,
    followed_ref,
    last_failed_roll,
)
from shipyard.deploy.history import DeploymentRecords, RevisionRecord
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.watch import FollowResult, Watcher, watch
from shipyard.errors import ConfigError, InvalidNameError
from shipyard.refs import ModelRef
from shipyard.registry.registry import Registry
from tests.registry.conftest import postgres_db_url, postgres_server_url

__all__ = ["postgres_db_url", "postgres_server_url"]

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FOLLOWS = ModelRef.parse("churn@production")


def revision(
    number: int,
    version: int | None,
    *,
    outcome: str = "applied",
    action: str = "deploy",
    at: datetime = T0,
    model: str = "churn",
) -> RevisionRecord:
    spec = DeploymentSpec(
        name="churn",
        image=f"shipyard/{model}:{version}",
        model_name=model if version is not None else None,
        model_version=version,
    )
    return RevisionRecord("churn", number, action, spec, at, "ana", outcome, "boom")


def observe(
    history: list[RevisionRecord], pointer: AliasPointer, live: int | None = None
) -> Observation:
    applied = [r for r in history if r.outcome == "applied"]
    chosen = applied[-1] if live is None and applied else None
    if live is not None:
        chosen = next(r for r in history if r.revision == live)
    return Observation("churn", FOLLOWS, chosen, pointer, history)


def test_an_alias_that_moved_rolls_to_its_version() -> None:
    decision = decide(observe([revision(1, 1)], AliasPointer(2, T0, "ana")))
    assert (decision.action, decision.live_version, decision.desired_version) == ("roll", 1, 2)
    assert decision.moved_by == "ana" and "moved to 2" in decision.reason


def test_the_version_the_alias_names_already_live_is_in_sync() -> None:
    assert decide(observe([revision(1, 2)], AliasPointer(2, T0))).action == "in-sync"


def test_an_alias_moved_back_rolls_back_too() -> None:
    history = [revision(1, 1), revision(2, 2, action="follow")]
    assert decide(observe(history, AliasPointer(1, T0 + timedelta(hours=1)))).action == "roll"


def test_a_live_image_that_is_no_registry_version_rolls_to_the_alias() -> None:
    decision = decide(observe([revision(1, None)], AliasPointer(2, T0)))
    assert decision.action == "roll" and decision.live_version is None
    other_model = decide(observe([revision(1, 2, model="other")], AliasPointer(2, T0)))
    assert other_model.action == "roll"


def test_a_failed_roll_is_held_until_the_alias_moves_again() -> None:
    moved = T0 + timedelta(minutes=1)
    failed = revision(2, 2, outcome="rolled-back", action="follow", at=moved + timedelta(seconds=5))
    history = [revision(1, 1), failed]
    held = decide(observe(history, AliasPointer(2, moved), live=1))
    assert held.action == "failed-before" and "revision 2" in held.reason and "boom" in held.reason
    moved_again = AliasPointer(2, moved + timedelta(minutes=5))  # e.g. 2 -> 1 -> 2
    assert decide(observe(history, moved_again, live=1)).action == "roll"
    assert decide(observe(history, AliasPointer(2, moved), live=1), retry_failed=True).action == (
        "roll"
    )


def test_a_failure_of_another_version_does_not_hold_the_new_one() -> None:
    moved = T0 + timedelta(minutes=1)
    history = [revision(1, 1), revision(2, 2, outcome="failed", action="follow", at=moved)]
    assert decide(observe(history, AliasPointer(3, moved), live=1)).action == "roll"


def test_a_hand_made_update_that_failed_does_not_hold_the_follower() -> None:
    history = [revision(1, 1), revision(2, 2, outcome="rolled-back", action="update", at=T0)]
    assert decide(observe(history, AliasPointer(2, T0), live=1)).action == "roll"
    assert last_failed_roll(history, "churn") is None


def test_a_running_canary_a_removed_alias_and_no_live_revision_leave_it_alone() -> None:
    canary = [revision(1, 1), revision(2, 3, outcome="canary", action="canary 10%")]
    assert decide(observe(canary, AliasPointer(2, T0), live=1)).action == "canary"
    assert decide(observe([revision(1, 1)], AliasPointer(None))).action == "no-alias"
    failed_first = [revision(1, 1, outcome="failed")]
    assert decide(observe(failed_first, AliasPointer(2, T0))).action == "no-live"


def test_decisions_are_plain_json() -> None:
    decision = decide(observe([revision(1, 1)], AliasPointer(2, T0, "ana")))
    assert decision.to_dict() == {
        "deployment": "churn",
        "follows": "churn@production",
        "action": "roll",
        "live_version": 1,
        "desired_version": 2,
        "reason": decision.reason,
        "moved_by": "ana",
    }


def test_only_an_alias_reference_can_be_followed() -> None:
    assert followed_ref("churn@production") == FOLLOWS
    with pytest.raises(ConfigError, match="needs NAME@ALIAS"):
        followed_ref("churn:2")
    with pytest.raises(InvalidNameError):
        followed_ref("Churn@production")


@dataclass(frozen=True)
class Offline:
    """A registry (SQLite or PostgreSQL) with one deployment of MODEL:1 that follows nothing,
    and no Docker engine. Names are unique: the PostgreSQL database is shared by the session."""

    env: dict[str, str]
    name: str
    model: str

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.env)

    def cli(self, *args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(app, [*args, "--json"], env=self.env)
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)

    def save_versions(self, count: int) -> None:
        features, target = load_breast_cancer(return_X_y=True)
        for depth in range(1, count + 1):
            model = DecisionTreeClassifier(max_depth=depth).fit(features, target)
            shipyard.save_model(
                model, self.model, sample_input=features[:2], settings=self.settings
            )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def offline(request: pytest.FixtureRequest, tmp_path: Path) -> Offline:
    env = {
        "SHIPYARD_HOME": str(tmp_path / "home"),
        "SHIPYARD_USER": "tester",
        "DOCKER_HOST": f"unix://{tmp_path / 'no-engine.sock'}",
    }
    if request.param == "postgres":
        env["SHIPYARD_DB_URL"] = request.getfixturevalue("postgres_db_url")
    suffix = uuid.uuid4().hex[:6]
    space = Offline(env, f"fixed-{suffix}", f"churn-{suffix}")
    spec = DeploymentSpec(
        name=space.name, image=f"shipyard/{space.model}:1", model_name=space.model, model_version=1
    )
    with DeploymentRecords.open(space.settings) as records:
        revision = records.begin(spec, action="deploy", user="ana", new=True)
        records.finish(space.name, revision, "applied")
    return space


def test_watch_once_with_no_follower_does_nothing_and_refuses_a_non_follower(
    offline: Offline,
) -> None:
    idle = offline.cli("deployments", "watch", "--once")
    refused = offline.cli("deployments", "watch", offline.name, "--once", code=2)

    assert offline.name not in [d["deployment"] for d in idle["deployments"]]
    assert (idle["rolled"], idle["failed"]) == (0, 0)
    assert "follows no alias" in refused["error"]["message"]
    history = offline.cli("deployments", "history", offline.name)
    assert datetime.fromisoformat(history[0]["created_at"]).utcoffset() == (
        timedelta(0)  # compared with alias moves, so never naive (SQLite hands naive ones back)
    )


def test_follow_and_stop_following_and_an_unreachable_engine_holds_nothing(
    offline: Offline,
) -> None:
    ref = f"{offline.model}@production"
    unknown = offline.cli("deployments", "follow", offline.name, ref, code=3)
    assert "no model" in unknown["error"]["message"].lower()
    offline.save_versions(2)
    with Registry.from_settings(offline.settings) as registry:
        registry.set_alias(offline.model, "production", 2)
    assert offline.cli("deployments", "follow", offline.name, f"{offline.model}:2", code=2)

    followed = offline.cli("deployments", "follow", offline.name, ref)
    listed = {d["name"]: d for d in offline.cli("deployments", "list")}
    summary = offline.cli("deployments", "watch", offline.name, "--once", code=6)  # no engine

    assert followed == {"name": offline.name, "follows": ref}
    assert listed[offline.name]["follows"] == ref
    (entry,) = summary["deployments"]
    assert (entry["action"], entry["outcome"], entry["revision"]) == ("roll", "failed", None)
    assert entry["error"]["type"] == "DockerUnavailableError"
    history = offline.cli("deployments", "history", offline.name)
    assert len(history) == 1  # nothing was tried, so nothing is held
    stopped = offline.cli("deployments", "follow", offline.name, "--stop")
    assert stopped == {"name": offline.name, "follows": None}
    idle = offline.cli("deployments", "watch", "--once")
    assert offline.name not in [d["deployment"] for d in idle["deployments"]]


def test_the_watch_loop_passes_until_stopped_and_retries_failed_on_the_first_pass_only(
    offline: Offline,
) -> None:
    offline.save_versions(1)
    with Registry.from_settings(offline.settings) as registry:
        registry.set_alias(offline.model, "production", 1)
    passes: list[list[FollowResult]] = []
    stop = threading.Event()
    with Watcher.open(offline.settings) as watcher:
        watcher.records.set_follow(offline.name, f"{offline.model}@production")
        seen_retry: list[bool] = []
        reconcile = watcher.reconcile

        def recording(names: Sequence[str] = (), **options: Any) -> list[FollowResult]:
            seen_retry.append(options["retry_failed"])
            return reconcile(names, **options)

        watcher.reconcile = recording  # type: ignore[method-assign]

        def on_pass(results: list[FollowResult]) -> None:
            passes.append(results)
            if len(passes) == 3:
                stop.set()

        started = time.monotonic()
        watch(
            watcher,
            [offline.name],
            interval=0.05,
            on_pass=on_pass,
            on_error=lambda exc: pytest.fail(str(exc)),
            stop=stop,
            progress=lambda _m: None,
            retry_failed=True,
        )
    assert time.monotonic() - started < 10
    assert [[r.decision.action for r in results] for results in passes] == [["in-sync"]] * 3
    assert seen_retry == [True, False, False]
