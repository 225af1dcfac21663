"""The run filter and order-by grammar, shared by the CLI, the MLflow search endpoint and the API.

A subset of MLflow's search syntax: comparisons joined by ``AND``.

    metrics.auc > 0.9 and params.depth = '5' and tags.`mlflow.user` LIKE 'an%'
    attributes.status IN ('FINISHED', 'FAILED') and attributes.start_time >= 1700000000000

Prefixes: ``metrics``/``metric``, ``params``/``param``, ``tags``/``tag``,
``attributes``/``attribute``/``attr``/``run``. Keys may be quoted with backticks or double quotes.
Metrics and the time attributes compare numbers (``= != < <= > >=``); params, tags and the other
attributes compare strings (``= != LIKE ILIKE``, and ``IN``/``NOT IN`` for attributes).

A filter holds at most ``MAX_FILTER_CLAUSES`` comparisons and ``MAX_IN_VALUES`` values in its
``IN`` lists. It is tokenized lazily in one pass, so an over-long filter is refused once that many
clauses are read, whatever its length.

    >>> parse_filter("metrics.auc > 0.9")
    (Clause(kind='metric', key='auc', op='>', value=0.9),)
    >>> parse_order_by("metrics.auc DESC")
    OrderBy(kind='metric', key='auc', ascending=False)

Experiments and logged models are searched with the same grammar over their own fields
(``EXPERIMENT_FILTERS``, ``LOGGED_MODEL_FILTERS``): a bare name is an attribute there
(``name LIKE 'churn%' AND tags.team = 'ml'``), and experiments' tags take ``IS [NOT] NULL``.

    >>> parse_filter("name = 'x' and tags.team IS NULL", EXPERIMENT_FILTERS)
    (Clause(kind='attribute', key='name', op='=', value='x'), Clause(kind='tag', ...))
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

from shipyard.errors import InvalidInputError
from shipyard.tracking.validation import INT64_MAX, INT64_MIN

__all__ = [
    "EXPERIMENT_FILTERS",
    "LOGGED_MODEL_FILTERS",
    "MAX_FILTER_CLAUSES",
    "MAX_IN_VALUES",
    "RUN_FILTERS",
    "Clause",
    "Grammar",
    "OrderBy",
    "parse_filter",
    "parse_order_by",
]

Kind = Literal["metric", "param", "tag", "attribute"]
Op = Literal[
    "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"
]

_PREFIXES: dict[str, Kind] = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
MAX_FILTER_CLAUSES = 100
MAX_IN_VALUES = 1000
_SHOWN_CHARS = 200  # of a filter quoted in an error message


@dataclass(frozen=True, slots=True)
class Grammar:
    """What one kind of entity may be filtered and ordered by."""

    prefixes: Mapping[str, Kind]
    numeric_attributes: frozenset[str]
    string_attributes: frozenset[str]
    aliases: Mapping[str, str] = field(default_factory=dict)
    bare_attributes: bool = False
    """A name without a prefix (``name = 'x'``) is an attribute."""
    null_checks: frozenset[Kind] = frozenset()
    """Kinds that take ``IS NULL`` / ``IS NOT NULL`` (a key set or not)."""
    in_kinds: frozenset[Kind] = frozenset({"attribute"})
    """String kinds that take ``IN`` / ``NOT IN`` lists."""

    @property
    def attributes(self) -> frozenset[str]:
        return self.numeric_attributes | self.string_attributes


RUN_FILTERS = Grammar(
    prefixes=_PREFIXES,
    numeric_attributes=frozenset({"start_time", "end_time"}),
    string_attributes=frozenset(
        {"run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"}
    ),
    aliases={"run_uuid": "run_id", "created": "start_time", "Created": "start_time"},
)
EXPERIMENT_FILTERS = Grammar(
    prefixes={k: v for k, v in _PREFIXES.items() if v in ("attribute", "tag") and k != "run"},
    numeric_attributes=frozenset({"creation_time", "last_update_time"}),
    string_attributes=frozenset({"name", "experiment_id"}),
    bare_attributes=True,
    null_checks=frozenset({"tag"}),
)
"""MLflow's ``search_experiments`` grammar: name, experiment_id, the two times, tags."""
LOGGED_MODEL_FILTERS = Grammar(
    prefixes={k: v for k, v in _PREFIXES.items() if k != "run"},
    numeric_attributes=frozenset({"creation_timestamp", "last_updated_timestamp"}),
    string_attributes=frozenset(
        {"name", "model_id", "model_type", "status", "source_run_id", "experiment_id"}
    ),
    aliases={
        "creation_time": "creation_timestamp",
        "creation_timestamp_ms": "creation_timestamp",
        "last_updated_timestamp_ms": "last_updated_timestamp",
    },
    bare_attributes=True,
    in_kinds=frozenset({"attribute", "param", "tag"}),
)
"""MLflow's ``search_logged_models`` grammar: attributes, metrics, params, tags."""
_NUMERIC_OPS: frozenset[str] = frozenset({"=", "!=", "<", "<=", ">", ">="})
_STRING_OPS: frozenset[str] = frozenset({"=", "!=", "LIKE", "ILIKE"})

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<ident>[A-Za-z_]+\.(?:`[^`]+`|"[^"]+"|[\w./:\-]+))
    | (?P<string>'(?:[^']|'')*')
    | (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))
    | (?P<op>!=|<=|>=|=|<|>)
    | (?P<word>[A-Za-z_]+)
    | (?P<paren>[(),])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Clause:
    """One comparison: ``kind.key op value``."""

    kind: Kind
    key: str
    op: Op
    value: float | str | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrderBy:
    """One ordering term: ``kind.key ASC|DESC``."""

    kind: Kind
    key: str
    ascending: bool = True


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    """``(kind, lexeme)`` pairs, one regex match each: linear in the filter's length."""
    position, end = 0, len(text.rstrip())
    while position < end:
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            raise InvalidInputError(
                f"cannot parse the filter {_shown(text)} at {_shown(text[position:])}: write "
                "comparisons like metrics.auc > 0.9 and params.depth = '5'"
            )
        kind = found.lastgroup or ""
        yield kind, found.group(kind)
        position = found.end()


def _shown(text: str) -> str:
    """``text`` quoted for a message, cut to its first ``_SHOWN_CHARS`` characters."""
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return f"{text[:_SHOWN_CHARS]!r}... ({len(text)} characters)"


def _identifier(text: str, source: str, grammar: Grammar) -> tuple[Kind, str]:
    prefix, _, key = text.partition(".")
    kind = grammar.prefixes.get(prefix.lower())
    if kind is None:
        known = ", ".join(sorted({f"{k}." for k in grammar.prefixes if k.endswith("s")}))
        raise InvalidInputError(f"unknown prefix {prefix!r} in {source!r}: use {known}")
    if key[:1] in ("`", '"'):
        key = key[1:-1]
    if kind == "attribute":
        key = grammar.aliases.get(key, key)
        if key not in grammar.attributes:
            known = ", ".join(sorted(grammar.attributes))
            raise InvalidInputError(f"unknown attribute {key!r} in {source!r}: use one of {known}")
    return kind, key


