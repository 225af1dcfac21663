"""``shipyard build | dockerfile | push``: a registered model becomes a container image.

shipyard build cancer@production --base-image python:3.11-slim --tag 127.0.0.1:5000/cancer:1 --push
                                                    # then smoke-tests the image (no network)
shipyard dockerfile cancer:1 -o ./context          # for CIs that build images themselves
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.output import err_console, handle_errors, print_json, spinner, stdout
from shipyard.config import Settings

if TYPE_CHECKING:
    from shipyard.docker_engine import BuiltImage, DockerEngine
    from shipyard.image.buildlog import BuildLog
    from shipyard.image.smoketest import SmokeTest
    from shipyard.image.spec import BuildSpec
    from shipyard.registry import ModelVersion

# The Docker client, the build pipeline and the registry are imported inside the commands that
# use them: ``shipyard --help`` and ``shipyard serve`` above all start without them.

__all__ = ["build", "dockerfile", "push"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
BaseOption = Annotated[
    str | None,
    typer.Option(help="Base image with a Python 3 (default: python:<model's X.Y>-slim)."),
]
KeepTestsOption = Annotated[
    bool,
    typer.Option("--keep-tests", help="Keep the test suites packages ship (dropped by default)."),
]
CacheOption = Annotated[
    Path | None,
    typer.Option(
        envvar="SHIPYARD_BUILD_CACHE",
        help="Where downloaded wheels are kept (default: $SHIPYARD_HOME/cache/build).",
    ),
]


@handle_errors
def build(
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION, NAME@ALIAS or a model folder.")],
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Image tag(s).")] = None,
    base_image: BaseOption = None,
    push: Annotated[bool, typer.Option("--push", help="Push every tag after building.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore cached layers.")] = False,
    keep_tests: KeepTestsOption = False,
    cache_dir: CacheOption = None,
    no_smoke_test: Annotated[
        bool,
        typer.Option(
            "--no-smoke-test",
            help="Skip running the image once (no network) to load the model and check it.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Build a container image that serves a model version, then smoke-test it."""
    from shipyard.docker_engine import DockerEngine
    from shipyard.image.pipeline import build_image

    folder, spec, cache = _plan(ref, base_image, tag, keep_tests=keep_tests, cache_dir=cache_dir)
    pushed = {}
    smoke = None
    with DockerEngine.connect() as engine:
        with _progress(enabled=not as_json) as on_line:
            image = build_image(
                engine, spec, folder, cache_dir=cache, no_cache=no_cache, on_line=on_line
            )
        if not no_smoke_test:
            smoke = _smoke_test(engine, image, spec, as_json=as_json)
        if push:
            for name in spec.tags:
                with spinner(f"pushing {name}", enabled=not as_json):
                    pushed[name] = engine.push(name)
            image = engine.inspect(image.id)
    _report(image, spec, pushed, smoke, as_json=as_json)


def _smoke_test(
    engine: DockerEngine, image: BuiltImage, spec: BuildSpec, *, as_json: bool
) -> SmokeTest:
    """Run the new image once without network; a failure untags it and fails the build; a pass
    is recorded as tags of the version (when it is registered here)."""
    from shipyard.cli.verify import record_smoke_test
    from shipyard.image.image import remove_build
    from shipyard.image.smoketest import require_passed, run_smoke_test

    with spinner("smoke test: loading the model in the image, no network", enabled=not as_json):
        result = run_smoke_test(engine, image.id)
    if not result.passed:
        remove_build(engine, image, spec.tags)
    require_passed(result)
    record_smoke_test(Settings.from_env(), image, result)
    return result


