"""KFP's local DockerRunner on one empty component, for the side-by-side table.

    /work/peers/kfp/bin/python bench/pipelines/peer_kfp.py --base-image IMG [--repeat 3]

Run in KFP's own virtualenv (never the shared one). No ``from __future__ import annotations``:
KFP reads the annotations as types. Prints one JSON line with the median seconds
per run of the one-step pipeline, or the error that stopped it.
"""

import argparse
import json
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-image", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from kfp import dsl, local

    @dsl.component(base_image=args.base_image)
    def empty() -> int:
        return 0

    @dsl.pipeline
    def one_step() -> int:
        return empty().output

    with tempfile.TemporaryDirectory() as root:
        local.init(runner=local.DockerRunner(), pipeline_root=root)
        samples = []
        try:
            for _ in range(args.repeat):
                started = time.perf_counter()
                one_step()
                samples.append(time.perf_counter() - started)
        except Exception as exc:
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:2000]}))
            return
    print(json.dumps({"median_s": statistics.median(samples), "samples": samples}))


if __name__ == "__main__":
    main()
