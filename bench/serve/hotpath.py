"""Micro-benchmarks of what each request pays: metrics, reading JSON values, the whole app.

    python bench/serve/hotpath.py

Compares, in one run (so the ratios hold on a busy machine):

- recording one request's metrics: Shipyard's dicts vs ``prometheus_client`` metric objects in
  multiprocess mode (what "use the library's multiprocess mode" on the hot path would cost);
- a worker copying its totals to the shared directory (``WorkerMetrics.write``, once a second);
- turning JSON rows into an array: the old lenient ``np.asarray(rows, dtype)`` vs the strict
  ``json_array`` (no numeric strings, booleans or nulls), for the serve benchmark's payloads,
  and a 30-column record through ``/predict``'s decoder;
- one whole ``/predict`` of 1 row through ``App.handle`` (routing, middleware, decoding,
  validation, metrics, the prediction log, encoding; no socket), with a model that answers at
  once (a ``DummyClassifier``), so what is left is the server's own time: handed to the predict
  thread (what a request waits for when others are in flight) against called on the loop (a
  request alone, ``batching.py``).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson


def _best_us(call: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(call, number=number, repeat=7)) / number * 1e6


def metrics_figures() -> list[tuple[str, float]]:
    from shipyard.serve.metrics import Metrics
    from shipyard.serve.workermetrics import WorkerMetrics

    metrics = Metrics()

    def record() -> None:
        metrics.in_flight += 1
        metrics.observe_request("/predict", 200, 0.0023)
        metrics.in_flight -= 1

    out = [("metrics per request: Shipyard dicts", _best_us(record, 20_000))]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tmp
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values

        values.ValueClass = values.get_value_class()  # multiprocess values, as in a worker
        registry = CollectorRegistry()
        counter = Counter("req", "r", ["route", "status"], registry=registry)
        histogram = Histogram("lat", "l", ["route"], registry=registry)
        gauge = Gauge("inflight", "i", registry=registry, multiprocess_mode="livesum")

        def record_prometheus() -> None:
            gauge.inc()
            counter.labels("/predict", "200").inc()
            histogram.labels("/predict").observe(0.0023)
            gauge.dec()

        out.append(
            (
                "metrics per request: prometheus_client multiprocess",
                _best_us(record_prometheus, 20_000),
            )
        )
        for route in ("/predict", "/v2/models/{name}/infer", "/metrics", "/readyz"):
            for status in (200, 400):
                metrics.observe_request(route, status, 0.001)
        shared = WorkerMetrics(Path(tmp))
        out.append(
            (
                "worker copy to files (8 series, once a second)",
                _best_us(lambda: shared.write(metrics), 2_000),
            )
        )
        shared.close()
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
    return out


def json_figures() -> list[tuple[str, float]]:
    from sklearn.datasets import load_breast_cancer

    from shipyard.models.signature import Signature, TensorSpec
    from shipyard.serve.jsonarrays import body_may_hold_bools, json_array
    from shipyard.serve.payloads import PayloadDecoder
    from shipyard.types import DType

    x = load_breast_cancer().data
    out = []
    for n in (1, 64):
        body = orjson.dumps(x[:n].tolist())
        rows = orjson.loads(body)
        out.append(
            (
                f"{n} row(s) x 30: lenient np.asarray",
                _best_us(lambda r=rows: np.asarray(r, dtype=np.float64), 2_000),
            )
        )

        def strict(r: object = rows, b: bytes = body) -> object:
            return json_array("x", DType.FP64, r, may_hold_bools=body_may_hold_bools(b))

        out.append((f"{n} row(s) x 30: strict json_array", _best_us(strict, 2_000)))
    names = [f"f{i}" for i in range(30)]
    table = Signature(inputs=tuple(TensorSpec(n, DType.FP64) for n in names), outputs=())
    decoder = PayloadDecoder(table)
    record = orjson.loads(orjson.dumps([dict(zip(names, x[0].tolist(), strict=True))]))

    def lenient() -> object:
        return {n: np.asarray([r[n] for r in record], dtype=np.float64) for n in names}

    out.append(
        ("1 record x 30 columns: lenient, one np.asarray per column", _best_us(lenient, 2_000))
    )
    out.append((
        "1 record x 30 columns: strict PayloadDecoder",
        _best_us(lambda: decoder.decode(record, may_hold_bools=False), 2_000),
    ))  # fmt: skip
    return out


def request_figures() -> list[tuple[str, float]]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.dummy import DummyClassifier

    import shipyard
    from shipyard.config import Settings
    from shipyard.models.loading import load_folder
    from shipyard.registry import Registry
    from shipyard.serve import ServeConfig, create_app
    from shipyard.serve.http import Request
    from shipyard.serve.sources import StaticSource

    x, y = load_breast_cancer(return_X_y=True)
    body = orjson.dumps(x[:1].tolist())
    headers = {b"host": b"127.0.0.1", b"content-type": b"application/json",
               b"content-length": str(len(body)).encode()}  # fmt: skip
    out: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"SHIPYARD_HOME": tmp})
        version = shipyard.save_model(
            DummyClassifier().fit(x, y), "dummy", sample_input=x[:5], settings=settings
        )
        with Registry.from_settings(settings) as registry:
            model = load_folder(registry.fetch(version.ref))
        app = create_app(
            StaticSource(model, "dummy", 1), ServeConfig(prediction_log=f"{tmp}/log.jsonl")
        )

        async def one(alone: bool) -> None:
            request = Request("POST", "/predict", headers, 0)
            app.route(request)
            request.set_body(body)
            request.alone = alone
            assert (await app.handle(request)).status == 200

        async def best_us(alone: bool, number: int = 2_000) -> float:
            times = []
            for _ in range(7):
                started = time.perf_counter()
                for _ in range(number):
                    await one(alone)
                times.append((time.perf_counter() - started) / number * 1e6)
            return min(times)

        async def measure() -> None:
            await app.lifespan.startup()
            while not app.state["dataplane"].is_ready:
                await asyncio.sleep(0.01)
            await one(True)  # times the model: the next lone request may go inline
            for label, alone in (("handed to the predict thread", False), ("alone", True)):
                out.append((f"1-row /predict through App.handle, {label}", await best_us(alone)))
            await app.lifespan.shutdown()

        asyncio.run(measure())
        out.append(("the model's own call (DummyClassifier.predict, 1 row)",
                    _best_us(lambda: model.native.predict(x[:1]), 2_000)))  # fmt: skip
    return out


def main() -> None:
    print("| what | µs |\n| --- | ---: |")
    for label, us in [*metrics_figures(), *json_figures(), *request_figures()]:
        print(f"| {label} | {us:.2f} |")


if __name__ == "__main__":
    main()
