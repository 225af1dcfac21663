"""How much slower the benchmark's forest gets when each call is followed by a short pause.

    python bench/serve/gap.py                  # 6 rounds, 3 s per setting

A server answering one connection can never call the model back to back: between two calls
there is at least the network round trip to the client. This script calls the same model as
``run.py`` in a tight loop (what ``run.py`` calls the in-process limit) and with pauses between
calls, interleaving the settings over several rounds so a noisy neighbour hits them alike, and
prints the median time per call for each. The "1x1 ceiling" is what a server with no overhead
of its own could reach at 1 row and 1 connection, as a share of the tight loop:
tight-loop call time / (call time with a pause + the pause actually slept).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

PAUSES_MS = (0.0, 0.1, 0.2, 0.5)


def time_per_call(
    predict: Callable[[], None], pause_s: float, seconds: float
) -> tuple[float, float]:
    """Mean seconds inside ``predict()`` and in the pause after it, sleeping ``pause_s``."""
    busy, paused, calls, started = 0.0, 0.0, 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        begin = time.perf_counter()
        predict()
        done = time.perf_counter()
        if pause_s:
            time.sleep(pause_s)
        busy += done - begin
        paused += time.perf_counter() - done
        calls += 1
    return busy / calls, paused / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    x, y = load_breast_cancer(return_X_y=True)
    clf = RandomForestClassifier(n_estimators=50, random_state=0).fit(x, y)
    row = x[:1]

    def predict() -> None:
        clf.predict(row)

    time_per_call(predict, 0.0, 1.0)  # warm-up
    samples: dict[float, list[tuple[float, float]]] = {p: [] for p in PAUSES_MS}
    for _ in range(args.rounds):
        for pause_ms in PAUSES_MS:
            samples[pause_ms].append(time_per_call(predict, pause_ms / 1000, args.seconds))
    tight = statistics.median(call for call, _ in samples[0.0])
    print("| pause asked | pause slept | ms per call | vs tight loop | 1x1 ceiling |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for pause_ms, values in samples.items():
        call = statistics.median(c for c, _ in values)
        slept = statistics.median(p for _, p in values)
        print(
            f"| {pause_ms:.1f} ms | {slept * 1000:.3f} ms | {call * 1000:.3f} | "
            f"{call / tight:.0%} | {tight / (call + slept):.0%} |"
        )


if __name__ == "__main__":
    main()
