"""The digest of a step's code: its own source and the local code it uses.

"Local" means under the project folder (the pipeline file's folder): a helper function or class
of the pipeline file that the step names, and every local module it names or imports from
(followed transitively through their own ``import`` lines). Installed packages are not code: they
are the environment, and enter the cache key through the environment digest.

    >>> code_digest(train.func, project=Path("."))
    '6f0e...'
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["code_digest", "local_files"]


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _is_local(path: str | None, project: Path) -> bool:
    if not path:
        return False
    resolved = Path(path).resolve()
    return resolved.is_relative_to(project) and "site-packages" not in resolved.parts


def _module_file(module: types.ModuleType) -> str | None:
    return getattr(module, "__file__", None)


def _imported_local_files(path: Path, project: Path) -> set[Path]:
    """Local files that ``path`` imports (``import x`` / ``from x import y``), by module name."""
    found: set[Path] = set()
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError):
        return found
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            module = sys.modules.get(name)
            file = _module_file(module) if module is not None else None
            if file and _is_local(file, project):
                found.add(Path(file).resolve())
    return found


def local_files(func: Callable[..., Any], project: Path) -> tuple[list[str], set[Path]]:
    """The sources of same-file helpers ``func`` names, and the local module files it uses."""
    project = project.resolve()
    home = inspect.getsourcefile(func)
    sources: list[str] = []
    files: set[Path] = set()
    seen: set[int] = set()
    pending: list[Callable[..., Any]] = [func]
    while pending:
        current = pending.pop()
        code = getattr(current, "__code__", None)
        if code is None or id(current) in seen:
            continue
        seen.add(id(current))
        for name in sorted(set(_names(code))):
            value = getattr(current, "__globals__", {}).get(name)
            if isinstance(value, types.ModuleType):
                file = _module_file(value)
                if _is_local(file, project) and file is not None:
                    files.add(Path(file).resolve())
                continue
            target = getattr(value, "func", value)  # a Step wraps its function
            if not (inspect.isfunction(target) or inspect.isclass(target)):
                continue
            file = inspect.getsourcefile(target)
            if not _is_local(file, project):
                continue
            if file == home:
                if target is not func:
                    sources.append(inspect.getsource(target))
                    if inspect.isfunction(target):
                        pending.append(target)
            elif file is not None:
                files.add(Path(file).resolve())
    frontier = set(files)
    while frontier:
        more = _imported_local_files(frontier.pop(), project) - files
        files |= more
        frontier |= more
    return sources, files


def code_digest(func: Callable[..., Any], project: Path) -> str:
    """sha256 over the step's source, its same-file helpers and its local modules' sources."""
    digest = hashlib.sha256(inspect.getsource(func).encode())
    config = getattr(func, "__shipyard_config__", None)  # a step made by a factory
    if config is not None:
        digest.update(b"\0config\0" + json.dumps(config, sort_keys=True).encode())
    helpers, files = local_files(func, project)
    for source in sorted(helpers):
        digest.update(b"\0helper\0" + source.encode())
    root = project.resolve()
    for file in sorted(files):
        digest.update(b"\0file\0" + str(file.relative_to(root)).encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()
