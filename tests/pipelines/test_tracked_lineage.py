"""The dataset digest and ancestry the tracked run and the register step get (pure)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

import shipyard
from shipyard.pipelines import Metrics, Model
from shipyard.pipelines.artifacts import StoredArtifact
from shipyard.pipelines.outcomes import StepOutcome
from shipyard.pipelines.tracked import dataset_digest


@shipyard.step
def rows(data: Path) -> np.ndarray:
    return np.zeros(1)


@shipyard.step
def extra() -> np.ndarray:
    return np.zeros(1)


@shipyard.step
def fit(x: np.ndarray, y: np.ndarray) -> Model:
    return object()  # type: ignore[return-value]


@shipyard.step
def score(model: Model) -> Metrics:
    return {"auc": 1.0}


@shipyard.step
def unrelated() -> int:
    return 1


@shipyard.pipeline
def lineage(data: Path = Path("rows.csv")) -> None:
    score(fit(rows(data), extra()))
    unrelated()


def _artifact(digest: str, kind: str = "ndarray") -> StoredArtifact:
    return StoredArtifact(kind=kind, digest=digest, files=())  # type: ignore[arg-type]


def _outcomes() -> dict[str, StepOutcome]:
    return {
        "rows": StepOutcome("rows", "succeeded", outputs={"output": _artifact("a" * 64)}),
        "extra": StepOutcome("extra", "cached", outputs={"output": _artifact("b" * 64)}),
        "unrelated": StepOutcome(
            "unrelated", "succeeded", outputs={"output": _artifact("c" * 64, "json")}
        ),
    }


def test_upstream_of_is_everything_a_node_reads_through_others() -> None:
    graph = lineage.graph()
    assert graph.upstream_of("score") == {"fit", "rows", "extra"}
    assert graph.upstream_of("unrelated") == set()


def test_dataset_digest_combines_file_parameters_and_source_step_data() -> None:
    graph = lineage.graph()
    staged = {"data": _artifact("d" * 64, "file")}
    sources = {"extra.output": "b" * 64, "params.data": "d" * 64, "rows.output": "a" * 64}
    expected = hashlib.sha256(
        json.dumps(sources, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert dataset_digest(graph, _outcomes(), staged, graph.upstream_of("score")) == expected
    # a non-data output (JSON) of a source step is not data
    assert dataset_digest(graph, _outcomes(), staged, ["unrelated"]) is None


def test_one_source_gives_its_own_digest() -> None:
    graph = lineage.graph()
    assert dataset_digest(graph, _outcomes(), {}, ["extra", "fit"]) == "b" * 64
