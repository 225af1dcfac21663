from __future__ import annotations

import pytest

from shipyard.errors import InvalidInputError
from shipyard.tracking.filters import (
    EXPERIMENT_FILTERS,
    LOGGED_MODEL_FILTERS,
    Clause,
    OrderBy,
    parse_filter,
    parse_order_by,
)


def test_filter_parses_comparisons_joined_by_and() -> None:
    clauses = parse_filter(
        "metrics.auc > 0.9 and params.depth = '5' AND tags.`mlflow.user` LIKE 'an%'"
        " and attributes.status IN ('FINISHED', 'FAILED') and attr.start_time >= 1700"
    )
    assert clauses == (
        Clause("metric", "auc", ">", 0.9),
        Clause("param", "depth", "=", "5"),
        Clause("tag", "mlflow.user", "LIKE", "an%"),
        Clause("attribute", "status", "IN", ("FINISHED", "FAILED")),
        Clause("attribute", "start_time", ">=", 1700),
    )


def test_filter_accepts_quoted_keys_and_escaped_quotes() -> None:
    assert parse_filter("metric.\"val loss\" <= -1e-3 and tags.note = 'it''s'") == (
        Clause("metric", "val loss", "<=", -0.001),
        Clause("tag", "note", "=", "it's"),
    )


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_filter_is_no_clause(text: str | None) -> None:
    assert parse_filter(text) == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.auc > high", "is not a number"),
        ("params.depth = 5", "quote the value"),
        ("metrics.a > 1 or metrics.b < 2", "expected AND"),
        ("foo.a = 1", "unknown prefix"),
        ("metrics.auc", "unexpected end"),
        ("metrics.auc LIKE 'x'", "not allowed"),
        ("attributes.colour = 'red'", "unknown attribute"),
        ("params.a IN ('x')", "not allowed"),
        ("metrics.a > 1 and", "unexpected end"),
        ("metrics.a > 1 ; drop table x", "cannot parse"),
    ],
)
def test_bad_filter_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_filter(text)


def test_order_by_defaults_to_ascending_attribute() -> None:
    assert parse_order_by("metrics.auc DESC") == OrderBy("metric", "auc", ascending=False)
    assert parse_order_by("start_time") == OrderBy("attribute", "start_time", ascending=True)
    assert parse_order_by("params.`lr` asc") == OrderBy("param", "lr", ascending=True)


def test_filter_of_100_clauses_parses_and_101_is_refused() -> None:
    clauses = " and ".join(f"metrics.m{i} > {i}" for i in range(100))
    assert len(parse_filter(clauses)) == 100
    with pytest.raises(InvalidInputError, match="more than 100 comparisons"):
        parse_filter(clauses + " and metrics.extra > 0")


def test_clause_limit_stops_reading_before_the_rest_of_a_long_filter() -> None:
    """A 20,000-clause filter is refused at clause 101: the garbage after it is never tokenized
    (an eager tokenizer would report it as a parse error instead)."""
    head = " and ".join(f"metrics.m{i} > 1" for i in range(20_000))
    with pytest.raises(InvalidInputError, match="more than 100 comparisons") as raised:
        parse_filter(head + " ; " + "#" * 100_000)
    assert len(str(raised.value)) < 500  # the filter is quoted cut short


def test_in_lists_hold_at_most_1000_values() -> None:
    values = ", ".join(f"'s{i}'" for i in range(1001))
    with pytest.raises(InvalidInputError, match="more than 1000 values"):
        parse_filter(f"attributes.status IN ({values})")


@pytest.mark.parametrize("value", ["1e30", "-1e19", "1e400"])
def test_time_attributes_out_of_64_bits_are_refused(value: str) -> None:
    with pytest.raises(InvalidInputError, match="out of range"):
        parse_filter(f"attributes.start_time > {value}")


def test_experiment_filters_take_bare_attributes_and_tag_null_checks() -> None:
    clauses = parse_filter(
        "name LIKE 'churn%' AND tags.team IS NOT NULL AND tags.`old tag` IS NULL "
        "AND creation_time > 5",
        EXPERIMENT_FILTERS,
    )
    assert clauses == (
        Clause("attribute", "name", "LIKE", "churn%"),
        Clause("tag", "team", "IS NOT NULL", ""),
        Clause("tag", "old tag", "IS NULL", ""),
        Clause("attribute", "creation_time", ">", 5),
    )
    assert parse_order_by("name DESC", EXPERIMENT_FILTERS) == OrderBy("attribute", "name", False)


@pytest.mark.parametrize(
    "text",
    ["metrics.auc > 1", "params.x = '1'", "tags.x IS MAYBE", "start_time > 1", "name = 3"],
)
def test_experiment_filters_refuse_what_experiments_do_not_have(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_filter(text, EXPERIMENT_FILTERS)


def test_logged_model_filters_take_metrics_params_and_in_lists() -> None:
    assert parse_filter(
        "metrics.acc >= 0.9 AND params.lr IN ('0.1', '0.2') AND creation_time > 1",
        LOGGED_MODEL_FILTERS,
    ) == (
        Clause("metric", "acc", ">=", 0.9),
        Clause("param", "lr", "IN", ("0.1", "0.2")),
        Clause("attribute", "creation_timestamp", ">", 1),
    )
    with pytest.raises(InvalidInputError):
        parse_filter("tags.x IS NULL", LOGGED_MODEL_FILTERS)
