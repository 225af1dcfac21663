"""The check an image runs on itself: verify and load the model, predict the golden sample.

Runs inside the image (``python -m shipyard verify-self /opt/shipyard/model``, started by
``image/smoketest.py`` with no network) and prints one JSON line, the ``SelfCheck``:

    {"shipyard_self_check": 1, "passed": true, "load_seconds": 0.84, "peak_rss_bytes": 183500800,
     "golden_rows": 5, "exact": true, "problems": [], "error": null, ...}

``load_seconds`` covers checking every file against its digest and loading the model (the libraries
it imports included); ``peak_rss_bytes`` is the process's peak resident memory after predicting.
A version saved without ``sample_input`` has no golden sample: only its loading is checked.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shipyard.config import Settings
from shipyard.models.golden import GoldenSample, compare_outputs
from shipyard.models.loading import load_folder
from shipyard.registry.folder import read_verified_folder
from shipyard.registry.trust import require_trusted

__all__ = ["MARKER", "SelfCheck", "run_self_check"]

MARKER = "shipyard_self_check"


@dataclass(frozen=True, slots=True)
class SelfCheck:
    """What the image found: whether the model loaded and reproduced its golden outputs."""

    passed: bool
    model: str | None = None
    digest: str | None = None
    load_seconds: float | None = None
    predict_seconds: float | None = None
    peak_rss_bytes: int = 0
    golden_rows: int = 0
    exact: bool | None = None
    problems: tuple[str, ...] = ()
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    python: str = field(default_factory=platform.python_version)
    uid: int = field(default_factory=os.getuid)
    """The user the check ran as (an image runs as a non-root one)."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = list(self.problems)
        return {MARKER: 1, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SelfCheck:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["problems"] = tuple(fields.get("problems") or ())
        return cls(**fields)


def run_self_check(folder: Path) -> SelfCheck:
    """Load the model folder and predict its golden sample; never raises for a model's fault."""
    started = time.perf_counter()
    model_name = digest = None
    try:
        version = read_verified_folder(folder)
        model_name, digest = f"{version.name}:{version.version}", version.digest
        require_trusted(version, Settings.from_env().trusted_keys)  # the image's baked-in keys
        model = load_folder(folder)
        load_seconds = time.perf_counter() - started
        golden_path = model.manifest.golden_path
        if golden_path is None:
            return SelfCheck(
                passed=True,
                model=model_name,
                digest=digest,
                load_seconds=round(load_seconds, 4),
                peak_rss_bytes=peak_rss_bytes(),
            )
        golden = GoldenSample.read(folder, golden_path)
        predicting = time.perf_counter()
        outputs = model.predict_named(golden.inputs)
        predict_seconds = time.perf_counter() - predicting
    except Exception as exc:  # a broken model is a result to report, not a crash
        traceback.print_exc(file=sys.stderr)
        return SelfCheck(
            passed=False,
            model=model_name,
            digest=digest,
            peak_rss_bytes=peak_rss_bytes(),
            error=f"{type(exc).__name__}: {exc}",
        )
    comparison = compare_outputs(golden.outputs, outputs)
    rows = next(iter(golden.inputs.values())).shape[0] if golden.inputs else 0
    return SelfCheck(
        passed=comparison.matches,
        model=model_name,
        digest=digest,
        load_seconds=round(load_seconds, 4),
        predict_seconds=round(predict_seconds, 4),
        peak_rss_bytes=peak_rss_bytes(),
        golden_rows=int(rows),
        exact=comparison.exact,
        problems=comparison.problems,
        max_abs_diff=comparison.max_abs_diff,
    )


def peak_rss_bytes() -> int:
    """This process's peak resident set size (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
