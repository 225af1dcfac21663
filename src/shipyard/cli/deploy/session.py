"""What a deployments command holds while it runs: the connected target, the records and a
progress line, each opened once and closed when the command ends.

    with deployment_session("cancer", as_json=False) as (target, deployments, progress):
        deployments.promote("cancer", target, progress=progress)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING

from shipyard.cli.output import err_console, spinner
from shipyard.config import Settings

if TYPE_CHECKING:
    from shipyard.deploy.images import ImageSource
    from shipyard.deploy.service import Deployments
    from shipyard.deploy.spec import DeploymentSpec
    from shipyard.deploy.targets.base import Progress, Target

__all__ = ["connected", "connected_to", "deployment_session", "progress_line", "with_image"]


@contextmanager
def connected(spec: DeploymentSpec) -> Iterator[Target]:
    """The target ``spec`` runs on, connected as it says (for Kubernetes: its kubeconfig
    context and namespace), and closed afterwards."""
    from shipyard.deploy.targets import connect_target

    with closing(connect_target(spec.target, spec=spec)) as target:
        yield target


@contextmanager
def connected_to(name: str, settings: Settings) -> Iterator[Target]:
    """The target deployment ``name`` runs on, connected as its latest revision says."""
    from shipyard.deploy.history import DeploymentRecords

    with DeploymentRecords.open(settings) as records:
        latest = records.history(name)[-1].spec
    with connected(latest) as target:
        yield target


@contextmanager
def deployment_session(
    name: str, *, as_json: bool
) -> Iterator[tuple[Target, Deployments, Progress]]:
    """The target ``name`` runs on, the deployments and a progress line."""
    from shipyard.deploy.service import Deployments

    settings = Settings.from_env()
    with (
        connected_to(name, settings) as target,
        Deployments.open(settings) as deployments,
        progress_line(enabled=not as_json) as progress,
    ):
        yield target, deployments, progress


@contextmanager
def progress_line(*, enabled: bool) -> Iterator[Progress]:
    """A spinner on stderr whose text follows the steps, each also logged (silent for --json)."""
    if not enabled:
        yield lambda _message: None
        return
    with err_console.status("deploying") as status:

        def step(message: str) -> None:
            status.update(message)
            err_console.print(f"  {message}", soft_wrap=True, highlight=False)

        yield step


def with_image(
    target: Target,
    source: ImageSource,
    spec: DeploymentSpec,
    settings: Settings,
    base_image: str | None,
    *,
    as_json: bool,
) -> DeploymentSpec:
    """Build the image first when a registry version has none yet (targets with a local
    ``engine`` only: a cluster pulls from a registry)."""
    engine = target.engine
    if engine is None:
        return spec
    from shipyard.deploy.images import ensure_image

    with spinner(f"checking image {source.image}", enabled=not as_json):
        image = ensure_image(
            engine, source, settings, base_image=base_image, cache_dir=settings.wheel_cache
        )
    return spec.with_changes(image_digest=image.digest or image.id)
