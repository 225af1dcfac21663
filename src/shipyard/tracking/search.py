"""Compile parsed filters and order-by terms into one SQL query over runs.

Metric filters and orderings read ``tracking_latest_metrics`` (one row per run and key, indexed by
``(key, value)``), never the history. Runs without the ordered metric come last, as in MLflow; ties
are broken by start time (newest first) and run id, so pages are stable.

    >>> query = run_id_query(["1"], parse_filter("metrics.auc > 0.9"), [parse_order_by(...)],
    ...                      stages, limit=101, offset=0, dialect="sqlite")
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from shipyard.errors import InvalidInputError
from shipyard.tracking import tables as t
from shipyard.tracking.entities import LifecycleStage
from shipyard.tracking.filters import Clause, OrderBy
from shipyard.tracking.validation import experiment_number

__all__ = [
    "MetricOrderQueries",
    "attribute_value",
    "compare",
    "decode_page_token",
    "encode_page_token",
    "metric_order_queries",
    "run_id_query",
]

_RUN_COLUMNS = {
    "run_id": t.runs.c.run_id,
    "run_name": t.runs.c.name,
    "status": t.runs.c.status,
    "user_id": t.runs.c.user_id,
    "artifact_uri": t.runs.c.artifact_uri,
    "lifecycle_stage": t.runs.c.lifecycle_stage,
    "start_time": t.runs.c.start_time,
    "end_time": t.runs.c.end_time,
}


MAX_OFFSET = 2**62
"""The largest offset a page token may hold (so that offset + limit stays a 64-bit int)."""


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset a page token stands for (0 for none); ``InvalidInputError`` if it is garbage."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(
            f"invalid page token {token!r}: pass one a search returned"
        ) from exc
    if type(offset) is not int or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInputError(f"invalid page token {token!r}: pass one a search returned")
    return offset


def compare(column: Any, op: str, value: Any, dialect: str) -> sa.ColumnElement[bool]:
    """``column op value`` in SQL; LIKE is case-sensitive on both backends (GLOB on SQLite)."""
    if op == "=":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op == "IN":
        return column.in_(value)  # type: ignore[no-any-return]
    if op == "NOT IN":
        return column.not_in(value)  # type: ignore[no-any-return]
    if op == "ILIKE":
        return column.ilike(value)  # type: ignore[no-any-return]
    if dialect == "sqlite":  # SQLite's LIKE ignores case: GLOB is the case-sensitive LIKE
        return column.op("GLOB")(_like_to_glob(value))  # type: ignore[no-any-return]
    return column.like(value)  # type: ignore[no-any-return]


def _like_to_glob(pattern: str) -> str:
    out = []
    for char in pattern:
        if char in "*?[":
            out.append(f"[{char}]")
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(char)
    return "".join(out)


def _filtered(
    experiment_ids: Sequence[int],
    clauses: Sequence[Clause],
    stages: Sequence[LifecycleStage],
    dialect: str,
) -> tuple[Any, list[sa.ColumnElement[bool]]]:
    """The joins and conditions that select the runs matching ``clauses``."""
    runs = t.runs
    from_: Any = runs
    where: list[sa.ColumnElement[bool]] = [
        runs.c.experiment_id.in_(list(experiment_ids)),
        runs.c.lifecycle_stage.in_([str(stage) for stage in stages]),
    ]
    for number, clause in enumerate(clauses):
        if clause.kind == "attribute":
            where.append(compare(_RUN_COLUMNS[clause.key], clause.op, clause.value, dialect))
            continue
        # A correlated EXISTS (a primary-key probe per candidate run) rather than a join: the
        # planner cannot start from a big params or tags scan, whatever its statistics say.
        alias = _TABLES[clause.kind].alias(f"f{number}")
        conditions = [
            alias.c.run_id == runs.c.run_id,
            alias.c.key == clause.key,
            compare(alias.c.value, clause.op, clause.value, dialect),
        ]
        if clause.kind == "metric":
            conditions.append(alias.c.is_nan.is_(False))
        where.append(sa.exists().where(*conditions))
    return from_, where


_TABLES = {"metric": t.latest_metrics, "param": t.run_params, "tag": t.run_tags}
_TIE_BREAK = (t.runs.c.start_time.desc(), t.runs.c.run_id.asc())


def run_id_query(
    experiment_ids: Sequence[int],
    clauses: Sequence[Clause],
    order_by: Sequence[OrderBy],
    stages: Sequence[LifecycleStage],
    *,
    limit: int,
    offset: int,
    dialect: str,
) -> sa.Select[Any]:
    """A ``SELECT run_id`` for one page of the search, in order (any mix of order terms)."""
    runs = t.runs
    from_, where = _filtered(experiment_ids, clauses, stages, dialect)
    ordering: list[Any] = []
    for number, term in enumerate(order_by):
        if term.kind == "attribute":
            column: Any = _RUN_COLUMNS[term.key]
        else:
            alias = _TABLES[term.kind].alias(f"o{number}")
            on = sa.and_(alias.c.run_id == runs.c.run_id, alias.c.key == term.key)
            from_ = from_.outerjoin(alias, on)
            column = alias.c.value
            if term.kind == "metric":  # NaN sorts after every number, then missing values
                ordering.append(sa.case((alias.c.value.is_(None), 2), (alias.c.is_nan, 1), else_=0))
        if term.kind != "metric":
            ordering.append(sa.case((column.is_(None), 1), else_=0))
        ordering.append(column.asc() if term.ascending else column.desc())
    ordering.extend(_TIE_BREAK)
    query = sa.select(runs.c.run_id).select_from(from_).where(*where).order_by(*ordering)
    return query.limit(limit).offset(offset)


@dataclass(frozen=True, slots=True)
class MetricOrderQueries:
    """The fast plan for the commonest search, ordered by one metric.

    ``valued`` walks the ``(key, value)`` index in order and stops after one page, instead of
    sorting every run; ``rest`` (runs whose value is NaN, then runs without the metric) is only
    read when a page reaches past the runs that have a value. Same order as ``run_id_query``.
    """

    valued: sa.Select[Any]
    valued_count: sa.Select[Any]
    rest: sa.Select[Any]


def metric_order_queries(
    experiment_ids: Sequence[int],
    clauses: Sequence[Clause],
    term: OrderBy,
    stages: Sequence[LifecycleStage],
    dialect: str,
) -> MetricOrderQueries:
    runs = t.runs
    # Conditions on the ordered metric itself go on the one join the order walks, so the
    # (key, value) index serves both the range and the order (no second join, no sort).
    same = [c for c in clauses if c.kind == "metric" and c.key == term.key]
    others = [c for c in clauses if not (c.kind == "metric" and c.key == term.key)]
    from_, where = _filtered(experiment_ids, others, stages, dialect)
    metric = t.latest_metrics.alias("o0")
    on = sa.and_(metric.c.run_id == runs.c.run_id, metric.c.key == term.key)
    value = metric.c.value.asc() if term.ascending else metric.c.value.desc()
    where += [compare(metric.c.value, c.op, c.value, dialect) for c in same]
    valued_where = [*where, metric.c.is_nan.is_(False)]
    valued_from = from_.join(metric, on)
    rest_where = [*where, sa.or_(metric.c.run_id.is_(None), metric.c.is_nan.is_(True))]
    return MetricOrderQueries(
        valued=sa.select(runs.c.run_id)
        .select_from(valued_from)
        .where(*valued_where)
        .order_by(value, *_TIE_BREAK),
        valued_count=sa.select(sa.func.count()).select_from(valued_from).where(*valued_where),
        rest=sa.select(runs.c.run_id)
        .select_from(from_.outerjoin(metric, on))
        .where(*rest_where)
        .order_by(sa.case((metric.c.run_id.is_(None), 1), else_=0), *_TIE_BREAK),
    )


def attribute_value(clause: Clause) -> Any:
    """The value an attribute clause compares with: experiment ids as numbers (``=``, ``!=``,
    ``IN``, ``NOT IN`` only), everything else as given."""
    value: Any = clause.value
    if clause.key != "experiment_id":
        return value
    if clause.op not in ("=", "!=", "IN", "NOT IN"):
        raise InvalidInputError("experiment_id compares with =, !=, IN or NOT IN")
    values = value if isinstance(value, tuple) else (value,)
    numbers = tuple(experiment_number(v) for v in values)
    return numbers if isinstance(value, tuple) else numbers[0]
