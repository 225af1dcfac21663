"""The one Docker client of Shipyard: connect, inspect, tag, pull, push and remove images.

Build, run, batch, deploy and pipelines all reach the engine through ``DockerEngine``; the
decisions (what goes in a Dockerfile, which tags, which containers) are made by pure modules
before. ``docker`` exceptions never escape: no engine is a ``DockerUnavailableError`` that says
how to start one, a failed call is a ``BuildError`` naming what was being done (``engine_errors``).

    >>> with DockerEngine.connect() as engine:
    ...     engine.push("127.0.0.1:5000/shipyard/iris:3")
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import docker
import docker.constants
import docker.errors

from shipyard.errors import BuildError, DockerUnavailableError

__all__ = [
    "NO_ENGINE_HINT",
    "BuiltImage",
    "DockerEngine",
    "engine_errors",
    "repo_digest_for",
    "split_tag",
]

_DEFAULT_SOCKET = "unix:///var/run/docker.sock"
NO_ENGINE_HINT = (
    "start Docker or set DOCKER_HOST, or write the build context with "
    "`shipyard dockerfile REF -o DIR` and build it with your own tools"
)


@dataclass(frozen=True, slots=True)
class BuiltImage:
    """An image in the engine: its id, tags, size, layers and (once pushed) repo digests.

    ``layers`` are the root file system's diff ids; ``history`` is one ``(id, created_by)`` per
    instruction, oldest first, where a reused (cached) step keeps its id."""

    id: str
    tags: tuple[str, ...]
    size: int
    layers: tuple[str, ...]
    history: tuple[tuple[str, str], ...]
    repo_digests: tuple[str, ...]
    labels: dict[str, str]
    cached_steps: tuple[int, ...] = ()
    step_images: tuple[str, ...] = ()

    @property
    def digest(self) -> str | None:
        """The registry digest (``sha256:...``) once pushed, else ``None``."""
        return self.repo_digests[0].partition("@")[2] if self.repo_digests else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tags": list(self.tags),
            "size": self.size,
            "digest": self.digest,
            "repo_digests": list(self.repo_digests),
            "layers": len(self.layers),
            "labels": self.labels,
        }


def split_tag(image: str) -> tuple[str, str]:
    """``registry:5000/a/b:tag`` -> (``registry:5000/a/b``, ``tag``); no tag means ``latest``."""
    name, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:
        return image, "latest"
    return name, tag


def _check_unix_socket(docker_host: str, where: str) -> None:
    """Fail fast (and without leaking a socket, as the SDK does) when a unix socket is dead."""
    if not docker_host.startswith("unix://"):
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(5)
        try:
            probe.connect(docker_host.removeprefix("unix://"))
        except OSError as exc:
            raise DockerUnavailableError(
                f"no Docker engine reachable at {where} ({exc}); {NO_ENGINE_HINT}"
            ) from None


@contextmanager
def engine_errors(action: str) -> Iterator[None]:
    """Map any Docker SDK or socket error raised inside the block into the Shipyard tree."""
    try:
        yield
    except docker.errors.ImageNotFound as exc:
        raise BuildError(f"{action}: {exc.explanation or exc}") from exc
    except docker.errors.APIError as exc:
        raise BuildError(f"{action}: {exc.explanation or exc}") from exc
    except docker.errors.DockerException as exc:
        raise DockerUnavailableError(
            f"{action}: no Docker engine reachable ({exc}); {NO_ENGINE_HINT}"
        ) from exc
    except OSError as exc:  # the socket went away mid-call
        raise DockerUnavailableError(f"{action}: {exc}; {NO_ENGINE_HINT}") from exc


class DockerEngine:
    """A connected Docker engine."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client

    @classmethod
    def connect(cls, timeout: int = 600) -> DockerEngine:
        """Connect using ``DOCKER_HOST`` or the default socket; fail fast when no engine answers."""
        where = os.environ.get("DOCKER_HOST") or "the default socket"
        _check_unix_socket(os.environ.get("DOCKER_HOST") or _DEFAULT_SOCKET, where)
        # Ask the engine its API version ourselves: the SDK's own probe leaks its socket on failure.
        probe = docker.from_env(version=docker.constants.MINIMUM_DOCKER_API_VERSION, timeout=10)
        try:
            api_version = str(probe.version()["ApiVersion"])
        except (docker.errors.DockerException, OSError) as exc:
            raise DockerUnavailableError(
                f"no Docker engine reachable at {where} ({exc}); {NO_ENGINE_HINT}"
            ) from None
        finally:
            probe.close()
        client = docker.from_env(version=api_version, timeout=timeout)
        return cls(client)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> DockerEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def base_digest(self, image: str) -> str | None:
        """The repo digest of a local base image, when the engine knows one (pulled images)."""
        with engine_errors(f"inspecting {image}"):
            try:
                attrs = self.client.api.inspect_image(image)
            except docker.errors.ImageNotFound:
                return None
        return repo_digest_for(image, attrs.get("RepoDigests") or ())

    def inspect(self, image: str) -> BuiltImage:
        """What the engine knows about ``image`` (an id or a tag)."""
        with engine_errors(f"inspecting {image}"):
            attrs = self.client.api.inspect_image(image)
            history = self.client.api.history(attrs["Id"])
        return BuiltImage(
            id=attrs["Id"],
            tags=tuple(attrs.get("RepoTags") or ()),
            size=int(attrs.get("Size") or 0),
            layers=tuple(attrs.get("RootFS", {}).get("Layers") or ()),
            history=tuple((str(h.get("Id")), str(h.get("CreatedBy"))) for h in reversed(history)),
            repo_digests=tuple(attrs.get("RepoDigests") or ()),
            labels=dict((attrs.get("Config") or {}).get("Labels") or {}),
        )

    def push(self, image: str, on_line: Callable[[str], None] | None = None) -> str:
        """Push ``image`` (``registry/repo:tag``) and return the digest the registry gave it."""
        repository, tag = split_tag(image)
        digest: str | None = None
        with engine_errors(f"pushing {image}"):
            for message in self.client.api.push(repository, tag=tag, stream=True, decode=True):
                if "error" in message or "errorDetail" in message:
                    raise BuildError(f"pushing {image} failed: {message.get('error')}")
                aux = message.get("aux")
                if isinstance(aux, dict) and aux.get("Digest"):
                    digest = str(aux["Digest"])
                status = message.get("status")
                if status and on_line is not None:
                    on_line(str(status))
        if digest is None:
            raise BuildError(f"pushing {image} finished without a digest from the registry")
        return digest

    def pull(self, image: str) -> BuiltImage:
        """Pull ``image`` from its registry."""
        repository, tag = split_tag(image)
        with engine_errors(f"pulling {image}"):
            self.client.api.pull(repository, tag=tag)
        return self.inspect(image)

    def tag(self, image: str, target: str) -> None:
        repository, tag = split_tag(target)
        with engine_errors(f"tagging {image} as {target}"):
            self.client.api.tag(image, repository, tag)

    def remove_image(self, image: str, *, force: bool = True) -> bool:
        """Remove ``image``; False when it is gone already or (without force) still in use."""
        with engine_errors(f"removing {image}"):
            try:
                self.client.api.remove_image(image, force=force)
            except docker.errors.ImageNotFound:
                return False
            except docker.errors.APIError as exc:
                if force or exc.status_code != 409:
                    raise
                return False
        return True


def repo_digest_for(image: str, repo_digests: Iterable[str]) -> str | None:
    """The digest among ``repo_digests`` that belongs to ``image``'s own repository.

    A digest is only valid with the repository it was pushed to or pulled from: an image also
    pushed to ``127.0.0.1:5000/python`` has a digest there that ``python@sha256:...`` cannot
    resolve. Docker Hub's implicit ``docker.io/`` and ``library/`` prefixes are the only aliases.
    """
    wanted = _canonical_repository(split_tag(image.partition("@")[0])[0])
    for entry in repo_digests:
        name, _, digest = str(entry).partition("@")
        if _canonical_repository(name) == wanted:
            return digest
    return None


def _canonical_repository(name: str) -> str:
    for prefix in ("docker.io/", "index.docker.io/"):
        name = name.removeprefix(prefix)
    return name if "/" in name else f"library/{name}"
