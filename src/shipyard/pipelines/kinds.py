"""What a step's typed input or output is on disk: its artifact kind, from its annotation (pure).

    pandas.DataFrame        dataframe   data.parquet
    numpy.ndarray           ndarray     array.npy
    pathlib.Path            file        the file, under its own name
    Folder                  folder      the folder's files
    dict / Metrics          json        value.json
    int, float, str, bool   json        value.json
    anything else (Model)   pickle      object.pkl (cloudpickle)

Annotations are compared without importing pandas or numpy: a class is recognised by its module
and name, so defining a pipeline stays cheap.

    >>> kind_of(Path)
    'file'
    >>> is_compatible(int, float)
    True
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any, Literal, NewType

__all__ = [
    "Folder",
    "Kind",
    "Metrics",
    "Model",
    "describe",
    "is_compatible",
    "kind_of",
]

Kind = Literal["dataframe", "ndarray", "file", "folder", "json", "pickle"]

Folder = NewType("Folder", Path)
"""A folder of files produced or read by a step (annotate with ``Folder``; pass a ``Path``)."""

Model = NewType("Model", object)
"""A trained model object (any picklable estimator); the ``register`` step publishes it."""

Metrics = dict[str, float]
"""Named evaluation figures; a gate reads them (``promote_if="metrics.auc >= 0.9"``)."""

_SCALARS: tuple[type, ...] = (int, float, str, bool)
_ANY: tuple[object, ...] = (Any, object, None)


def _qualname(annotation: object) -> str:
    module = getattr(annotation, "__module__", "")
    name = getattr(annotation, "__qualname__", getattr(annotation, "__name__", ""))
    return f"{module}.{name}"


def _origin(annotation: object) -> object:
    return typing.get_origin(annotation) or annotation


def kind_of(annotation: object) -> Kind:
    """The artifact kind an annotation is stored as."""
    if annotation is Folder:
        return "folder"
    origin = _origin(annotation)
    name = _qualname(origin)
    if name.startswith("pandas.") and name.endswith(".DataFrame"):
        return "dataframe"
    if name == "numpy.ndarray":
        return "ndarray"
    if isinstance(origin, type):
        if issubclass(origin, Path):
            return "file"
        if issubclass(origin, _SCALARS) or issubclass(origin, dict | list):
            return "json"
    return "pickle"


def describe(annotation: object) -> str:
    """A short readable name for messages: ``DataFrame``, ``dict[str, float]``, ``Model``."""
    if annotation in _ANY:
        return "Any"
    if isinstance(annotation, NewType):
        return annotation.__name__
    if typing.get_origin(annotation) is not None:
        return str(annotation).replace("typing.", "")
    return str(getattr(annotation, "__name__", annotation))


def is_compatible(produced: object, expected: object) -> bool:
    """True when a value annotated ``produced`` may be passed where ``expected`` is declared.

    ``Any``/``object`` (or no annotation) accept anything; ``int`` goes where ``float`` is
    expected; a ``Model`` input takes any object stored as a pickle; otherwise the produced class
    must be the expected one or a subclass."""
    if expected in _ANY or produced in _ANY or produced == expected:
        return True
    if expected is Model:
        return kind_of(produced) == "pickle"
    if produced is Model:
        return kind_of(expected) == "pickle"
    if isinstance(expected, NewType) or isinstance(produced, NewType):
        return False
    want, have = _origin(expected), _origin(produced)
    if kind_of(want) != kind_of(have):
        return False
    if want is float and have is int:
        return True
    if isinstance(want, type) and isinstance(have, type):
        return issubclass(have, want) and not (have is bool and want is not bool)
    return False
