"""``shipyard models ...``: inspect and manage registered models.

Every command prints a readable Rich table, or one JSON document with ``--json``; errors exit
non-zero (see ``cli/output.py``).

    shipyard models list
    shipyard models alias set iris production 3
    shipyard models tag set iris 3 team=risk
    shipyard models delete iris:1                 # one version; a bare name deletes nothing
    shipyard models delete iris --all --yes       # every version (asks first without --yes)
    shipyard models export iris@production -o iris.tar.gz   # refuses to overwrite unless --force
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli import signing, tags
from shipyard.cli.output import handle_errors, print_json, print_table, spinner, stdout
from shipyard.cli.version_details import human_size, print_version, when
from shipyard.errors import InvalidInputError
from shipyard.refs import ModelRef

if TYPE_CHECKING:
    from shipyard.registry import AliasEvent, ModelVersion, Registry

# Only light imports up here: ``shipyard --help`` imports this module, and the registry (with
# SQLAlchemy, numpy and pandas) is imported by the commands that open it.

__all__ = ["app"]

app = typer.Typer(help="Inspect and manage registered models.", no_args_is_help=True)
alias_app = typer.Typer(
    help="Move or remove an alias (production, staging, ...).", no_args_is_help=True
)
app.add_typer(alias_app, name="alias")
app.add_typer(tags.app, name="tag")
app.command("keygen")(signing.keygen)
app.command("sign")(signing.sign)
app.command("signatures")(signing.signatures)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Ref = Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.", show_default=False)]
Name = Annotated[str, typer.Argument(help="Model name.", show_default=False)]
Alias = Annotated[str, typer.Argument(help="Alias, e.g. production.", show_default=False)]


@contextmanager
def _registry() -> Iterator[Registry]:
    from shipyard.config import Settings
    from shipyard.registry import Registry

    with Registry.from_settings(Settings.from_env()) as registry:
        yield registry


def _event_row(event: AliasEvent) -> list[object]:
    return [
        when(event.at),
        event.alias,
        event.action,
        event.from_version if event.from_version is not None else "-",
        event.to_version if event.to_version is not None else "-",
        event.actor,
    ]


def _changed(event: AliasEvent | None) -> dict[str, object]:
    """The ``--json`` result of every alias move: ``{"changed": bool, "event": {...} | null}``."""
    return {"changed": event is not None, "event": event.to_dict() if event else None}


@app.command("list")
@handle_errors
def list_models(as_json: AsJson = False) -> None:
    """List registered models with their latest version and aliases."""
    with _registry() as registry:
        summaries = registry.list_models()
    if as_json:
        print_json([s.to_dict() for s in summaries])
        return
    rows = [
        [
            s.name,
            s.latest_version,
            s.version_count,
            ", ".join(f"{a}→{v}" for a, v in s.aliases.items()),
            when(s.updated_at),
        ]
        for s in summaries
    ]
    print_table("Models", ["name", "latest", "versions", "aliases", "updated"], rows)


@app.command()
@handle_errors
def show(ref: Ref, as_json: AsJson = False) -> None:
    """Show one version: digest, lineage, requirements, metadata, tags, signature, files."""
    with _registry() as registry:
        version = registry.get(ref)
    if as_json:
        print_json(version.to_dict())
    else:
        print_version(version)


@app.command()
@handle_errors
def versions(name: Name, as_json: AsJson = False) -> None:
    """List every version of a model."""
    with _registry() as registry:
        found = registry.list_versions(name)
    if as_json:
        print_json([v.to_dict() for v in found])
        return
    rows = [
        [
            v.version,
            ", ".join(v.aliases),
            v.flavor,
            when(v.created_at),
            v.created_by,
            human_size(v.size_bytes),
            v.digest[:16],
        ]
        for v in found
    ]
    columns = ["version", "aliases", "flavor", "created", "by", "size", "digest"]
    print_table(f"Versions of {name}", columns, rows)


@alias_app.command("set")
@handle_errors
def alias_set(
    name: Name,
    alias: Alias,
    version: Annotated[int, typer.Argument(help="Version number.", show_default=False)],
    as_json: AsJson = False,
) -> None:
    """Point ALIAS of model NAME at VERSION (recorded in the history)."""
    with _registry() as registry:
        event = registry.set_alias(name, alias, version)
    if as_json:
        print_json(_changed(event))
    elif event is None:
        stdout.print(f"{name}@{alias} already points at version {version}")
    else:
        previous = f" (was {event.from_version})" if event.from_version is not None else ""
        stdout.print(f"{name}@{alias} → version {version}{previous}")


@alias_app.command("rm")
@handle_errors
def alias_rm(name: Name, alias: Alias, as_json: AsJson = False) -> None:
    """Remove ALIAS from model NAME (recorded in the history)."""
    with _registry() as registry:
        event = registry.remove_alias(name, alias)
    if as_json:
        print_json(_changed(event))
    else:
        stdout.print(f"removed {name}@{alias} (was version {event.from_version})")


@app.command()
@handle_errors
def rollback(name: Name, alias: Alias, as_json: AsJson = False) -> None:
    """Move ALIAS back to the version it pointed at before its last move."""
    with _registry() as registry:
        event = registry.rollback(name, alias)
    if as_json:
        print_json(_changed(event))
    else:
        stdout.print(f"{name}@{alias} → version {event.to_version} (was {event.from_version})")


@app.command()
@handle_errors
def history(name: Name, as_json: AsJson = False) -> None:
    """Show every alias move of a model: who, when, from, to."""
    with _registry() as registry:
        events = registry.history(name)
    if as_json:
        print_json([e.to_dict() for e in events])
        return
    columns = ["when", "alias", "action", "from", "to", "by"]
    print_table(f"Alias history of {name}", columns, [_event_row(e) for e in events])


@app.command()
@handle_errors
def delete(
    ref: Annotated[
        str, typer.Argument(help="NAME:VERSION or NAME@ALIAS; NAME with --all.", show_default=False)
    ],
    every: Annotated[
        bool, typer.Option("--all", help="Delete every version of NAME (asks to confirm).")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Confirm --all without a prompt (for scripts).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Also remove aliases pointing at the version(s).")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Delete one version; refused while an alias points at it unless --force.

    A bare NAME deletes nothing: give NAME:VERSION, or NAME --all to delete every version.
    """
    target = ModelRef.parse(ref)
    if every:
        if not target.is_latest:
            raise InvalidInputError(f"--all deletes every version of a name: give {target.name}")
        _confirm_delete_all(target.name, yes=yes)
        with _registry() as registry:
            deleted = registry.delete_all(target.name, force=force)
    elif target.is_latest:
        name = target.name
        raise InvalidInputError(
            f"'{ref}' names no fixed version, so nothing was deleted: give {name}:VERSION (or "
            f"{name}@ALIAS) to delete one version, or '{name} --all' to delete every version"
        )
    else:
        with _registry() as registry:
            deleted = [registry.delete(target, force=force)]
    if as_json:
        print_json({"deleted": [_model_ref(v) for v in deleted]})
    else:
        numbers = ", ".join(str(v.version) for v in deleted)
        stdout.print(f"deleted {target.name} version(s) {numbers}")


