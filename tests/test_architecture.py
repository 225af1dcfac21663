"""The data flows one way: a stage imports only from stages to its left and the shared core.

    core ◄── models ◄── registry ◄── tracking ◄── _api ◄── serve / image ◄── batch ◄── deploy
         ◄── monitor ◄── pipelines ◄── cli

The core is ``errors``, ``config``, ``refs``, ``types``, ``docker_engine`` (the one Docker client)
and ``contract`` (the serving contract that images and deployments share). ``serve`` and ``image``
do not import each other; nothing imports ``cli``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import shipyard

PACKAGE = Path(shipyard.__file__).parent
CORE = {
    "errors",
    "config",
    "refs",
    "types",
    "lazy",
    "docker_engine",
    "contract",
    "kubectl",
    "database",
}
_UP_TO_API = CORE | {"models", "registry", "tracking", "_api"}
ALLOWED: dict[str, set[str]] = {
    "core": CORE,
    "models": CORE | {"models"},
    "registry": CORE | {"models", "registry"},
    "tracking": CORE | {"models", "registry", "tracking"},
    "_api": CORE | {"models", "registry", "tracking"},
    "serve": _UP_TO_API | {"serve"},
    "image": _UP_TO_API | {"image"},
    "batch": _UP_TO_API | {"serve", "image", "batch"},
    "deploy": _UP_TO_API | {"serve", "image", "batch", "deploy"},
    "monitor": _UP_TO_API | {"serve", "image", "batch", "deploy", "monitor"},
    "pipelines": _UP_TO_API | {"serve", "image", "batch", "deploy", "monitor", "pipelines"},
}


def _stage(module_path: Path) -> str:
    first = module_path.relative_to(PACKAGE).with_suffix("").parts[0]
    return "core" if first in CORE else first


def _shipyard_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "shipyard" and len(parts) > 1:
                found.add(parts[1])
    return found


SOURCES = sorted(
    p for p in PACKAGE.rglob("*.py") if _stage(p) in ALLOWED and "migrations" not in p.parts
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_from_stages_to_its_left(path: Path) -> None:
    stage = _stage(path)
    wrong = sorted(_shipyard_imports(path) - ALLOWED[stage])
    assert not wrong, f"{path.relative_to(PACKAGE)} ({stage}) imports shipyard.{wrong}"


def test_nothing_outside_cli_imports_cli() -> None:
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "cli" not in p.relative_to(PACKAGE).parts[:1]
        and p.name != "__main__.py"
        and "cli" in _shipyard_imports(p)
    ]
    assert offenders == []


def test_the_cli_starts_without_the_docker_client() -> None:
    """``shipyard serve`` never loads docker: its import adds warning filters that slow models.

    scikit-learn re-installs every warning filter for each tree of a forest on every call, so
    each filter docker/requests/urllib3 add costs model time in the server (about 10% here).
    """
    code = "import sys, shipyard.cli.main; print(sorted({'docker', 'requests'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


HEAVY = ("numpy", "pandas", "sqlalchemy", "docker")
_LOADED_HEAVY = f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"


def _heavy_modules_after(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\n{_LOADED_HEAVY}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return list(ast.literal_eval(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", ["shipyard", "shipyard.cli.main", "shipyard.registry"])
def test_importing_the_facades_loads_no_numpy_pandas_sqlalchemy_or_docker(module: str) -> None:
    """Facades import lazily (PEP 562), so ``--help`` and ``import shipyard`` start fast."""
    assert _heavy_modules_after(f"import {module}") == []


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["models", "--help"]])
def test_help_and_version_load_no_numpy_pandas_sqlalchemy_or_docker(argv: list[str]) -> None:
    code = (
        f"from shipyard.cli.main import app\ntry:\n    app({argv!r})\nexcept SystemExit:\n    pass"
    )
    assert _heavy_modules_after(code) == []


def test_lazy_facades_resolve_every_public_name() -> None:
    import shipyard.registry
    import shipyard.serve

    for package in (shipyard, shipyard.registry, shipyard.serve):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = shipyard.nope  # type: ignore[attr-defined]
