"""Custom Python models: feature code that runs next to a model, saved and versioned with it.

Subclass ``PythonModel``; ``load`` runs once when the model is loaded (open artifacts, build
clients), ``predict`` runs per batch and may be ``async def``. The module that defines the class is
copied into the model folder's ``code/`` so serving and images import exactly that code (a class
defined in ``__main__``, e.g. in a notebook, is saved by value with cloudpickle instead).

    # churn_model.py
    class Churn(PythonModel):
        def load(self, context: ModelContext) -> None:
            self.clf = context.models["clf"]

        def predict(self, inputs: pd.DataFrame) -> np.ndarray:
            inputs = inputs.assign(ratio=inputs.spend / inputs.visits)
            return self.clf.predict_proba(inputs)[:, 1]

    package_model(Churn(), folder, artifacts={"clf": clf}, sample_input=df, created_by="ana")
    load_folder(folder).predict(df)   # runs Churn.load, then Churn.predict
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import weakref
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.models.predictor import NativePredict

__all__ = ["ModelContext", "PythonModel", "activate", "as_sync"]


@dataclass(frozen=True, slots=True)
class ModelContext:
    """What a ``PythonModel`` gets at load time.

    ``artifacts`` maps each name given in ``package_model(artifacts=...)`` to its path in the model
    folder; ``models`` maps the names of model objects among them to the loaded native object.
    """

    folder: Path
    artifacts: Mapping[str, Path] = field(default_factory=dict)
    models: Mapping[str, Any] = field(default_factory=dict)


class PythonModel:
    """Base class for custom models; override ``predict`` (sync or async) and maybe ``load``."""

    def load(self, context: ModelContext) -> None:
        """Prepare the model once after loading; may be ``async def``."""

    def predict(self, inputs: Any) -> Any:
        """Return predictions for a batch (a DataFrame or an ndarray); may be ``async def``."""
        raise NotImplementedError(f"{type(self).__name__} must implement predict(self, inputs)")


class _LoopThread:
    """A private event loop on a daemon thread that runs coroutines for sync callers."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=_run_until_stopped, args=(self._loop,), name="shipyard-async-model", daemon=True
        )
        self._thread.start()
        weakref.finalize(self, _stop_loop, self._loop)

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result()


def _run_until_stopped(loop: asyncio.AbstractEventLoop) -> None:
    try:
        loop.run_forever()
    finally:
        loop.close()


def _stop_loop(loop: asyncio.AbstractEventLoop) -> None:
    loop.call_soon_threadsafe(loop.stop)


def as_sync(fn: Callable[..., Any], runner: _LoopThread | None = None) -> NativePredict:
    """``fn`` itself when it is sync; else a sync wrapper running it on a private loop.

    The loop lives on its own thread, so the wrapper works from any thread, including one that
    already runs an event loop; every call of one model shares the loop its ``load`` ran on.
    """
    if not inspect.iscoroutinefunction(fn):
        return fn
    loop = runner or _LoopThread()

    def predict(inputs: Any) -> Any:
        return loop.run(fn(inputs))

    predict.__wrapped__ = fn  # type: ignore[attr-defined]
    return predict


def activate(model: PythonModel, context: ModelContext) -> NativePredict:
    """Run ``model.load(context)`` (sync or async) and return its predict as a sync callable."""
    runner = None
    if inspect.iscoroutinefunction(model.load) or inspect.iscoroutinefunction(model.predict):
        runner = _LoopThread()
    if inspect.iscoroutinefunction(model.load):
        assert runner is not None  # noqa: S101 - set just above
        runner.run(model.load(context))
    else:
        model.load(context)
    return as_sync(model.predict, runner)
