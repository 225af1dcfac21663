"""Which exceptions from a model's predict mean "the input is not acceptable" (422)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.tree import DecisionTreeClassifier

from shipyard.errors import InvalidInputError
from shipyard.models.rejection import is_input_rejection


def _raised(call: object) -> BaseException:
    with pytest.raises(Exception) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_scikit_learn_input_checks_are_rejections() -> None:
    tree = DecisionTreeClassifier().fit(np.array([[0.0], [1.0]]), [0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the float32 cast warns first
        too_large = _raised(lambda: tree.predict(np.array([[1e300]])))
    assert "dtype('float32')" in str(too_large)
    assert is_input_rejection(too_large)
    wrong_width = _raised(lambda: tree.predict(np.array([[0.0, 1.0]])))
    assert is_input_rejection(wrong_width)


def test_errors_of_the_model_itself_are_not_rejections() -> None:
    def buggy() -> None:
        raise ValueError("negative a")

    assert not is_input_rejection(_raised(buggy))
    unfitted = _raised(lambda: DecisionTreeClassifier().predict(np.array([[0.0]])))
    assert isinstance(unfitted, NotFittedError)
    assert not is_input_rejection(unfitted)
    assert not is_input_rejection(RuntimeError("boom"))


def test_a_custom_model_says_so_with_invalid_input_error() -> None:
    assert is_input_rejection(InvalidInputError("a must not be negative"))