def _is_numeric(kind: Kind, key: str, grammar: Grammar) -> bool:
    return kind == "metric" or (kind == "attribute" and key in grammar.numeric_attributes)


def parse_filter(text: str | None, grammar: Grammar = RUN_FILTERS) -> tuple[Clause, ...]:
    """The clauses of ``text`` (empty for an empty filter); ``InvalidInputError`` if malformed."""
    if text is None or not text.strip():
        return ()
    return _Parser(text, grammar).clauses()


class _Parser:
    """A cursor over the tokens of one filter string, read as the parse needs them."""

    def __init__(self, text: str, grammar: Grammar) -> None:
        self.text = text
        self.grammar = grammar
        self._tokens = _tokens(text)
        self._next = next(self._tokens, None)
        self._in_values = 0

    def _error(self, message: str) -> InvalidInputError:
        return InvalidInputError(f"{message} in the filter {_shown(self.text)}")

    def _take(self) -> tuple[str, str]:
        token = self._next
        if token is None:
            raise self._error("unexpected end: finish the comparison")
        self._next = next(self._tokens, None)
        return token

    def clauses(self) -> tuple[Clause, ...]:
        found: list[Clause] = []
        while True:
            if len(found) == MAX_FILTER_CLAUSES:
                raise self._error(
                    f"more than {MAX_FILTER_CLAUSES} comparisons (the most a filter may hold)"
                )
            lexeme, ident = self._take()
            if lexeme == "word" and self.grammar.bare_attributes:
                ident = f"attributes.{ident}"
            elif lexeme != "ident":
                raise self._error(f"expected an identifier like metrics.auc, got {ident!r}")
            kind, key = _identifier(ident, self.text, self.grammar)
            found.append(self._comparison(kind, key))
            if self._next is None:
                return tuple(found)
            word_kind, word = self._take()
            if word_kind != "word" or word.upper() != "AND":
                raise self._error(f"expected AND between comparisons, got {word!r} (no OR)")

    def _comparison(self, kind: Kind, key: str) -> Clause:
        op_kind, op = self._take()
        op = op.upper()
        if op_kind == "word" and op == "NOT":
            if self._take()[1].upper() != "IN":
                raise self._error("expected NOT IN")
            op = "NOT IN"
        elif op_kind == "word" and op == "IS":
            negated = self._next is not None and self._next[1].upper() == "NOT"
            if negated:
                self._take()
            if self._take()[1].upper() != "NULL":
                raise self._error("expected IS NULL or IS NOT NULL")
            op = "IS NOT NULL" if negated else "IS NULL"
        elif op_kind not in ("op", "word"):
            raise self._error(f"expected a comparator after {kind} {key!r}")
        numeric = _is_numeric(kind, key, self.grammar)
        allowed = _NUMERIC_OPS if numeric else _STRING_OPS
        if kind in self.grammar.in_kinds and not numeric:
            allowed = allowed | {"IN", "NOT IN"}
        if kind in self.grammar.null_checks:
            allowed = allowed | {"IS NULL", "IS NOT NULL"}
        if op not in allowed:
            choices = ", ".join(sorted(allowed))
            raise self._error(
                f"comparator {op!r} is not allowed for {kind} {key!r} (use {choices})"
            )
        if op in ("IN", "NOT IN"):
            return Clause(kind, key, cast(Op, op), self._string_list())
        if op in ("IS NULL", "IS NOT NULL"):
            return Clause(kind, key, cast(Op, op), "")
        value_kind, raw = self._take()
        if numeric:
            if value_kind != "number":
                raise self._error(f"{kind} {key!r} compares numbers: {raw!r} is not a number")
            return Clause(kind, key, cast(Op, op), self._number(kind, key, raw))
        if value_kind != "string":
            raise self._error(f"{kind} {key!r} compares strings: quote the value, e.g. '{raw}'")
        return Clause(kind, key, cast(Op, op), _unquote(raw))

    def _number(self, kind: Kind, key: str, raw: str) -> float | int:
        number = float(raw)
        if kind == "metric":
            return number
        if not (math.isfinite(number) and INT64_MIN <= number <= INT64_MAX):
            raise self._error(f"{kind} {key!r} is a time in ms: {raw} is out of range")
        return int(number)

    def _string_list(self) -> tuple[str, ...]:
        if self._take()[1] != "(":
            raise self._error("IN needs a list like ('a', 'b')")
        values: list[str] = []
        while True:
            kind, raw = self._take()
            if kind == "string":
                self._in_values += 1
                if self._in_values > MAX_IN_VALUES:
                    raise self._error(f"more than {MAX_IN_VALUES} values in IN lists")
                values.append(_unquote(raw))
            elif raw == ")":
                if not values:
                    raise self._error("IN needs at least one value")
                return tuple(values)
            elif raw != ",":
                raise self._error(f"IN lists hold quoted strings; got {raw!r}")


def _unquote(raw: str) -> str:
    return raw[1:-1].replace("''", "'")


def parse_order_by(text: str, grammar: Grammar = RUN_FILTERS) -> OrderBy:
    """One ``order_by`` term: ``metrics.auc DESC``, ``attributes.start_time`` (ASC by default)."""
    parts = text.strip().rsplit(None, 1)
    ascending = True
    if len(parts) == 2 and parts[1].upper() in ("ASC", "DESC"):
        ascending = parts[1].upper() == "ASC"
        text = parts[0]
    ident = text.strip()
    if "." not in ident:
        ident = f"attributes.{ident}"
    kind, key = _identifier(ident, text, grammar)
    return OrderBy(kind, key, ascending)
