"""The golden sample: the sample input saved with a version and the model's outputs on it.

At save time ``package_model`` runs the loaded-back model on ``sample_input`` and stores both sides
in the model folder, so they are covered by the version's digest:

    golden/golden.json   {"format_version": 1, "inputs": [...], "outputs": [...]}: for each array
                         its name, its key in the .npz and whether it holds Python strings
    golden/input.npz     the inputs as serving hands them to the model: one array per column
                         (``columns`` signatures) or ``input`` (``tensor``), batch first
    golden/output.npz    the named outputs ``LoadedModel.predict_named`` returned on them

The arrays are plain ``.npz`` members, read with ``allow_pickle=False``; an array of ``str``
objects is stored as a unicode array and turned back into objects when read. A sample holding
other Python objects (``None``, mixed types) has no golden sample.

``compare_outputs`` is the check an image runs on itself: exact for every output, except that a
float output may differ by ``FLOAT_RTOL`` relative (and ``FLOAT_ATOL`` absolute) and is then
reported as matching but not exact.

    >>> sample = GoldenSample(inputs={"input": x}, outputs=model.predict_named({"input": x}))
    >>> compare_outputs(sample.outputs, model.predict_named(sample.inputs)).exact
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.errors import IntegrityError, PackagingError

__all__ = [
    "FLOAT_ATOL",
    "FLOAT_RTOL",
    "GOLDEN_DIR",
    "Comparison",
    "GoldenSample",
    "compare_outputs",
]

GOLDEN_DIR = "golden"
FORMAT_VERSION = 1
FLOAT_RTOL = 1e-6
FLOAT_ATOL = 1e-9
_INDEX = "golden.json"
Arrays = dict[str, np.ndarray[Any, Any]]


@dataclass(frozen=True, slots=True)
class GoldenSample:
    """Named input arrays and the named outputs the model returned on them."""

    inputs: Arrays
    outputs: Arrays

    def write(self, folder: Path) -> str:
        """Write ``golden/`` into ``folder``; return its path relative to ``folder``.

        Raises ``PackagingError`` when an array holds Python objects other than strings.
        """
        target = folder / GOLDEN_DIR
        target.mkdir()
        index = {
            "format_version": FORMAT_VERSION,
            "inputs": _write_arrays(target / "input.npz", "i", self.inputs),
            "outputs": _write_arrays(target / "output.npz", "o", self.outputs),
        }
        (target / _INDEX).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
        return GOLDEN_DIR

    @classmethod
    def read(cls, folder: Path, relative: str = GOLDEN_DIR) -> GoldenSample:
        """Read the golden sample saved in ``folder``; ``IntegrityError`` when it is broken."""
        source = folder / relative
        try:
            index = json.loads((source / _INDEX).read_text())
            if int(index.get("format_version", 0)) > FORMAT_VERSION:
                raise IntegrityError(
                    f"{source} was written by a newer Shipyard: upgrade Shipyard to read it"
                )
            return cls(
                inputs=_read_arrays(source / "input.npz", index["inputs"]),
                outputs=_read_arrays(source / "output.npz", index["outputs"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"the golden sample in {source} cannot be read: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Comparison:
    """How a model's outputs on the golden inputs compare with the stored outputs."""

    matches: bool
    exact: bool
    problems: tuple[str, ...] = ()
    max_abs_diff: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "matches": self.matches,
            "exact": self.exact,
            "problems": list(self.problems),
            "max_abs_diff": dict(self.max_abs_diff),
        }


def compare_outputs(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> Comparison:
    """Compare ``actual`` outputs with the ``expected`` ones, output by output."""
    problems: list[str] = []
    diffs: dict[str, float] = {}
    exact = True
    for name, want in expected.items():
        if name not in actual:
            problems.append(f"output {name!r} is missing (got {sorted(actual)})")
            continue
        want_arr, got = np.asarray(want), np.asarray(actual[name])
        if want_arr.shape != got.shape:
            problems.append(f"output {name!r} has shape {got.shape}, expected {want_arr.shape}")
            continue
        if _equal(want_arr, got):
            continue
        exact = False
        if want_arr.dtype.kind in "fc" and got.dtype.kind in "fciub":
            diff = np.abs(got.astype(want_arr.dtype) - want_arr)
            diffs[name] = float(np.nanmax(diff)) if diff.size else 0.0
            if np.allclose(got, want_arr, rtol=FLOAT_RTOL, atol=FLOAT_ATOL, equal_nan=True):
                continue
            problems.append(
                f"output {name!r} differs by up to {diffs[name]:.3g} (tolerance: rtol "
                f"{FLOAT_RTOL:g}, atol {FLOAT_ATOL:g})"
            )
        else:
            wrong = int(np.sum(want_arr != got)) if want_arr.shape else 1
            problems.append(f"output {name!r} differs in {wrong} of {max(want_arr.size, 1)} values")
    extra = sorted(set(actual) - set(expected))
    if extra:
        problems.append(f"unexpected output(s) {extra}")
    return Comparison(
        matches=not problems,
        exact=exact and not problems,
        problems=tuple(problems),
        max_abs_diff=diffs,
    )


def _equal(want: np.ndarray[Any, Any], got: np.ndarray[Any, Any]) -> bool:
    if want.dtype.kind in "fc" and got.dtype.kind in "fc":
        return bool(np.array_equal(want, got, equal_nan=True))
    try:
        return bool(np.array_equal(want, got))
    except (TypeError, ValueError):
        return False


def _write_arrays(path: Path, prefix: str, arrays: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    stored: dict[str, np.ndarray[Any, Any]] = {}
    for i, (name, value) in enumerate(arrays.items()):
        array = np.asarray(value)
        is_object = array.dtype.kind == "O"
        if is_object:
            if not all(isinstance(v, str) for v in array.ravel().tolist()):
                raise PackagingError(
                    f"the golden sample's {name!r} holds Python objects other than strings, "
                    "which cannot be stored without pickle"
                )
            array = array.astype(np.str_)
        key = f"{prefix}{i}"
        stored[key] = array
        entries.append({"name": str(name), "key": key, "object": is_object})
    np.savez(path, allow_pickle=False, **stored)
    return entries


def _read_arrays(path: Path, entries: list[dict[str, Any]]) -> Arrays:
    arrays: Arrays = {}
    with np.load(path, allow_pickle=False) as data:
        for entry in entries:
            array = data[str(entry["key"])]
            arrays[str(entry["name"])] = array.astype(object) if entry.get("object") else array
    return arrays
