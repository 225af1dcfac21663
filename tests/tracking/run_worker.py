"""A training script run in a subprocess: starts a run, says so on stdout, then waits to be
killed (``wait``) or logs ``N`` metrics and ends (``log N``)."""

from __future__ import annotations

import sys
import time

import shipyard


def main() -> None:
    mode = sys.argv[1]
    with shipyard.start_run(experiment=sys.argv[2], heartbeat_interval_s=0.2) as run:
        if mode == "wait":
            print(run.id, flush=True)
            time.sleep(60)
        else:
            for step in range(int(sys.argv[3])):
                run.log_metric("loss", 1.0 / (step + 1), step=step)
            print(run.id, flush=True)


if __name__ == "__main__":
    main()
