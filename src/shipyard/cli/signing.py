"""``shipyard models keygen|sign|signatures``: ed25519 signatures on versions.

shipyard models keygen ~/.shipyard/team.key          # team.key (0600) and team.key.pub
shipyard models sign churn:3 --key ~/.shipyard/team.key
SHIPYARD_TRUSTED_KEYS=team.key.pub shipyard models signatures churn:3 --json
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from shipyard.cli.output import (
    err_console,
    error_document,
    exit_code_for,
    handle_errors,
    print_json,
    stdout,
)
from shipyard.config import Settings
from shipyard.errors import TrustError

__all__ = ["keygen", "sign", "signatures"]

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Ref = Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.", show_default=False)]


@handle_errors
def keygen(
    path: Annotated[Path, typer.Argument(help="Private key file to write (PATH.pub beside it).")],
    as_json: AsJson = False,
) -> None:
    """Make an ed25519 key pair for signing versions (never overwrites a file)."""
    from shipyard.registry.signing import generate_key, key_id

    private = generate_key(path)
    result = {"key_id": key_id(private.public_key()), "private": str(path), "public": f"{path}.pub"}
    if as_json:
        print_json(result)
        return
    stdout.print(
        f"key {result['key_id']}: private {path} (keep it secret), public {path}.pub (list it "
        "in SHIPYARD_TRUSTED_KEYS where versions are checked)",
        markup=False,
    )


@handle_errors
def sign(
    ref: Ref,
    key: Annotated[Path, typer.Option("--key", "-k", help="ed25519 private key (PEM).")],
    as_json: AsJson = False,
) -> None:
    """Sign a version's name and digest; the signature is a tag, so it travels with exports."""
    from shipyard.registry import Registry
    from shipyard.registry.signing import key_id, load_private_key

    with Registry.from_settings(Settings.from_env()) as registry:
        version = registry.sign(ref, key)
    kid = key_id(load_private_key(key).public_key())
    if as_json:
        print_json({"name": version.name, "version": version.version, "key_id": kid})
        return
    stdout.print(f"signed {version.name}:{version.version} with key {kid}", markup=False)


@handle_errors
def signatures(ref: Ref, as_json: AsJson = False) -> None:
    """List a version's signatures, checked against SHIPYARD_TRUSTED_KEYS; exits 17 under a
    trust policy when none verifies."""
    from shipyard.registry import Registry
    from shipyard.registry.signing import TrustPolicy

    settings = Settings.from_env()
    with Registry.from_settings(settings) as registry:
        version = registry.get(ref)
    policy = TrustPolicy.from_settings(settings)
    statuses = policy.statuses(version)
    try:
        policy.check(version)
        refusal = None
    except TrustError as exc:
        refusal = exc
    if as_json:
        print_json(
            {
                "name": version.name,
                "version": version.version,
                "digest": version.digest,
                "policy": policy.required,
                "trusted": policy.required and refusal is None,
                "signatures": [status.to_dict() for status in statuses],
                **(error_document(refusal) if refusal else {}),
            }
        )
    else:
        for status in statuses:
            state = {True: "valid", False: "INVALID", None: "key not trusted here"}[status.valid]
            stdout.print(f"{status.key_id}  {state}", markup=False)
        if not statuses:
            stdout.print(f"{version.name}:{version.version} has no signatures", markup=False)
        if refusal:
            err_console.print(f"[bold red]error:[/] {escape(str(refusal))}", soft_wrap=True)
    if refusal:
        raise typer.Exit(exit_code_for(refusal))
