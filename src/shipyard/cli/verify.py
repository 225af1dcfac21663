"""``shipyard verify IMAGE|REF``: run an image's smoke test on demand (for CI/CD).

    shipyard verify cancer@production --json     # the image built for that version
    shipyard verify 127.0.0.1:5000/cancer:3      # any Shipyard image

The image loads its model with no network and predicts the golden sample saved with it; a
failure exits 11 with the container's error. When the image's model is registered here, the load
time and peak memory are recorded as version tags (``shipyard.smoke.*``).
``verify-self`` is what runs inside the image (hidden).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.output import exit_code_for, handle_errors, print_json, spinner, stdout
from shipyard.config import Settings
from shipyard.errors import InvalidNameError, NotFoundError, SmokeTestError, StoreError
from shipyard.refs import ModelRef

SMOKE_TEST_EXIT = exit_code_for(SmokeTestError("smoke test failed"))

if TYPE_CHECKING:
    from shipyard.docker_engine import BuiltImage
    from shipyard.image.smoketest import SmokeTest

__all__ = ["print_smoke_test", "record_smoke_test", "verify", "verify_self"]


@handle_errors
def verify(
    target: Annotated[str, typer.Argument(help="An image, or a model reference (its image).")],
    timeout: Annotated[float, typer.Option(help="Seconds the check may take.")] = 300.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Run an image once without network: load the model, predict its golden sample."""
    from shipyard.deploy.images import resolve_image
    from shipyard.docker_engine import DockerEngine
    from shipyard.image.smoketest import require_passed, run_smoke_test

    settings = Settings.from_env()
    image = resolve_image(target, settings).image
    with DockerEngine.connect() as engine:
        with spinner(f"smoke test of {image} (no network)", enabled=not as_json):
            result = run_smoke_test(engine, image, timeout_s=timeout)
        built = engine.inspect(result.image_id)
    recorded = record_smoke_test(settings, built, result) if result.passed else None
    if as_json and not result.passed:
        print_json({**result.to_dict(), "recorded_on": recorded})
        raise typer.Exit(SMOKE_TEST_EXIT)
    require_passed(result)
    if as_json:
        print_json({**result.to_dict(), "recorded_on": recorded})
    else:
        print_smoke_test(result, recorded)


def verify_self(
    folder: Annotated[Path, typer.Argument(help="The model folder inside the image.")],
) -> None:
    """Check the model folder in this image and print one JSON line (used by the smoke test)."""
    from shipyard.image.selfcheck import run_self_check

    check = run_self_check(folder)
    sys.stdout.write(json.dumps(check.to_dict(), sort_keys=True) + "\n")
    sys.stdout.flush()
    raise typer.Exit(0 if check.passed else SMOKE_TEST_EXIT)


def record_smoke_test(settings: Settings, image: BuiltImage, result: SmokeTest) -> str | None:
    """Tag the registered version the image serves with the smoke test's figures (when the
    registry here holds that exact version); return its reference, or None."""
    labels = image.labels
    name, number = labels.get("io.shipyard.model.name"), labels.get("io.shipyard.model.version")
    if not name or not number or not number.isdigit():
        return None
    from shipyard.registry.registry import Registry

    try:
        with Registry.from_settings(settings) as registry:
            version = registry.get(ModelRef(name, version=int(number)))
            if version.digest != labels.get("io.shipyard.model.digest"):
                return None
            registry.set_tags(version.ref, result.tags())
    except (NotFoundError, InvalidNameError, StoreError):  # not registered here: nothing to tag
        return None
    return f"{name}:{number}"


def print_smoke_test(result: SmokeTest, recorded: str | None) -> None:
    """The human summary of a passed smoke test."""
    check = result.check
    if check is None:  # pragma: no cover - a passed result has a check
        return
    golden = (
        f"golden sample of {check.golden_rows} rows reproduced "
        f"{'exactly' if check.exact else 'within the float tolerance'}"
        if check.golden_rows
        else "no golden sample saved with this version: only loading was checked"
    )
    stdout.print(f"smoke test passed in {result.seconds:.1f}s: {golden}", markup=False)
    stdout.print(
        f"  load {check.load_seconds}s, peak memory {check.peak_rss_bytes / 2**20:.0f} MiB",
        markup=False,
    )
    if recorded:
        stdout.print(f"  recorded as tags of {recorded}", markup=False)
