"""The micro-batcher without a server: merging by rows, order, isolation of failures."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping

import numpy as np
import pytest

from shipyard.errors import PredictionError
from shipyard.serve.batching import BatchPolicy, MicroBatcher, merge_inputs, split_outputs


class RecordingModel:
    """Doubles its input; remembers each call's row count and the thread it ran on."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.calls: list[int] = []
        self.threads: set[str] = set()
        self.gate = gate

    def __call__(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.gate is not None:
            self.gate.wait(timeout=10)
        x = inputs["x"]
        if np.any(x < 0):
            raise PredictionError("negative input")
        self.calls.append(len(x))
        self.threads.add(threading.current_thread().name)
        return {"y": x * 2}


async def _run_concurrently(
    model: RecordingModel, policy: BatchPolicy, sizes: list[int], release: bool = True
) -> list[dict[str, np.ndarray] | BaseException]:
    batcher = MicroBatcher(model, policy)
    await batcher.start()
    starts = np.cumsum([0, *sizes])
    tasks = [
        asyncio.create_task(
            batcher.submit({"x": np.arange(starts[i], starts[i + 1], dtype=float)}, size)
        )
        for i, size in enumerate(sizes)
    ]
    await asyncio.sleep(0.05)
    if model.gate is not None and release:
        model.gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    await batcher.close()
    return results


def test_merge_and_split_are_inverse() -> None:
    parts = [{"x": np.arange(2)}, {"x": np.arange(2, 5)}]
    merged = merge_inputs(parts)
    np.testing.assert_array_equal(merged["x"], np.arange(5))
    split = split_outputs({"y": merged["x"] * 10}, [2, 3])
    np.testing.assert_array_equal(split[1]["y"], [20, 30, 40])


def test_split_refuses_outputs_that_lost_the_batch_dimension() -> None:
    with pytest.raises(PredictionError, match="first dimension of every output"):
        split_outputs({"y": np.arange(3)}, [2, 2])


def test_concurrent_callers_each_get_their_own_rows_in_order() -> None:
    model = RecordingModel(gate=threading.Event())
    sizes = [1, 3, 2, 1, 5, 1, 1, 4] * 5
    results = asyncio.run(_run_concurrently(model, BatchPolicy(64, 0.0), sizes))
    start = 0
    for size, result in zip(sizes, results, strict=True):
        assert isinstance(result, dict)
        np.testing.assert_array_equal(result["y"], np.arange(start, start + size) * 2.0)
        start += size
    assert len(model.calls) < len(sizes), "requests queued behind a busy model were merged"
    assert max(model.calls) <= 64
    assert model.threads == {"shipyard-predict"}


def test_merging_counts_rows_not_requests() -> None:
    model = RecordingModel(gate=threading.Event())
    asyncio.run(_run_concurrently(model, BatchPolicy(10, 0.0), [4] * 6))
    assert all(rows <= 10 for rows in model.calls)
    assert sum(model.calls) == 24


def test_a_request_with_many_rows_is_not_held_back() -> None:
    model = RecordingModel()
    results = asyncio.run(_run_concurrently(model, BatchPolicy(8, 0.5), [100]))
    assert isinstance(results[0], dict)
    assert model.calls == [100]


def test_one_failing_request_does_not_fail_the_others_in_its_batch() -> None:
    model = RecordingModel(gate=threading.Event())

    async def scenario() -> list[dict[str, np.ndarray] | BaseException]:
        batcher = MicroBatcher(model, BatchPolicy(64, 0.0))
        await batcher.start()
        blocker = asyncio.create_task(batcher.submit({"x": np.array([0.0])}, 1))
        await asyncio.sleep(0.02)
        good = asyncio.create_task(batcher.submit({"x": np.array([1.0])}, 1))
        bad = asyncio.create_task(batcher.submit({"x": np.array([-1.0])}, 1))
        model.gate.set()  # type: ignore[union-attr]
        results = await asyncio.gather(blocker, good, bad, return_exceptions=True)
        await batcher.close()
        return results

    _blocker, good, bad = asyncio.run(scenario())
    assert isinstance(good, dict)
    np.testing.assert_array_equal(good["y"], [2.0])
    assert isinstance(bad, PredictionError)


def test_without_batching_each_request_is_its_own_call() -> None:
    model = RecordingModel(gate=threading.Event())
    asyncio.run(_run_concurrently(model, BatchPolicy(64, 0.0, enabled=False), [1, 2, 3]))
    assert model.calls == [1, 2, 3]


def test_close_finishes_queued_requests() -> None:
    model = RecordingModel(gate=threading.Event())

    async def scenario() -> list[dict[str, np.ndarray]]:
        batcher = MicroBatcher(model, BatchPolicy(64, 0.0))
        await batcher.start()
        tasks = [asyncio.create_task(batcher.submit({"x": np.ones(1)}, 1)) for _ in range(5)]
        await asyncio.sleep(0.02)
        closing = asyncio.create_task(batcher.close())
        model.gate.set()  # type: ignore[union-attr]
        await closing
        return await asyncio.gather(*tasks)

    assert len(asyncio.run(scenario())) == 5


def test_a_request_alone_goes_to_a_quick_model_on_the_loop_without_a_hand_off() -> None:
    async def scenario() -> list[str]:
        threads: list[str] = []

        def model(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            threads.append(threading.current_thread().name)
            return {"y": inputs["x"] * 2}

        batcher = MicroBatcher(model, BatchPolicy())
        await batcher.start()
        one = {"x": np.ones(1)}
        await batcher.submit(one, 1, alone=True)  # not timed yet: the predict thread
        out = await batcher.submit(one, 1, alone=True)  # timed quick: inline
        await batcher.submit(one, 1)  # others may be waiting: the predict thread
        await batcher.submit({"x": np.ones(3)}, 3, alone=True)  # more rows than timed
        await batcher.close()
        np.testing.assert_array_equal(out["y"], [2.0])
        return threads

    main = threading.current_thread().name
    assert asyncio.run(scenario()) == [
        "shipyard-predict",
        main,
        "shipyard-predict",
        "shipyard-predict",
    ]


def test_a_slow_model_is_never_called_on_the_loop() -> None:
    async def scenario() -> set[str]:
        threads: set[str] = set()

        def model(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            threads.add(threading.current_thread().name)
            return {"y": inputs["x"]}

        batcher = MicroBatcher(model, BatchPolicy(inline_max_s=0.0))
        await batcher.start()
        for _ in range(3):
            await batcher.submit({"x": np.ones(1)}, 1, alone=True)
        await batcher.close()
        return threads

    assert asyncio.run(scenario()) == {"shipyard-predict"}
