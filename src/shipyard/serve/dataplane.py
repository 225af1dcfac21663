"""The transport-neutral data plane: find the model, validate, predict, log, describe.

The V2 and plain-JSON protocol modules only translate HTTP to and from these calls; everything a
prediction means (which version, validation, batching, the prediction log) happens here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from shipyard.errors import NotFoundError, ShipyardError
from shipyard.serve.batching import BatcherClosedError
from shipyard.serve.predlog import PredictionLogger, PredictionRecord
from shipyard.serve.runtime import LiveModel, ModelRuntime, ServedModel

__all__ = ["DataPlane", "InferenceResult", "NotReadyError"]


class NotReadyError(ShipyardError):
    """The model is not loaded yet (or failed to load): try again shortly."""


@dataclass(frozen=True, slots=True)
class InferenceResult:
    """A prediction and the exact version that made it."""

    served: ServedModel
    outputs: dict[str, np.ndarray]


class DataPlane:
    """What every protocol asks of the server, independent of HTTP."""

    def __init__(self, runtime: ModelRuntime, prediction_log: PredictionLogger | None) -> None:
        self._runtime = runtime
        self._log = prediction_log
        self.load_error: str | None = None

    @property
    def is_ready(self) -> bool:
        return self._runtime.current is not None

    def live(self) -> LiveModel:
        """The model new requests go to, or ``NotReadyError`` while it is loading."""
        live = self._runtime.current
        if live is None:
            detail = f": loading failed: {self.load_error}" if self.load_error else " yet"
            raise NotReadyError(f"the model is not loaded{detail}")
        return live

    def find(self, name: str, version: str | None = None) -> LiveModel:
        """The live model if it is the one named (and, when given, that version)."""
        live = self.live()
        served = live.served
        if name != served.name:
            raise NotFoundError(f"unknown model {name!r}: this server serves {served.name!r}")
        if version is not None and version != served.version_label:
            raise NotFoundError(
                f"version {version!r} of model {name!r} is not served here: this server serves "
                f"version {served.version_label}"
            )
        return live

    def log_rejected(self, live: LiveModel, request_id: str, error: Exception) -> None:
        """Log a request whose inputs were refused (monitoring counts them)."""
        if self._log is not None:
            served = live.served
            self._log.log(
                PredictionRecord.rejected(request_id, served.name, served.version, str(error))
            )

    async def infer(
        self,
        live: LiveModel,
        tensors: Mapping[str, np.ndarray],
        request_id: str,
        *,
        alone: bool = False,
    ) -> InferenceResult:
        """Validate ``tensors`` against the signature, predict (batched) and log.

        ``alone``: no other request is being answered (``Request.alone``); see ``batching.py``.
        """
        started = time.perf_counter()
        try:
            inputs, rows = live.validator.validate(tensors)
        except ShipyardError as exc:
            self.log_rejected(live, request_id, exc)
            raise
        try:
            outputs = await live.batcher.submit(inputs, rows, alone=alone)
        except BatcherClosedError:
            # The version was swapped out between lookup and submit: use the new one.
            live = self.live()
            inputs, rows = live.validator.validate(tensors)
            outputs = await live.batcher.submit(inputs, rows)
        served = live.served
        if self._log is not None:
            self._log.log(
                PredictionRecord(
                    request_id=request_id,
                    ts=time.time(),
                    model_name=served.name,
                    model_version=served.version,
                    latency_ms=(time.perf_counter() - started) * 1000.0,
                    inputs=inputs,
                    outputs=outputs,
                )
            )
        return InferenceResult(served, outputs)
