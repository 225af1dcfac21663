"""What an executor does, whatever runs the step: the ``Launcher`` protocol.

The runner owns the semantics (cache, retries, skipping, records); a launcher only prepares the
environments (``prepare``: one image per distinct environment, or a check of the local one),
names each node's environment digest, and runs one step folder to its exit or its timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from shipyard.pipelines.graph import Node, PipelineGraph

__all__ = [
    "EXECUTORS",
    "ExecutorName",
    "LaunchResult",
    "Launcher",
    "environment_digests",
    "requirements_of",
]

ExecutorName = Literal["local", "docker", "kubernetes"]
EXECUTORS: tuple[ExecutorName, ...] = ("local", "docker", "kubernetes")


@dataclass(frozen=True, slots=True)
class LaunchResult:
    """How one attempt ended: the exit code (None when killed on timeout or interrupted)."""

    exit_code: int | None
    timed_out: bool
    duration_s: float
    interrupted: bool = False
    """The run was interrupted (Ctrl-C): the step was stopped, and is not retried."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def requirements_of(node: Node, pipeline_requirements: tuple[str, ...]) -> tuple[str, ...]:
    """The step's own requirements, or the pipeline's ("same as the pipeline")."""
    own = node.step.requirements
    return tuple(sorted(pipeline_requirements if own is None else own))


def environment_digests(
    nodes: Iterable[Node],
    pipeline_requirements: tuple[str, ...],
    digest_of: Callable[[tuple[str, ...]], str],
) -> dict[str, str]:
    """Node id -> its environment's digest; ``digest_of`` (check, or build an image) is called
    once per distinct environment."""
    by_environment: dict[tuple[str, ...], str] = {}
    digests: dict[str, str] = {}
    for node in nodes:
        needed = requirements_of(node, pipeline_requirements)
        if needed not in by_environment:
            by_environment[needed] = digest_of(needed)
        digests[node.id] = by_environment[needed]
    return digests


class Launcher(Protocol):
    """Runs step folders: a local process, a container or a Kubernetes Job."""

    name: ExecutorName

    def prepare(
        self,
        graph: PipelineGraph,
        requirements: tuple[str, ...],
        on_line: Callable[[str], None],
    ) -> Mapping[str, str]:
        """Make every node's environment ready; return node id -> environment digest."""
        ...

    def task_source(self, file: Path, project: Path) -> str:
        """The pipeline file as the worker sees it."""
        ...

    def launch(
        self,
        node: Node,
        step_dir: Path,
        project: Path,
        log_path: Path,
        env: Mapping[str, str],
    ) -> LaunchResult:
        """Run the worker on ``step_dir`` until it exits or the step's timeout kills it."""
        ...

    def cancel(self) -> None:
        """Stop every step running now and start no more (the run was interrupted)."""
        ...

    def close(self) -> None: ...
