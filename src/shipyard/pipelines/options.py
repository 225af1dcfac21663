"""``RunOptions``: how a pipeline is run (executor, parameters, cache switches, resume, tracking).

>>> RunOptions(executor="docker", parallel=2, experiment="cancer-nightly")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RunOptions"]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: executor, parameter overrides, cache switches, parallelism, resume."""

    executor: str = "local"
    params: Mapping[str, Any] = field(default_factory=dict)
    no_cache: bool = False
    no_cache_steps: frozenset[str] = frozenset()
    parallel: int = 1
    resume: str | None = None
    base_image: str | None = None
    build_cache: Path | None = None
    """Where downloaded wheels are kept (default ``$SHIPYARD_HOME/cache/build``)."""
    experiment: str | None = None
    """The tracking experiment of the run's tracked run (default: the pipeline's name)."""
    namespace: str = "default"
    """Kubernetes executor: the namespace its Jobs run in."""
    kube_context: str | None = None
    """Kubernetes executor: kubectl's ``--context`` (default: kubectl's current context)."""
    image_registry: str = ""
    """Kubernetes executor: the registry the cluster pulls the step images from."""
