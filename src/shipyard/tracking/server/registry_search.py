"""MLflow's model registry search grammar: filters, ``order_by`` and page tokens.

Filters are comparisons joined by ``AND``, as MLflow's ``SearchModelVersionUtils`` and
``SearchUtils`` for registered models read them:

    name = 'churn' AND tags.team = 'growth'
    run_id IN ('0a1b...', '2c3d...') AND version_number > 2
    name LIKE 'churn%'                     (LIKE and ILIKE: % any run, _ one character)

Keys: ``name``, ``run_id``, ``source_path``, ``version_number`` (versions), ``tags.<key>``
(backticks or double quotes around a key with dots or spaces), each optionally prefixed with
``attributes.``. Orders: ``name``, ``version_number``, ``creation_timestamp``,
``last_updated_timestamp`` (``timestamp``), ``ASC`` or ``DESC``. Page tokens are MLflow's: base64
of ``{"offset": N}``.

    >>> clauses = parse_registry_filter("name = 'churn' and tags.team = 'growth'", VERSION_KEYS)
    >>> [c.key for c in clauses]
    ['name', 'team']
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from shipyard.errors import InvalidInputError
from shipyard.tracking.filters import MAX_FILTER_CLAUSES, MAX_IN_VALUES

__all__ = [
    "MODEL_KEYS",
    "VERSION_KEYS",
    "RegistryClause",
    "matches",
    "order_terms",
    "page",
    "page_offset",
    "page_token",
    "parse_registry_filter",
    "sort_by",
]

VERSION_KEYS = frozenset({"name", "run_id", "source_path", "version_number"})
MODEL_KEYS = frozenset({"name"})
_ORDER_KEYS = {
    "name": "name",
    "version_number": "version_number",
    "version": "version_number",
    "creation_timestamp": "creation_timestamp",
    "timestamp": "last_updated_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<ident>(?:[A-Za-z_]+\.)?(?:`[^`]+`|"[^"]+"|[A-Za-z_][\w.\-]*))
    | (?P<string>'(?:[^']|'')*')
    | (?P<number>-?\d+)
    | (?P<op>!=|<=|>=|=|<|>)
    | (?P<paren>[(),])
    )""",
    re.VERBOSE,
)
_WORDS = {"AND", "LIKE", "ILIKE", "IN", "NOT"}
_TAG_DEFAULTS = {"mlflow.prompt.is_prompt": "false"}
Op = Literal["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"]


@dataclass(frozen=True, slots=True)
class RegistryClause:
    """``key op value``; ``is_tag`` for ``tags.<key>``."""

    key: str
    op: Op
    value: str | int | tuple[str, ...]
    is_tag: bool = False


def parse_registry_filter(
    text: str | None,
    keys: frozenset[str],
    *,
    numeric: Set[str] = frozenset({"version_number"}),
    listed: Set[str] = frozenset({"name", "run_id"}),
) -> tuple[RegistryClause, ...]:
    """The clauses of ``text`` over attribute ``keys`` (``numeric`` ones compare with numbers,
    ``listed`` ones take ``IN``) and tags; ``InvalidInputError`` names what cannot be read."""
    if text is None or not text.strip():
        return ()
    tokens = list(_tokens(text))
    clauses: list[RegistryClause] = []
    position = 0
    while True:
        clause, position = _clause(tokens, position, (keys, numeric, listed), text)
        clauses.append(clause)
        if len(clauses) > MAX_FILTER_CLAUSES:
            raise InvalidInputError(f"a filter holds at most {MAX_FILTER_CLAUSES} comparisons")
        if position == len(tokens):
            return tuple(clauses)
        if tokens[position] != ("word", "AND"):
            raise InvalidInputError(
                f"expected AND in the filter {text!r} at {tokens[position][1]!r}"
            )
        position += 1


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    position, end = 0, len(text.rstrip())
    while position < end:
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            raise InvalidInputError(
                f"cannot parse the filter {text[:200]!r} at {text[position : position + 40]!r}: "
                "write comparisons like name = 'churn' AND tags.team = 'growth'"
            )
        kind = found.lastgroup or ""
        lexeme = found.group(kind)
        if kind == "ident" and lexeme.upper() in _WORDS:
            yield "word", lexeme.upper()
        else:
            yield kind, lexeme
        position = found.end()


