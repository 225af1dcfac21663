"""The user's own Python code saved in a model folder's ``code/``, and made importable again.

When a model's class or function lives in a module of the user's project (not the standard library,
not an installed package, not ``__main__``), that module's top-level package is copied into
``code/`` next to the model, together with any ``code_paths`` given. Loading puts ``code/`` first on
``sys.path`` so it imports exactly the code saved with the version.

A module from ``code/`` that is already imported with the same source (the process that packaged
the model, or a second load) is reused. When it is imported with other source (two versions of
one model in one process, e.g. an alias swap while serving), the imported one is swapped out only
while this model loads, then restored, so each version keeps the classes it was built with.
"""

from __future__ import annotations

import shutil
import site
import sys
import sysconfig
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FunctionType, ModuleType

from shipyard.errors import PackagingError

__all__ = [
    "CODE_DIR",
    "copy_code",
    "defining_modules",
    "importable_code",
    "is_user_module",
    "referenced_modules",
]

CODE_DIR = "code"

_INSTALLED_ROOTS = tuple(
    Path(p).resolve()
    for p in (
        *(sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")),
        *site.getsitepackages(),
        site.getusersitepackages(),
    )
    if p
)
_SHIPYARD_ROOT = Path(__file__).resolve().parents[1]
_SWAP_LOCK = threading.RLock()


def defining_modules(obj: object) -> tuple[ModuleType, ...]:
    """The modules defining ``obj`` (a function, class or instance) and its class."""
    names = {getattr(obj, "__module__", None), type(obj).__module__}
    found = [
        sys.modules[n] for n in sorted(n for n in names if isinstance(n, str)) if n in sys.modules
    ]
    return tuple(found)


def referenced_modules(obj: object) -> tuple[ModuleType, ...]:
    """The modules pickle imports by name to rebuild ``obj``: the one holding its class (or the
    function or class itself) when that is reachable by its qualified name.

    Functions and classes defined inside functions or in ``__main__`` are saved by value instead;
    other modules the object's attributes come from are not followed: pass them as ``code_paths``.
    """
    target = getattr(obj, "__func__", obj)
    if not isinstance(target, type | FunctionType):
        target = type(obj)
    module = sys.modules.get(target.__module__)
    if module is None or module.__name__ == "__main__":
        return ()
    found: object = module
    for part in target.__qualname__.split("."):
        found = getattr(found, part, None)
    return (module,) if found is target else ()


def is_user_module(module: ModuleType) -> bool:
    """True for modules of the user's project: a file outside stdlib, site-packages and Shipyard."""
    if module.__name__ == "__main__":
        return False
    path = _module_root(module)
    if path is None:
        return False
    return not any(path.is_relative_to(root) for root in (*_INSTALLED_ROOTS, _SHIPYARD_ROOT))


def copy_code(
    folder: Path, modules: Iterable[ModuleType], code_paths: Sequence[str | Path] = ()
) -> tuple[str, ...]:
    """Copy user modules' top-level packages and ``code_paths`` into ``folder/code``.

    Returns the copied entries relative to ``folder`` (``code/features.py``, ``code/mypkg``).
    """
    sources: dict[str, Path] = {}
    for module in modules:
        root = _module_root(module)
        if root is not None and is_user_module(module):
            sources[root.name] = root
    for given in code_paths:
        path = Path(given).expanduser().resolve()
        if not path.exists():
            raise PackagingError(f"code path {given} does not exist: give a .py file or a folder")
        if path.is_file() and path.suffix != ".py":
            raise PackagingError(f"code path {given} is not a .py file or a folder")
        if sources.get(path.name, path) != path:
            raise PackagingError(
                f"two code paths are both named {path.name!r} ({sources[path.name]} and {path}): "
                "rename one"
            )
        sources[path.name] = path
    if not sources:
        return ()
    target = folder / CODE_DIR
    target.mkdir()
    for name, source in sorted(sources.items()):
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=_ignore_non_source)
        else:
            shutil.copy2(source, target / name)
    return tuple(f"{CODE_DIR}/{name}" for name in sorted(sources))


@contextmanager
def importable_code(folder: Path, code_paths: Sequence[str]) -> Iterator[None]:
    """Make the model's ``code/`` importable while loading (and after, unless names clash)."""
    if not code_paths:
        yield
        return
    code_dir = (folder / CODE_DIR).resolve()
    names: set[str] = set()  # top-level modules to import from code/, not from elsewhere
    for entry in code_paths:
        saved = code_dir / Path(entry).name
        name = saved.stem if saved.suffix == ".py" else saved.name
        if not _is_imported_from_same_source(name, saved):
            names.add(name)
    if not names:  # every module of code/ is imported already, with the saved source
        yield
        return
    path_entry = str(code_dir)
    with _SWAP_LOCK:  # one model at a time rearranges sys.modules / sys.path
        shadowed = {k: m for k, m in sys.modules.items() if k.partition(".")[0] in names}
        for key in shadowed:
            del sys.modules[key]
        if path_entry in sys.path:  # loaded before: move it first rather than add it again
            sys.path.remove(path_entry)
        sys.path.insert(0, path_entry)
        try:
            yield
        finally:
            if shadowed:
                for key in [k for k in sys.modules if k.partition(".")[0] in names]:
                    del sys.modules[key]
                sys.modules.update(shadowed)
                sys.path.remove(path_entry)


def _is_imported_from_same_source(name: str, saved: Path) -> bool:
    """True when module ``name`` is imported and its source equals the saved copy."""
    module = sys.modules.get(name)
    live = None if module is None else _module_root(module)
    if live is None or live.is_dir() != saved.is_dir():
        return False
    if saved.is_file():
        return live.read_bytes() == saved.read_bytes()
    for path in saved.rglob("*.py"):
        twin = live / path.relative_to(saved)
        if not twin.is_file() or twin.read_bytes() != path.read_bytes():
            return False
    return True


def _module_root(module: ModuleType) -> Path | None:
    """The file or folder of a module's top-level package (what gets copied)."""
    top = sys.modules.get(module.__name__.partition(".")[0], module)
    file = getattr(top, "__file__", None)
    if file:
        path = Path(file).resolve()
        return path.parent if path.name == "__init__.py" else path
    locations = list(getattr(top, "__path__", []))
    return Path(locations[0]).resolve() if locations else None


def _ignore_non_source(directory: str, names: list[str]) -> list[str]:
    return [
        n
        for n in names
        if n == "__pycache__"
        or n.startswith(".")
        or (Path(directory, n).is_file() and not n.endswith(".py"))
    ]
