"""``shipyard models tag set|rm``: mutable key/value tags on an immutable version.

shipyard models tag set iris 3 team=risk reviewed=yes
shipyard models tag rm iris 3 reviewed --json
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.output import handle_errors, print_json, stdout
from shipyard.config import Settings
from shipyard.errors import InvalidInputError
from shipyard.refs import ModelRef

if TYPE_CHECKING:
    from shipyard.registry import ModelVersion

__all__ = ["app"]

app = typer.Typer(
    help="Set or remove tags of a version (key=value metadata).", no_args_is_help=True
)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Name = Annotated[str, typer.Argument(help="Model name.", show_default=False)]
Version = Annotated[int, typer.Argument(help="Version number.", show_default=False)]


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["team=risk", "note=a=b"]`` -> ``{"team": "risk", "note": "a=b"}``."""
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"tag {item!r} is not KEY=VALUE: write e.g. team=risk")
        tags[key.strip()] = value
    return tags


@app.command("set")
@handle_errors
def tag_set(
    name: Name,
    version: Version,
    tags: Annotated[list[str], typer.Argument(help="KEY=VALUE pairs.", show_default=False)],
    as_json: AsJson = False,
) -> None:
    """Add or overwrite tags of NAME:VERSION."""
    assignments = parse_assignments(tags)
    from shipyard.registry import Registry

    with Registry.from_settings(Settings.from_env()) as registry:
        updated = registry.set_tags(ModelRef(name, version=version), assignments)
    _report(updated, f"set {', '.join(assignments)} on", as_json=as_json)


@app.command("rm")
@handle_errors
def tag_rm(
    name: Name,
    version: Version,
    keys: Annotated[list[str], typer.Argument(help="Tag keys to remove.", show_default=False)],
    as_json: AsJson = False,
) -> None:
    """Remove tags of NAME:VERSION (every key must exist)."""
    from shipyard.registry import Registry

    with Registry.from_settings(Settings.from_env()) as registry:
        updated = registry.remove_tags(ModelRef(name, version=version), keys)
    _report(updated, f"removed {', '.join(keys)} from", as_json=as_json)


def _report(version: ModelVersion, action: str, *, as_json: bool) -> None:
    if as_json:
        print_json({"name": version.name, "version": version.version, "tags": version.tags})
        return
    stdout.print(f"{action} {version.name}:{version.version}", markup=False)
    for key, value in sorted(version.tags.items()):
        stdout.print(f"  {key}={value}", markup=False)