def _clause(
    tokens: list[tuple[str, str]],
    position: int,
    grammar: tuple[frozenset[str], Set[str], Set[str]],
    text: str,
) -> tuple[RegistryClause, int]:
    keys, numeric_keys, listed = grammar

    def at(offset: int) -> tuple[str, str]:
        index = position + offset
        return tokens[index] if index < len(tokens) else ("end", "")

    kind, ident = at(0)
    if kind != "ident":
        raise InvalidInputError(f"expected a key like name or tags.team in the filter {text!r}")
    key, is_tag = _key(ident, keys)
    op_kind, op = at(1)
    used = 2
    if (op_kind, op) == ("word", "NOT") and at(2) == ("word", "IN"):
        op, used = "NOT IN", 3
    elif op_kind not in ("op", "word") or op not in (
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "LIKE",
        "ILIKE",
        "IN",
    ):
        raise InvalidInputError(f"expected a comparison after {ident!r} in the filter {text!r}")
    numeric = key in numeric_keys and not is_tag
    allowed = {"=", "!=", "<", "<=", ">", ">="} if numeric else {"=", "!=", "LIKE", "ILIKE"}
    if not is_tag and key in listed:
        allowed |= {"IN", "NOT IN"}
    if op not in allowed:
        raise InvalidInputError(
            f"{ident} cannot be compared with {op} (use {', '.join(sorted(allowed))})"
        )
    position += used
    if op in ("IN", "NOT IN"):
        values, position = _in_list(tokens, position, text)
        return RegistryClause(key, op, values, is_tag), position  # type: ignore[arg-type]
    value_kind, raw = tokens[position] if position < len(tokens) else ("end", "")
    if numeric:
        if value_kind != "number":
            raise InvalidInputError(f"{key} compares with a number in the filter {text!r}")
        return RegistryClause(key, op, int(raw), is_tag), position + 1  # type: ignore[arg-type]
    if value_kind != "string":
        raise InvalidInputError(f"{ident} compares with a quoted string in the filter {text!r}")
    return RegistryClause(key, op, _unquote(raw), is_tag), position + 1  # type: ignore[arg-type]


def _key(ident: str, keys: frozenset[str]) -> tuple[str, bool]:
    prefix, dot, rest = ident.partition(".")
    if dot and prefix.lower() in ("tag", "tags"):
        return _unquote_key(rest), True
    if dot and prefix.lower() in ("attribute", "attributes", "attr"):
        ident = rest
    key = _unquote_key(ident)
    if key not in keys:
        raise InvalidInputError(
            f"invalid filter key {key!r}: use {', '.join(sorted(keys))} or tags.<key>"
        )
    return key, False


def _unquote_key(key: str) -> str:
    return key[1:-1] if key[:1] in ("`", '"') and len(key) > 1 else key


def _unquote(raw: str) -> str:
    return raw[1:-1].replace("''", "'")


def _in_list(
    tokens: list[tuple[str, str]], position: int, text: str
) -> tuple[tuple[str, ...], int]:
    if position >= len(tokens) or tokens[position] != ("paren", "("):
        raise InvalidInputError(f"IN takes a list like ('a', 'b') in the filter {text!r}")
    values: list[str] = []
    position += 1
    while position < len(tokens):
        kind, raw = tokens[position]
        if kind != "string":
            break
        values.append(_unquote(raw))
        if len(values) > MAX_IN_VALUES:
            raise InvalidInputError(f"an IN list holds at most {MAX_IN_VALUES} values")
        following = tokens[position + 1] if position + 1 < len(tokens) else ("end", "")
        position += 2
        if following == ("paren", ")"):
            return tuple(values), position
        if following != ("paren", ","):
            break
    raise InvalidInputError(f"IN takes a list like ('a', 'b') in the filter {text!r}")


