"""The model being served, swapped atomically when a new version arrives.

``ModelRuntime.current`` is read once per request: the request keeps that ``LiveModel`` (its
batcher, its validator, its version) to the end, so a swap never changes a request half-way.
After a swap the old version's batcher finishes what it had queued, then stops: requests in
flight end on the old version, new ones start on the new one, and none fails.
"""

from __future__ import annotations

import asyncio
import logging
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shipyard.models.predictor import LoadedModel
from shipyard.registry.entities import ModelVersion
from shipyard.serve.batching import BatchPolicy, MicroBatcher
from shipyard.serve.validation import InputValidator

__all__ = ["LiveModel", "ModelRuntime", "ServedModel", "python_mismatch"]

logger = logging.getLogger("shipyard.serve")


def python_mismatch(saved_with: str, running: str | None = None) -> str | None:
    """A warning when this Python's major.minor is not the one the model was saved with."""
    running = running or platform.python_version()
    if saved_with.split(".")[:2] == running.split(".")[:2]:
        return None
    return (
        f"the model was saved with Python {saved_with} but this server runs Python {running}: "
        "pickled models may fail or behave differently; build or run it on Python "
        f"{'.'.join(saved_with.split('.')[:2])}"
    )


@dataclass(frozen=True, slots=True)
class ServedModel:
    """A loaded model and which registered version it is (``version`` None when unregistered);
    ``folder`` is where it was loaded from (its golden sample warms it up)."""

    name: str
    model: LoadedModel
    version: int | None = None
    descriptor: ModelVersion | None = None
    folder: Path | None = None

    @classmethod
    def from_version(
        cls, version: ModelVersion, model: LoadedModel, folder: Path | None = None
    ) -> ServedModel:
        return cls(version.name, model, version.version, descriptor=version, folder=folder)

    @property
    def version_label(self) -> str:
        """The version as the V2 protocol writes it (a string; ``"1"`` when unregistered)."""
        return "1" if self.version is None else str(self.version)


@dataclass(frozen=True, slots=True)
class LiveModel:
    """A served model with its own batcher and validator: what a request holds on to."""

    served: ServedModel
    batcher: MicroBatcher
    validator: InputValidator


class ModelRuntime:
    """Holds the current ``LiveModel``; ``swap`` replaces it without failing a request."""

    def __init__(
        self, policy: BatchPolicy, *, on_batch: Callable[[int], None] | None = None
    ) -> None:
        self._policy = policy
        self._on_batch = on_batch
        self._current: LiveModel | None = None
        self._retiring: set[asyncio.Task[None]] = set()

    @property
    def current(self) -> LiveModel | None:
        """The model new requests go to (None until the first one is loaded)."""
        return self._current

    @property
    def queue_depth(self) -> int:
        return 0 if self._current is None else self._current.batcher.queue_depth

    async def swap(self, served: ServedModel) -> None:
        """Make ``served`` the model new requests use; retire the old one once it drains."""
        batcher = MicroBatcher(served.model.predict_named, self._policy, on_batch=self._on_batch)
        await batcher.start()
        old, self._current = (
            self._current,
            LiveModel(served, batcher, InputValidator(served.model.signature)),
        )
        logger.info("serving %s version %s", served.name, served.version_label)
        mismatch = python_mismatch(served.model.manifest.requirements.python_version)
        if mismatch is not None:
            logger.warning("%s version %s: %s", served.name, served.version_label, mismatch)
        if old is not None:
            task = asyncio.get_running_loop().create_task(old.batcher.close())
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)

    async def close(self) -> None:
        """Finish every queued request and stop the predict threads."""
        current, self._current = self._current, None
        if current is not None:
            await current.batcher.close()
        if self._retiring:
            await asyncio.gather(*self._retiring)
