from __future__ import annotations

import pytest

from shipyard.errors import InvalidInputError
from shipyard.tracking.filters import Clause, OrderBy, parse_filter, parse_order_by


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
