"""Pickles in an imported archive are scanned before anything loads them.

An archive from elsewhere can carry a pickle that runs code when loaded (``os.system``,
``eval``, ``subprocess``...); its digests prove only that it arrived intact. ``scan_folder``
runs modelscan (Protect AI's maintained scanner: it reads the pickle opcodes, never loads them)
over the extracted folder and raises ``UnsafeArtifactError`` naming each finding of high or
critical severity. Lower findings are returned, for the caller to report.

    >>> scan_folder(extracted)          # [] for a plain scikit-learn pickle
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.errors import UnsafeArtifactError

__all__ = ["Finding", "scan_folder"]

_REFUSED = ("CRITICAL", "HIGH")


@dataclass(frozen=True)
class Finding:
    """One dangerous construct a scanner found in a file of the folder."""

    path: str
    severity: str
    description: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "severity": self.severity, "description": self.description}


def scan_folder(folder: Path, *, what: str = "the archive") -> list[Finding]:
    """Scan every file modelscan can read under ``folder``; refuse high and critical findings."""
    from modelscan.modelscan import ModelScan

    report: dict[str, Any] = ModelScan().scan(folder)
    findings = [_finding(issue, folder) for issue in report.get("issues") or ()]
    refused = [f for f in findings if f.severity in _REFUSED]
    if refused:
        listed = "; ".join(f"{f.path}: {f.description} ({f.severity})" for f in refused)
        raise UnsafeArtifactError(
            f"{what} holds a pickle that would run dangerous code when loaded: {listed}. "
            "Nothing was imported; if you trust its author, load the original model and save it "
            "again with shipyard.save_model"
        )
    return findings


def _finding(issue: dict[str, Any], folder: Path) -> Finding:
    source = str(issue.get("source") or "?")
    try:
        source = str(Path(source).resolve().relative_to(folder.resolve()))
    except ValueError:
        pass
    return Finding(
        path=source,
        severity=str(issue.get("severity") or "UNKNOWN"),
        description=str(issue.get("description") or "unsafe operation"),
    )
