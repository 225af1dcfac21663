"""``follow.decide``: the pure reconcile decision (desired version from the alias vs live)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.config import Settings
from shipyard.deploy.follow import (
    AliasPointer,
    Observation,
    decide,
    followed_ref,
    last_failed_roll,
)
from shipyard.deploy.records import DeploymentRecords, RevisionRecord
from shipyard.deploy.spec import DeploymentSpec
from shipyard.errors import ConfigError, InvalidNameError
from shipyard.refs import ModelRef

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


def test_watch_once_with_no_follower_does_nothing_and_refuses_a_non_follower(
    tmp_path: Path,
) -> None:
    env = {"SHIPYARD_HOME": str(tmp_path / "home"), "SHIPYARD_USER": "tester"}
    spec = DeploymentSpec(
        name="fixed", image="shipyard/churn:1", model_name="churn", model_version=1
    )
    with DeploymentRecords.open(Settings.from_env(env)) as records:
        records.finish(
            "fixed", records.begin(spec, action="deploy", user="ana", new=True), "applied"
        )
    runner = CliRunner()

    idle = runner.invoke(app, ["deployments", "watch", "--once", "--json"], env=env)
    refused = runner.invoke(app, ["deployments", "watch", "fixed", "--once", "--json"], env=env)

    assert idle.exit_code == 0, idle.output
    assert {k: v for k, v in json.loads(idle.stdout).items() if k != "at"} == {
        "deployments": [],
        "rolled": 0,
        "failed": 0,
    }
    assert refused.exit_code == 2, refused.output
    assert "follows no alias" in json.loads(refused.stdout)["error"]["message"]
    history = runner.invoke(app, ["deployments", "history", "fixed", "--json"], env=env)
    assert datetime.fromisoformat(json.loads(history.stdout)[0]["created_at"]).utcoffset() == (
        timedelta(0)  # compared with alias moves, so never naive (SQLite hands naive ones back)
    )
