"""Aliases are movable pointers with an audit history; rollback steps back through it."""

from __future__ import annotations

import pytest

from shipyard.errors import ConflictError, InvalidNameError, NotFoundError
from shipyard.registry import Registry

from .conftest import MakeFolder


@pytest.fixture
def three_versions(registry: Registry, make_folder: MakeFolder) -> Registry:
    for i in range(3):
        registry.publish("iris", *make_folder(f"w{i}".encode()))
    return registry


def test_every_alias_move_is_audited_with_actor_and_targets(three_versions: Registry) -> None:
    registry = three_versions
    registry.set_alias("iris", "production", 1)
    registry.set_alias("iris", "production", 2)
    registry.remove_alias("iris", "production")

    history = registry.history("iris")

    assert [(e.action, e.from_version, e.to_version) for e in history] == [
        ("set", None, 1),
        ("set", 1, 2),
        ("remove", 2, None),
    ]
    assert {e.actor for e in history} == {"tester"}
    assert history[0].at <= history[1].at <= history[2].at
    with pytest.raises(NotFoundError, match="no alias 'production'"):
        registry.get("iris@production")


def test_setting_an_alias_to_its_current_target_records_nothing(three_versions: Registry) -> None:
    assert three_versions.set_alias("iris", "staging", 3) is not None
    assert three_versions.set_alias("iris", "staging", 3) is None
    assert len(three_versions.history("iris")) == 1


def test_rollback_moves_alias_to_its_previous_target_and_steps_back_again(
    three_versions: Registry,
) -> None:
    registry = three_versions
    for version in (1, 2, 3):
        registry.set_alias("iris", "production", version)

    first = registry.rollback("iris", "production")
    assert (first.action, first.from_version, first.to_version) == ("rollback", 3, 2)
    assert registry.get("iris@production").version == 2

    registry.rollback("iris", "production")
    assert registry.get("iris@production").version == 1

    with pytest.raises(ConflictError, match="no previous target"):
        registry.rollback("iris", "production")


def test_rollback_restores_a_removed_alias(three_versions: Registry) -> None:
    three_versions.set_alias("iris", "production", 2)
    three_versions.remove_alias("iris", "production")

    three_versions.rollback("iris", "production")

    assert three_versions.get("iris@production").version == 2


def test_rollback_refuses_when_previous_target_was_deleted(three_versions: Registry) -> None:
    three_versions.set_alias("iris", "production", 1)
    three_versions.set_alias("iris", "production", 2)
    three_versions.delete("iris:1")

    with pytest.raises(ConflictError, match="version 1, was deleted"):
        three_versions.rollback("iris", "production")
    assert three_versions.get("iris@production").version == 2


def test_aliases_of_one_model_are_independent(three_versions: Registry) -> None:
    three_versions.set_alias("iris", "production", 1)
    three_versions.set_alias("iris", "staging", 2)
    three_versions.set_alias("iris", "staging", 3)

    three_versions.rollback("iris", "staging")

    assert three_versions.get("iris@staging").version == 2
    assert three_versions.get("iris@production").version == 1


def test_alias_to_unknown_version_or_model_says_what_exists(three_versions: Registry) -> None:
    with pytest.raises(NotFoundError, match="no version 9: model 'iris' has versions 1-3"):
        three_versions.set_alias("iris", "production", 9)
    with pytest.raises(NotFoundError, match="no model named 'wine'"):
        three_versions.set_alias("wine", "production", 1)
    with pytest.raises(NotFoundError, match="no alias 'canary'"):
        three_versions.remove_alias("iris", "canary")
    assert three_versions.history("iris") == []


def test_invalid_or_reserved_alias_names_are_refused(three_versions: Registry) -> None:
    for alias in ("latest", "Prod", "../x", "1st", "", "a/b"):
        with pytest.raises(InvalidNameError):
            three_versions.set_alias("iris", alias, 1)
    assert three_versions.history("iris") == []
