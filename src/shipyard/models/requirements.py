"""Pinned requirements: exact installed versions of what a packaged model needs.

Captured: the flavor's distributions; the distributions of every module a pickled model imports or
whose objects it holds (``models/imports.py``); the third-party imports of the model's own modules;
and the running Python version. Import names map to distributions with ``packages_distributions()``;
the standard library and Shipyard itself are skipped. ``extra_requirements=`` adds to the capture
(``NAME==VERSION``, or a bare ``NAME`` pinned to its installed version); ``requirements=`` replaces
it with ``NAME==VERSION`` lines (a list or a requirements.txt path).

    >>> capture_requirements(["scikit-learn"]).to_lines()
    ['scikit-learn==1.9.1']
"""

from __future__ import annotations

import ast
import functools
import platform
import sys
from collections.abc import Iterable, Mapping, Sequence
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
    "module_distributions",
    "parse_extra_requirements",
    "parse_requirements",
    "third_party",
    "write_requirements_file",
]

REQUIREMENTS_FILE = "requirements.txt"
_SKIPPED_IMPORTS = frozenset({"shipyard", "__future__", "__main__"})


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
    names: list[str] = []
    for module in modules:
        names.extend(sorted(_top_level_imports(module)))
    return module_distributions(names)


def third_party(modules: Iterable[str]) -> tuple[str, ...]:
    """The sorted top-level names of ``modules`` without the standard library and Shipyard."""
    tops = {m.partition(".")[0] for m in modules if m}
    return tuple(sorted(n for n in tops if n not in sys.stdlib_module_names | _SKIPPED_IMPORTS))


@functools.lru_cache(maxsize=1)
def _import_index(path: tuple[str, ...]) -> Mapping[str, list[str]]:
    """``packages_distributions()`` for one ``sys.path`` (reading every installed distribution's
    file list takes seconds)."""
    return metadata.packages_distributions()


def _index_for(tops: Iterable[str]) -> Mapping[str, list[str]]:
    """The import index, read again (once) when it lacks one of ``tops``: it may have been
    installed since the index was read."""
    index = _import_index(tuple(sys.path))
    if any(top not in index for top in tops):
        _import_index.cache_clear()
        index = _import_index(tuple(sys.path))
    return index


def module_distributions(modules: Iterable[str]) -> tuple[str, ...]:
    """The installed distributions providing ``modules`` (dotted or top-level import names).

    Modules of no distribution (the user's own code, saved in ``code/``) are left out. When several
    distributions share a top-level name (namespace packages), the one holding the module's file
    is chosen.
    """
    names = sorted({m for m in modules if m})
    tops = {n.partition(".")[0] for n in names}
    index = _index_for(t for t in tops if t not in sys.stdlib_module_names | _SKIPPED_IMPORTS)
    found: list[str] = []
    for name in names:
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top in _SKIPPED_IMPORTS:
            continue
        candidates = list(dict.fromkeys(index.get(top, ())))
        if len(candidates) > 1:
            candidates = _owning(name, candidates) or candidates
        for dist in candidates:
            if dist not in found and dist.lower() != "shipyard":
                found.append(dist)
    return tuple(found)


def parse_extra_requirements(extra: Sequence[str]) -> tuple[Requirement, ...]:
    """``extra_requirements=`` pins: ``NAME==VERSION`` as given, ``NAME`` at its installed one."""
    if isinstance(extra, str):
        raise PackagingError(
            f"extra_requirements must be a list of strings, e.g. [{extra!r}], not one string"
        )
    pins = []
    for raw in extra:
        line = str(raw).strip()
        try:
            parsed = ParsedRequirement(line)
        except InvalidRequirement as exc:
            raise PackagingError(
                f"extra requirement {line!r} is not valid: write 'name' or 'name==version'"
            ) from exc
        if parsed.specifier or parsed.url:
            pins.append(_parse_pin(line))
            continue
        try:
            version = metadata.version(parsed.name)
        except metadata.PackageNotFoundError:
            raise PackagingError(
                f"extra requirement {line!r} is not installed here, so its version is unknown: "
                f"install it, or write it as '{parsed.name}==X.Y.Z'"
            ) from None
        extras = f"[{','.join(sorted(parsed.extras))}]" if parsed.extras else ""
        pins.append(Requirement(f"{parsed.name}{extras}", version))
    return tuple(pins)


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


def _owning(module: str, candidates: Sequence[str]) -> list[str]:
    """The distributions among ``candidates`` whose files hold ``module``."""
    prefix = module.replace(".", "/")
    owners = []
    for dist in candidates:
        try:
            files = metadata.distribution(dist).files or ()
        except metadata.PackageNotFoundError:
            continue
        if any(str(f).startswith((f"{prefix}/", f"{prefix}.")) for f in files):
            owners.append(dist)
    return owners


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
