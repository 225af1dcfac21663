"""The data flows one way: a stage imports only from stages to its left and the shared core.

    core ◄── models ◄── registry ◄── tracking ◄── _api ◄── serve / image ◄── batch ◄── deploy
         ◄── monitor ◄── pipelines ◄── cli

The core is ``errors``, ``config``, ``refs``, ``types``, ``docker_engine`` (the one Docker client),
``contract`` (the serving contract that images and deployments share), ``kubectl``, ``database``
and ``web`` (the one HTTP core: Starlette apps under uvicorn, for all but the serving hot path).
``serve`` and ``image`` do not import each other; nothing imports ``cli``. ``spark`` (the Spark
UDF) builds on ``batch`` and ``serve``.

The CLI starts light: ``shipyard --help`` imports no stage's command module, and no help, nor
``models list``, loads numpy, pandas, pydantic or ``rich.progress`` (a ``sys.modules`` check in a
subprocess, never a timing; the times are in ``bench/cli``).
"""

from __future__ import annotations

import ast
import graphlib
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
    "web",
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
    "spark": _UP_TO_API | {"serve", "batch", "spark"},
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


def _module_imports(path: Path) -> set[str]:
    """Every ``shipyard...`` module ``path`` imports, in function bodies too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("stage", ["pipelines", "deploy", "cli", "models"])
def test_a_stages_modules_import_one_another_without_a_cycle(stage: str) -> None:
    """E.g. a step hands its call to ``step.CALL_RECORDER`` rather than import ``pipeline``."""
    modules = {
        ".".join(("shipyard", *p.relative_to(PACKAGE).with_suffix("").parts)): p
        for p in (PACKAGE / stage).rglob("*.py")
        if p.name != "__init__.py"
    }
    graph = {name: _module_imports(path) & set(modules) - {name} for name, path in modules.items()}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the loop


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


def test_the_serving_path_loads_no_starlette() -> None:
    """``shipyard serve`` keeps its own tuned HTTP core; of ``shipyard.web`` it uses only the
    logging config, which must not drag Starlette into the server's workers."""
    code = (
        "import sys, shipyard.serve.server, shipyard.cli.main\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'starlette'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


HEAVY = ("numpy", "pandas", "sqlalchemy", "docker", "pydantic", "rich.progress")
_LOADED_HEAVY = (
    "print(sorted(m for m in {*sys.modules, *(n.split('.')[0] for n in sys.modules)}"
    f" if m in {HEAVY!r}))"
)


def _heavy_modules_after(code: str, *, cwd: Path | None = None) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\n{_LOADED_HEAVY}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )
    return list(ast.literal_eval(out.stdout.strip().splitlines()[-1]))


def _run_cli(argv: list[str]) -> str:
    return (
        "import contextlib, io\nfrom shipyard.cli.main import app\nquiet = io.StringIO()\n"
        "with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):\n"
        f"    try:\n        app({argv!r})\n    except SystemExit:\n        pass"
    )


@pytest.mark.parametrize(
    "module", ["shipyard", "shipyard.cli.main", "shipyard.registry", "shipyard.types"]
)
def test_importing_the_facades_loads_nothing_heavy(module: str) -> None:
    """Facades import lazily (PEP 562), so ``--help`` and ``import shipyard`` start fast."""
    assert _heavy_modules_after(f"import {module}") == []


def test_the_registry_loads_no_numpy() -> None:
    """Listing models needs SQLAlchemy, not numpy: ``types.py`` imports numpy on first use."""
    assert "numpy" not in _heavy_modules_after("import shipyard.registry.registry")


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["models", "--help"],
        ["models", "list", "--help"],
        ["pipeline", "run", "--help"],
        ["deployments", "canary", "--help"],
        ["deploy", "--help"],
        ["predict", "--help"],
    ],
    ids=" ".join,
)
def test_help_and_version_load_nothing_heavy(argv: list[str]) -> None:
    """The root lists its sub-commands unloaded (``cli/lazy_group.py``), and a command's help
    builds no pydantic coercion (``cli/typer_coercion.py``)."""
    assert _heavy_modules_after(_run_cli(argv)) == []


def test_the_root_help_imports_no_stage_command_module() -> None:
    code = (
        "import sys\n"
        + _run_cli(["--help"])
        + "\nprint(sorted(m for m in sys.modules if m.startswith('shipyard.cli.')"
        " and m not in ('shipyard.cli.main', 'shipyard.cli.lazy_group',"
        " 'shipyard.cli.typer_coercion')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_models_list_loads_sqlalchemy_but_not_numpy_pandas_or_pydantic(tmp_path: Path) -> None:
    """The database is opened, so SQLAlchemy loads; nothing else heavy does."""
    code = f"import os\nos.environ['SHIPYARD_HOME'] = {str(tmp_path)!r}\n" + _run_cli(
        ["models", "list"]
    )
    assert _heavy_modules_after(code) == ["sqlalchemy"]


def test_lazy_facades_resolve_every_public_name() -> None:
    import shipyard.registry
    import shipyard.serve

    for package in (shipyard, shipyard.registry, shipyard.serve):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = shipyard.nope  # type: ignore[attr-defined]
