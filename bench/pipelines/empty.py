"""One empty step, sharing the example's environment (and so its docker step image)."""

from __future__ import annotations

import shipyard


@shipyard.step(cache=False)
def empty() -> int:
    return 0


@shipyard.pipeline(requirements=["scikit-learn>=1.3", "pyarrow>=14"])
def nothing() -> None:
    empty()
