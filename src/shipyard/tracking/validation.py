"""Checks on what is logged, with MLflow's rules and limits; each failure names the fix.

Numbers are 64-bit, as the database stores them: an experiment id is ASCII digits up to
``2**63 - 1`` (not ``"²"``, which ``str.isdigit`` accepts), and times, steps and offsets are
checked by ``validate_int64`` before they reach a query. Keys may hold alphanumerics,
``_ - . / :`` and spaces and must not look like a path that resolves elsewhere (``a/../b``).
A batch holds at most 1000 metrics, 100 params and 100 tags. NaN is stored as NaN and +-inf as
+-DBL_MAX, as MLflow's SQL store does.

    >>> validate_key("train/auc", "metric")
    'train/auc'
"""

from __future__ import annotations

import functools
import math
import posixpath
import re
import sys
from collections.abc import Sequence

from shipyard.errors import InvalidInputError, InvalidNameError
from shipyard.tracking.entities import Metric

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_ENTITY_KEY_LENGTH",
    "MAX_METRICS_PER_BATCH",
    "MAX_PARAMS_TAGS_PER_BATCH",
    "MAX_PARAM_VALUE_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "experiment_number",
    "is_experiment_id",
    "is_plain_metric",
    "is_valid_key",
    "stored_value",
    "validate_batch_sizes",
    "validate_experiment_name",
    "validate_int64",
    "validate_key",
    "validate_metric",
    "validate_param_value",
    "validate_run_id",
    "validate_tag_value",
    "validate_user_id",
]

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_RUN_NAME_LENGTH = 250
MAX_USER_ID_LENGTH = 256
_KEY = re.compile(r"[/\w.\- :]+")
_RUN_ID = re.compile(r"[0-9a-f]{32}")
_EXPERIMENT_ID = re.compile(r"[0-9]{1,19}")  # ASCII: isdigit() takes "²"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_DOUBLE_MAX = sys.float_info.max


def validate_key(key: object, kind: str) -> str:
    """``key`` if it is a valid metric, param or tag key; else ``InvalidNameError``."""
    if isinstance(key, str) and _is_valid_key(key):
        return key
    return _check_key(key, kind)


def is_valid_key(key: object) -> bool:
    """True when ``key`` may name a metric, param or tag (``validate_key`` would accept it)."""
    return isinstance(key, str) and _is_valid_key(key)


@functools.lru_cache(maxsize=4096)
def _is_valid_key(key: str) -> bool:
    """Keys repeat in every batch: the verdict on a valid one is cached."""
    try:
        _check_key(key, "metric")
    except InvalidNameError:
        return False
    return True


def _check_key(key: object, kind: str) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidNameError(f"{kind} key {key!r} is missing or empty: give a non-empty string")
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        raise InvalidNameError(
            f"{kind} key {key[:40]!r}... is {len(key)} characters long: at most "
            f"{MAX_ENTITY_KEY_LENGTH} are allowed"
        )
    if not _KEY.fullmatch(key):
        raise InvalidNameError(
            f"invalid {kind} key {key!r}: keys may only contain alphanumerics, underscores (_), "
            "dashes (-), periods (.), spaces, colons (:) and slashes (/)"
        )
    normal = posixpath.normpath(key)
    if normal != key or normal == "." or normal.startswith(("..", "/")):
        raise InvalidNameError(
            f"invalid {kind} key {key!r}: it would resolve to {normal!r} when treated as a path; "
            "drop leading, trailing or doubled slashes and '.'/'..' parts"
        )
    return key


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidNameError(f"experiment name {name!r} is empty: give a non-empty string")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidNameError(
            f"experiment name is {len(name)} characters long: at most "
            f"{MAX_EXPERIMENT_NAME_LENGTH} are allowed"
        )
    return name


def validate_run_name(name: object) -> str:
    if not isinstance(name, str) or len(name) > MAX_RUN_NAME_LENGTH:
        raise InvalidNameError(
            f"run name {name!r} is not a string of at most {MAX_RUN_NAME_LENGTH} characters"
        )
    return name


def is_experiment_id(value: object) -> bool:
    """True for a string of ASCII digits naming a 64-bit experiment number (``"0"``, ``"12"``)."""
    return (
        isinstance(value, str)
        and _EXPERIMENT_ID.fullmatch(value) is not None
        and int(value) <= INT64_MAX
    )