def _confirm_delete_all(name: str, *, yes: bool) -> None:
    """Ask before deleting every version; without a terminal, only ``--yes`` confirms."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise InvalidInputError(
            f"refusing to delete every version of {name} without confirmation: "
            "stdin is not a terminal, so pass --yes"
        )
    if not typer.confirm(f"Delete every version of {name}?", default=False, err=True):
        raise InvalidInputError(f"nothing deleted: every version of {name} is kept")


def _model_ref(version: ModelVersion) -> dict[str, object]:
    """A version inside another result: ``{"name", "version", "digest"}``."""
    return {"name": version.name, "version": version.version, "digest": version.digest}


@app.command()
@handle_errors
def export(
    ref: Ref,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Archive file to write (.tar.gz).")
    ],
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUTPUT if it exists.")] = False,
    as_json: AsJson = False,
) -> None:
    """Write one version to a single archive file for air-gapped transfer."""
    with _registry() as registry, spinner(f"exporting {ref}", enabled=not as_json):
        version = registry.get(ref)
        path = registry.export(version.ref, output, overwrite=force)
    if as_json:
        print_json({"model": _model_ref(version), "path": str(path)})
    else:
        stdout.print(f"exported {version.name}:{version.version} to {path}", markup=False)


@app.command("import")
@handle_errors
def import_(
    archive: Annotated[Path, typer.Argument(help="Archive written by 'export'.")],
    as_json: AsJson = False,
) -> None:
    """Register the version inside an export archive (its digest is checked first)."""
    with _registry() as registry, spinner(f"importing {archive}", enabled=not as_json):
        version = registry.import_archive(archive)
    if as_json:
        print_json(version.to_dict())
    else:
        stdout.print(f"imported {version.name}:{version.version} (sha256:{version.digest[:16]})")
