"""``shipyard models show``'s tables: everything a version records, for a person to read.

version    name:number, aliases, digest, flavor, size, created at and by
lineage    run id, dataset digest, git commit (and whether the tree was dirty), source file
requires   the Python and each pinned package, inferred or given with ``requirements=``
metadata   what ``save_model(metadata=...)`` stored (metrics, parameters, ...); the tags
signature  inputs and outputs: name, dtype, shape
files      path, size, sha256
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shipyard.cli.output import print_table

if TYPE_CHECKING:
    from shipyard.registry import ModelVersion

__all__ = ["human_size", "print_version", "when"]


def when(moment: datetime) -> str:
    """``2026-12-01 21:54:15 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def human_size(size: int) -> str:
    """``512 B``, ``1.5 KiB``, ``3.2 MiB``..."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _or_dash(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def print_version(version: ModelVersion) -> None:
    """Print every section of ``version`` as Rich tables."""
    manifest = version.manifest
    lineage = manifest.lineage
    requirements = manifest.requirements
    print_table(
        f"{version.name}:{version.version}",
        ["field", "value"],
        [
            ("aliases", ", ".join(version.aliases) or "-"),
            ("digest", f"sha256:{version.digest}"),
            ("flavor", manifest.flavor),
            ("size", human_size(version.size_bytes)),
            ("created", f"{when(version.created_at)} by {version.created_by}"),
            ("code", ", ".join(manifest.code_paths) or "-"),
            ("reference profile", _or_dash(manifest.profile_path)),
        ],
    )
    dirty = {True: " (uncommitted changes)", False: "", None: ""}[lineage.git_dirty]
    print_table(
        "Lineage",
        ["field", "value"],
        [
            ("run id", _or_dash(lineage.run_id)),
            ("dataset digest", _or_dash(lineage.dataset_digest)),
            ("git commit", _or_dash(lineage.git_commit) + dirty),
            ("source", _or_dash(lineage.source)),
            ("saved", f"{when(lineage.created_at)} by {lineage.created_by}"),
        ],
    )
    how = "given with requirements=" if requirements.overridden else "inferred at save time"
    pins = [("python", requirements.python_version)]
    pins += [(f"package ({how})", line) for line in requirements.to_lines()]
    print_table("Requirements", ["", "pin"], pins)
    entries = [("metadata", key, _compact(v)) for key, v in sorted(manifest.metadata.items())]
    entries += [("tag", key, value) for key, value in sorted(version.tags.items())]
    if entries:
        print_table("Metadata and tags", ["", "key", "value"], entries)
    if version.signature is not None:
        specs = [("input", s) for s in version.signature.inputs]
        specs += [("output", s) for s in version.signature.outputs]
        rows = [[kind, s.name, s.dtype.value, list(s.shape)] for kind, s in specs]
        print_table(
            f"Signature ({version.signature.input_kind})", ["", "name", "dtype", "shape"], rows
        )
    files = [[f.path, human_size(f.size), f.sha256[:16]] for f in version.files]
    print_table("Files", ["path", "size", "sha256"], files)
