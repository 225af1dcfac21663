"""``shipyard models ...``: inspect and manage registered models.

Every command prints a readable Rich table, or one JSON document with ``--json``; errors exit
non-zero (see ``cli/output.py``).

    shipyard models list
    shipyard models alias set iris production 3
    shipyard models tag set iris 3 team=risk
    shipyard models export iris@production -o iris.tar.gz
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli import tags
from shipyard.cli.output import handle_errors, print_json, print_table, spinner, stdout
from shipyard.config import Settings
from shipyard.registry import AliasEvent, ModelVersion, Registry

__all__ = ["app"]

app = typer.Typer(help="Inspect and manage registered models.", no_args_is_help=True)
alias_app = typer.Typer(
    help="Move or remove an alias (production, staging, ...).", no_args_is_help=True
)
app.add_typer(alias_app, name="alias")
app.add_typer(tags.app, name="tag")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Ref = Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.", show_default=False)]
Name = Annotated[str, typer.Argument(help="Model name.", show_default=False)]
Alias = Annotated[str, typer.Argument(help="Alias, e.g. production.", show_default=False)]


@contextmanager
def _registry() -> Iterator[Registry]:
    with Registry.from_settings(Settings.from_env()) as registry:
        yield registry


def _when(version: ModelVersion | AliasEvent) -> str:
    moment = version.created_at if isinstance(version, ModelVersion) else version.at
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _event_row(event: AliasEvent) -> list[object]:
    return [
        _when(event),
        event.alias,
        event.action,
        event.from_version if event.from_version is not None else "-",
        event.to_version if event.to_version is not None else "-",
        event.actor,
    ]


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
            s.updated_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        ]
        for s in summaries
    ]
    print_table("Models", ["name", "latest", "versions", "aliases", "updated"], rows)


@app.command()
@handle_errors
def show(ref: Ref, as_json: AsJson = False) -> None:
    """Show one version: digest, flavor, signature, lineage, files."""
    with _registry() as registry:
        version = registry.get(ref)
    if as_json:
        print_json(version.to_dict())
        return
    manifest = version.manifest
    lineage = manifest.lineage
    details = [
        ("model", f"{version.name}:{version.version}"),
        ("aliases", ", ".join(version.aliases) or "-"),
        ("digest", f"sha256:{version.digest}"),
        ("flavor", manifest.flavor),
        ("created", f"{_when(version)} by {version.created_by}"),
        ("python", manifest.requirements.python_version),
        ("requirements", ", ".join(manifest.requirements.to_lines()) or "-"),
        ("run id", lineage.run_id or "-"),
        ("git commit", lineage.git_commit or "-"),
        ("tags", ", ".join(f"{k}={v}" for k, v in version.tags.items()) or "-"),
        ("size", _size(version.size_bytes)),
    ]
    print_table(f"{version.name}:{version.version}", ["field", "value"], details)
    if version.signature is not None:
        specs = [("input", s) for s in version.signature.inputs]
        specs += [("output", s) for s in version.signature.outputs]
        rows = [[kind, s.name, s.dtype.value, list(s.shape)] for kind, s in specs]
        print_table("Signature", ["", "name", "dtype", "shape"], rows)
    files = [[f.path, _size(f.size), f.sha256[:16]] for f in version.files]
    print_table("Files", ["path", "size", "sha256"], files)


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
            _when(v),
            v.created_by,
            _size(v.size_bytes),
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
        print_json({"changed": event is not None, "event": event.to_dict() if event else None})
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
        print_json(event.to_dict())
    else:
        stdout.print(f"removed {name}@{alias} (was version {event.from_version})")


@app.command()
@handle_errors
def rollback(name: Name, alias: Alias, as_json: AsJson = False) -> None:
    """Move ALIAS back to the version it pointed at before its last move."""
    with _registry() as registry:
        event = registry.rollback(name, alias)
    if as_json:
        print_json(event.to_dict())
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
    ref: Ref,
    force: Annotated[
        bool, typer.Option("--force", help="Also remove aliases pointing at the version.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Delete a version; refused while an alias points at it unless --force."""
    with _registry() as registry:
        version = registry.delete(ref, force=force)
    if as_json:
        print_json({"deleted": f"{version.name}:{version.version}", "digest": version.digest})
    else:
        stdout.print(f"deleted {version.name}:{version.version}")


@app.command()
@handle_errors
def export(
    ref: Ref,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Archive file to write (.tar.gz).")
    ],
    as_json: AsJson = False,
) -> None:
    """Write one version to a single archive file for air-gapped transfer."""
    with _registry() as registry, spinner(f"exporting {ref}", enabled=not as_json):
        version = registry.get(ref)
        path = registry.export(version.ref, output)
    if as_json:
        print_json({"model": f"{version.name}:{version.version}", "path": str(path)})
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
