"""Tell a model refusing its input apart from a model that is broken.

A request can fit the signature and still be refused by the model's own checks: scikit-learn's
``check_array`` refuses ``1e300`` for a tree that works in float32 ("Input X contains infinity or
a value too large for dtype('float32')"), XGBoost refuses a DataFrame whose dtypes it cannot
read. Those are the caller's to fix (HTTP 422). Anything else the model raises is a server fault
(500): a ``ValueError`` from the model's own code is as likely a bug as a bad value.

An exception counts as a refusal when it is a ``ValueError`` or ``TypeError`` raised in (or
under) one of the libraries' input-checking functions listed in ``INPUT_CHECKS``, or when a
custom model raises ``shipyard.errors.InvalidInputError`` on purpose.
"""

from __future__ import annotations

from types import TracebackType

from shipyard.errors import InvalidInputError

__all__ = ["INPUT_CHECKS", "is_input_rejection"]

INPUT_CHECKS: dict[str, frozenset[str] | None] = {
    # module: the functions in it that check inputs (None: every function in the module)
    "sklearn.utils.validation": None,
    "sklearn.utils._array_api": None,
    "sklearn.base": frozenset({"_check_n_features", "_check_feature_names", "_validate_data"}),
    "xgboost.data": None,
    "xgboost.core": frozenset({"_validate_features", "_validate_feature_info"}),
    "lightgbm.basic": frozenset(
        {"_data_from_pandas", "_check_for_bad_pandas_dtypes", "_pandas_to_numpy"}
    ),
}
_NOT_REFUSALS = frozenset({"NotFittedError"})  # a ValueError from check_is_fitted: a server fault


def is_input_rejection(exc: BaseException) -> bool:
    """Whether ``exc``, raised by a model's predict, means "your input is not acceptable"."""
    if isinstance(exc, InvalidInputError):
        return True
    if not isinstance(exc, ValueError | TypeError):
        return False
    if any(cls.__name__ in _NOT_REFUSALS for cls in type(exc).__mro__):
        return False
    return _raised_in_input_check(exc.__traceback__)


def _raised_in_input_check(tb: TracebackType | None) -> bool:
    while tb is not None:
        frame = tb.tb_frame
        module = frame.f_globals.get("__name__", "")
        if module in INPUT_CHECKS:
            functions = INPUT_CHECKS[module]
            if functions is None or frame.f_code.co_name in functions:
                return True
        tb = tb.tb_next
    return False