def experiment_number(value: object) -> int:
    """The number of experiment id ``value``; ``InvalidInputError`` unless it is one."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= INT64_MAX:
        return value
    if is_experiment_id(value):
        return int(str(value))
    raise InvalidInputError(
        f"experiment id {value!r} is not an experiment id: ids are numbers from 0 to 2**63-1 "
        "(list them with `shipyard experiments list`)"
    )


def validate_int64(value: int, label: str) -> int:
    """``value`` if it fits the database's 64-bit integers; else ``InvalidInputError``."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise InvalidInputError(
            f"{label} {value} is out of range: integers must lie between -2**63 and 2**63-1"
        )
    return value


def validate_user_id(user_id: str) -> str:
    if len(user_id) > MAX_USER_ID_LENGTH:
        raise InvalidInputError(
            f"user id {user_id[:40]!r}... is {len(user_id)} characters long: at most "
            f"{MAX_USER_ID_LENGTH} are allowed"
        )
    return user_id


def validate_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise InvalidNameError(f"run id {run_id!r} is not a run id (32 lowercase hex digits)")
    return run_id


def validate_param_value(key: str, value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidInputError(
            f"param {key!r} has a value of {len(text)} characters: at most "
            f"{MAX_PARAM_VALUE_LENGTH} are allowed; log long values as an artifact"
        )
    return text


def validate_tag_value(key: str, value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidInputError(
            f"tag {key!r} has a value of {len(text)} characters: at most "
            f"{MAX_TAG_VALUE_LENGTH} are allowed"
        )
    return text


def validate_metric(key: object, value: object, timestamp: object, step: object) -> Metric:
    """A ``Metric`` from loosely typed input (JSON or Python); numbers only, NaN/inf allowed."""
    name = validate_key(key, "metric")
    if is_plain_metric(value, timestamp, step):
        return Metric(name, value, timestamp, step)  # type: ignore[arg-type]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            f"metric {name!r} has value {value!r}: metric values must be numbers"
        )
    for label, number in (("timestamp", timestamp), ("step", step)):
        if isinstance(number, bool) or not isinstance(number, int):
            raise InvalidInputError(
                f"metric {name!r} has {label} {number!r}: it must be an integer"
            )
        validate_int64(number, f"metric {name!r} has {label}")
    try:
        number = float(value)
    except OverflowError:  # an int past 1.8e308
        raise InvalidInputError(
            f"metric {name!r} has value {value}: it is too large for a 64-bit float"
        ) from None
    return Metric(name, number, int(timestamp), int(step))  # type: ignore[call-overload]


def is_plain_metric(value: object, timestamp: object, step: object) -> bool:
    """The common case, checked at once: a float value, 64-bit int timestamp and step."""
    return (
        type(value) is float
        and type(timestamp) is int
        and type(step) is int
        and INT64_MIN <= timestamp <= INT64_MAX
        and INT64_MIN <= step <= INT64_MAX
    )


def stored_value(value: float) -> tuple[float, bool]:
    """``(value, is_nan)`` as stored: NaN -> (0.0, True), +-inf -> +-DBL_MAX (MLflow's rule)."""
    if math.isfinite(value):
        return value, False
    if math.isnan(value):
        return 0.0, True
    if math.isinf(value):
        return (_DOUBLE_MAX if value > 0 else -_DOUBLE_MAX), False
    return value, False


def validate_batch_sizes(
    metrics: Sequence[object], params: Sequence[object], tags: Sequence[object]
) -> None:
    """Refuse batches over MLflow's limits (1000 metrics, 100 params, 100 tags, 1000 in all)."""
    problems = []
    if len(metrics) > MAX_METRICS_PER_BATCH:
        problems.append(f"{len(metrics)} metrics (at most {MAX_METRICS_PER_BATCH})")
    if len(params) > MAX_PARAMS_TAGS_PER_BATCH:
        problems.append(f"{len(params)} params (at most {MAX_PARAMS_TAGS_PER_BATCH})")
    if len(tags) > MAX_PARAMS_TAGS_PER_BATCH:
        problems.append(f"{len(tags)} tags (at most {MAX_PARAMS_TAGS_PER_BATCH})")
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_ENTITIES_PER_BATCH:
        problems.append(f"{total} entries in all (at most {MAX_ENTITIES_PER_BATCH})")
    if problems:
        raise InvalidInputError(
            "the batch is too large: " + ", ".join(problems) + "; split it into smaller batches"
        )
