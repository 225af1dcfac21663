"""Build a context into an image on the Docker engine, and remove what a build made.

The decisions (what goes in the Dockerfile, which tags) were made by the pure modules before; a
failed build gives a ``BuildError`` with the failing step and its output.

    >>> with DockerEngine.connect() as engine:
    ...     image = build_context_image(engine, context, on_line=print)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from shipyard.docker_engine import BuiltImage, DockerEngine, engine_errors, split_tag
from shipyard.errors import BuildError
from shipyard.image.buildlog import BuildLog
from shipyard.image.context import BuildContext

__all__ = ["build_context_image", "remove_build"]


def build_context_image(
    engine: DockerEngine,
    context: BuildContext,
    *,
    no_cache: bool = False,
    on_line: Callable[[BuildLog, str], None] | None = None,
    log: BuildLog | None = None,
) -> BuiltImage:
    """Build ``context`` and tag it with every tag of its spec (``log`` follows the build)."""
    log = log if log is not None else BuildLog()
    tags = context.spec.tags
    with engine_errors(f"building {tags[0]}"):
        stream = engine.client.api.build(
            path=str(context.path),
            tag=tags[0],
            rm=True,
            forcerm=True,
            nocache=no_cache,
            pull=False,
            decode=True,
        )
        for message in stream:
            line = log.feed(message)
            if line is not None and on_line is not None:
                on_line(log, line)
        if log.failed or log.image_id is None:
            raise BuildError(f"building {tags[0]}: {log.failure_report()}")
        for tag in tags[1:]:
            repository, name = split_tag(tag)
            engine.client.api.tag(log.image_id, repository, name)
    image = engine.inspect(log.image_id)
    return replace(image, cached_steps=tuple(log.cached_steps), step_images=tuple(log.step_images))


def remove_build(engine: DockerEngine, image: BuiltImage, tags: Sequence[str]) -> None:
    """Untag ``tags`` (the image goes when no tag is left) and remove the stage images this
    build made; images that other builds share or tag are left alone."""
    for tag in tags:
        engine.remove_image(tag, force=False)
    for step_image in reversed(image.step_images):
        engine.remove_image(step_image, force=False)