@handle_errors
def dockerfile(
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION, NAME@ALIAS or a model folder.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="An empty or new folder.")],
    base_image: BaseOption = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Image tag(s).")] = None,
    keep_tests: KeepTestsOption = False,
    cache_dir: CacheOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the build context (Dockerfile, wheelhouse, lock, model) without building."""
    from shipyard.image.pipeline import write_build_context

    folder, spec, cache = _plan(ref, base_image, tag, keep_tests=keep_tests, cache_dir=cache_dir)
    with spinner("resolving and downloading wheels", enabled=not as_json):
        context = write_build_context(spec, folder, output, cache_dir=cache)
    if as_json:
        print_json(
            {
                "path": str(context.path),
                "tags": list(spec.tags),
                "base_image": spec.base_image,
                "lock_sha256": context.lock_sha256,
            }
        )
        return
    stdout.print(f"wrote the build context to [bold]{context.path}[/]")
    stdout.print(f"build it with: docker build -t {spec.tags[0]} {context.path}")


@handle_errors
def push(
    image: Annotated[str, typer.Argument(help="REGISTRY/REPOSITORY:TAG")],
    as_json: JsonOption = False,
) -> None:
    """Push an image to its registry and print its digest."""
    from shipyard.docker_engine import DockerEngine

    with DockerEngine.connect() as engine, spinner(f"pushing {image}", enabled=not as_json):
        digest = engine.push(image)
    if as_json:
        print_json({"image": image, "digest": digest})
    else:
        stdout.print(f"pushed {image} [bold]{digest}[/]")


def _resolve(ref: str, settings: Settings) -> tuple[Path, ModelVersion | None]:
    """A verified model folder for ``ref`` (a registry reference or a folder path)."""
    from shipyard.registry import Registry

    path = Path(ref)
    if path.is_dir():
        return path, None
    with Registry.from_settings(settings) as registry:
        with spinner(f"fetching {ref}"):
            return registry.fetch(ref), registry.get(ref)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[BuildLog, str], None]]:
    """Rich progress over the build's steps on stderr (silent when disabled)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("[bold]building[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err_console,
        disable=not enabled,
        transient=True,
    )
    task = bar.add_task("", total=None)

    def on_line(log: BuildLog, line: str) -> None:
        text = log.instruction if len(log.instruction) < 60 else log.instruction[:57] + "..."
        bar.update(task, total=log.total or None, completed=max(log.step - 1, 0), description=text)

    with bar:
        yield on_line


def _report(
    image: BuiltImage,
    spec: BuildSpec,
    pushed: dict[str, str],
    smoke: SmokeTest | None,
    *,
    as_json: bool,
) -> None:
    if as_json:
        print_json(
            {
                **image.to_dict(),
                "base_image": spec.base_image,
                "base_digest": spec.base_digest,
                "pushed": pushed,
                "model": {
                    "name": spec.model.name,
                    "version": spec.model.version,
                    "digest": spec.model.digest,
                },
                "smoke_test": None if smoke is None else smoke.to_dict(),
            }
        )
        return
    stdout.print(f"built [bold]{image.id[:19]}[/] ({image.size / 1e6:.0f} MB)")
    for name in spec.tags:
        stdout.print(f"  tag    {name}")
    for name, digest in pushed.items():
        stdout.print(f"  pushed {name}@{digest}")
    if image.digest:
        stdout.print(f"  digest {image.digest}")
    if smoke is not None and smoke.check is not None:
        check = smoke.check
        stdout.print(
            f"  smoke  passed: load {check.load_seconds}s, peak memory "
            f"{check.peak_rss_bytes / 2**20:.0f} MiB, golden rows {check.golden_rows}",
            markup=False,
        )
    stdout.print(f"run it with: shipyard run {spec.tags[0]} --port 8080")


def _plan(
    ref: str,
    base_image: str | None,
    tags: list[str] | None,
    *,
    keep_tests: bool,
    cache_dir: Path | None,
) -> tuple[Path, BuildSpec, Path]:
    """Resolve ``ref`` to a verified model folder, plan its build and pick the wheel cache."""
    from shipyard.image.pipeline import plan_build

    settings = Settings.from_env()
    folder, current = _resolve(ref, settings)
    spec = plan_build(
        folder,
        base_image=base_image,
        tags=tuple(tags or ()),
        current=current,
        prune_tests=not keep_tests,
        trusted_keys=settings.trusted_keys,
    )
    return folder, spec, cache_dir or settings.wheel_cache
