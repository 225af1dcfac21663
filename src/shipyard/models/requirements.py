"""Pinned requirements: exact installed versions of what a packaged model needs.

Captured: the flavor's distributions, plus the third-party distributions imported by the model's own
modules (import names mapped with ``packages_distributions()``; the standard library and Shipyard
itself are skipped), plus the running Python version. ``requirements=`` replaces the capture with
``NAME==VERSION`` lines (a list or a requirements.txt path).

    >>> capture_requirements(["scikit-learn"]).to_lines()
    ['scikit-learn==1.9.1']
"""

from __future__ import annotations

import ast
import platform
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from types import ModuleType

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as ParsedRequirement

from shipyard.errors import PackagingError
from shipyard.models.manifest import Requirement, Requirements

__all__ = [
    "REQUIREMENTS_FILE",
    "capture_requirements",
    "imported_distributions",
    "parse_requirements",
    "write_requirements_file",
]

REQUIREMENTS_FILE = "requirements.txt"
_SKIPPED_IMPORTS = frozenset({"shipyard", "__future__"})


def capture_requirements(distributions: Iterable[str]) -> Requirements:
    """Pin the installed version of each distribution (ones not installed are left out)."""
    pins: dict[str, Requirement] = {}
    for name in distributions:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        canonical = dist.metadata["Name"] or name
        pins.setdefault(canonical.lower(), Requirement(canonical, dist.version))
    return Requirements(python_version=platform.python_version(), packages=tuple(pins.values()))


def imported_distributions(modules: Iterable[ModuleType]) -> tuple[str, ...]:
    """Distributions providing the third-party top-level imports of ``modules``' source files."""
    by_import = metadata.packages_distributions()
    found: list[str] = []
    for module in modules:
        for name in sorted(_top_level_imports(module)):
            if name in sys.stdlib_module_names or name in _SKIPPED_IMPORTS:
                continue
            for dist in by_import.get(name, ()):
                if dist not in found and dist.lower() != "shipyard":
                    found.append(dist)
    return tuple(found)


def parse_requirements(spec: Sequence[str] | str | Path) -> Requirements:
    """Requirements from ``NAME==VERSION`` strings or a requirements.txt path, all pinned."""
    if isinstance(spec, str | Path):
        path = Path(spec)
        if not path.is_file():
            raise PackagingError(
                f"requirements file {spec} not found: pass a path to a requirements.txt or a list "
                "of 'name==version' strings"
            )
        lines = path.read_text().splitlines()
    else:
        lines = list(spec)
    pins = []
    for raw in lines:
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            pins.append(_parse_pin(line))
    return Requirements(
        python_version=platform.python_version(), packages=tuple(pins), overridden=True
    )


def write_requirements_file(requirements: Requirements, folder: Path) -> Path:
    """Write ``requirements.txt`` (one pin a line) into ``folder``."""
    path = folder / REQUIREMENTS_FILE
    path.write_text("".join(f"{line}\n" for line in requirements.to_lines()))
    return path


def _parse_pin(line: str) -> Requirement:
    try:
        parsed = ParsedRequirement(line)
    except InvalidRequirement as exc:
        raise PackagingError(
            f"requirement {line!r} is not valid: write one 'name==version' per entry"
        ) from exc
    specs = list(parsed.specifier)
    if (
        parsed.url
        or len(specs) != 1
        or specs[0].operator not in ("==", "===")
        or "*" in specs[0].version
    ):
        raise PackagingError(
            f"requirement {line!r} is not pinned to one version: write it as "
            f"'{parsed.name}==X.Y.Z' (see `pip freeze` for the installed version)"
        )
    extras = f"[{','.join(sorted(parsed.extras))}]" if parsed.extras else ""
    return Requirement(f"{parsed.name}{extras}", specs[0].version)


def _top_level_imports(module: ModuleType) -> set[str]:
    """Top-level names ``module`` imports: parsed from its source, else read from its globals."""
    file = getattr(module, "__file__", None)
    if file and Path(file).suffix == ".py" and Path(file).is_file():
        tree = ast.parse(Path(file).read_bytes(), filename=file)  # bytes: honours a coding line
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.partition(".")[0])
        return names
    return {  # a notebook's __main__: what it has imported so far
        value.__name__.partition(".")[0]
        for value in vars(module).values()
        if isinstance(value, ModuleType)
    }
