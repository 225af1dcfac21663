"""ModelRef parsing and name/alias validation."""

from __future__ import annotations

import pytest

from shipyard.errors import InvalidNameError
from shipyard.refs import ModelRef, validate_alias, validate_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("iris", ModelRef("iris")),
        ("iris:latest", ModelRef("iris")),
        ("iris:3", ModelRef("iris", version=3)),
        ("iris@production", ModelRef("iris", alias="production")),
        ("churn-model.v2_b", ModelRef("churn-model.v2_b")),
    ],
)
def test_parse_accepts_every_reference_form(text: str, expected: ModelRef) -> None:
    assert ModelRef.parse(text) == expected


def test_str_round_trips_through_parse() -> None:
    for text in ("iris:3", "iris@staging", "iris:latest"):
        assert str(ModelRef.parse(text)) == text
    assert ModelRef.parse("iris").is_latest


@pytest.mark.parametrize(
    "name",
    ["", "..", "../etc", "a/b", "a\\b", "Iris", ".hidden", "-x", "a..b", "x" * 129, "a b", "é"],
)
def test_validate_name_rejects_traversal_and_bad_characters(name: str) -> None:
    with pytest.raises(InvalidNameError, match="lowercase letters"):
        validate_name(name)


def test_validate_name_accepts_128_characters() -> None:
    assert validate_name("a" * 128) == "a" * 128


@pytest.mark.parametrize(
    "text", ["iris:abc", "iris:0", "iris:-1", "iris@", "iris@Prod", "@prod", "  "]
)
def test_parse_rejects_malformed_references_with_a_hint(text: str) -> None:
    with pytest.raises(InvalidNameError):
        ModelRef.parse(text)


def test_latest_is_a_reserved_alias() -> None:
    with pytest.raises(InvalidNameError, match="reserved"):
        validate_alias("latest")


def test_ref_refuses_version_and_alias_together() -> None:
    with pytest.raises(InvalidNameError, match="not both"):
        ModelRef("iris", version=1, alias="production")