def matches(
    clauses: Sequence[RegistryClause], attributes: Mapping[str, Any], tags: Mapping[str, str]
) -> bool:
    """Whether an entity with ``attributes`` and ``tags`` meets every clause. A model without
    MLflow's prompt tag is not a prompt (the client adds ``tags.`mlflow.prompt.is_prompt` !=
    'true'`` to every search)."""
    return all(
        _meets(c, tags.get(c.key, _TAG_DEFAULTS.get(c.key)) if c.is_tag else attributes.get(c.key))
        for c in clauses
    )


def _meets(clause: RegistryClause, actual: Any) -> bool:
    if actual is None:
        return clause.op in ("!=", "NOT IN") and not clause.is_tag
    value, op = clause.value, clause.op
    if op == "IN":
        return str(actual) in value  # type: ignore[operator]
    if op == "NOT IN":
        return str(actual) not in value  # type: ignore[operator]
    if op in ("LIKE", "ILIKE"):
        pattern = re.escape(str(value)).replace("%", ".*").replace("_", ".")
        flags = re.IGNORECASE | re.DOTALL if op == "ILIKE" else re.DOTALL
        return re.fullmatch(pattern, str(actual), flags) is not None
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return compare[op](actual, value)


T = TypeVar("T")


def sort_by(
    items: list[T],
    order_by: Sequence[str],
    default: Sequence[str],
    value: Callable[[T, str], Any],
    *,
    keys: Mapping[str, str] = _ORDER_KEYS,
) -> list[T]:
    """``items`` ordered by ``order_by`` (else ``default``), each term ``KEY [ASC|DESC]`` with
    a KEY of ``keys`` (a name -> the key ``value`` takes); a stable sort."""
    terms = order_terms(order_by, default, keys)
    ordered = list(items)
    for key, ascending in reversed(terms):
        ordered.sort(key=lambda item: value(item, key), reverse=not ascending)
    return ordered


def _order_term(term: str, keys: Mapping[str, str]) -> tuple[str, bool]:
    parts = term.split()
    key = parts[0].removeprefix("attributes.") if parts else ""
    direction = parts[1].upper() if len(parts) == 2 else "ASC"
    if key not in keys or len(parts) > 2 or direction not in ("ASC", "DESC"):
        raise InvalidInputError(
            f"invalid order_by {term!r}: use {', '.join(sorted(set(keys.values())))}, then ASC "
            "or DESC"
        )
    return keys[key], direction == "ASC"


def order_terms(
    order_by: Sequence[str], default: Sequence[str], keys: Mapping[str, str] = _ORDER_KEYS
) -> list[tuple[str, bool]]:
    """``(key, ascending)`` of ``order_by`` (else ``default``); a key named twice is refused."""
    terms = [_order_term(term, keys) for term in (order_by or default)]
    seen = [key for key, _ in terms]
    if len(set(seen)) != len(seen):
        raise InvalidInputError(f"order_by names a key twice: {list(order_by)}")
    return terms


def page_offset(token: str | None) -> int:
    """The offset MLflow's page ``token`` holds (0 without one)."""
    if not token:
        return 0
    try:
        offset = int(json.loads(base64.b64decode(token, validate=True))["offset"])
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeError):
        raise InvalidInputError(f"invalid page_token {token[:100]!r}") from None
    if offset < 0:
        raise InvalidInputError(f"invalid page_token {token[:100]!r}")
    return offset


def page_token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def page(items: list[T], max_results: int, token: str | None) -> tuple[list[T], str | None]:
    """One page of ``items`` from MLflow's offset ``token``, and the next page's token."""
    offset = page_offset(token)
    chunk = items[offset : offset + max_results]
    if offset + max_results >= len(items):
        return chunk, None
    return chunk, page_token(offset + max_results)
