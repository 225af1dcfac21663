"""Bad input is reported before anything runs; the graph, parameters, gate and kinds (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pytest

import shipyard
from shipyard.errors import InvalidNameError, PipelineDefinitionError, PipelineRunError
from shipyard.pipelines import Folder, Metrics, Model
from shipyard.pipelines.gate import Gate
from shipyard.pipelines.graph import Binding, Node, PipelineGraph
from shipyard.pipelines.kinds import is_compatible, kind_of
from shipyard.pipelines.params import parse_param_options, resolve_params
from shipyard.pipelines.step import parse_memory


class Split(NamedTuple):
    train: pd.DataFrame
    test: pd.DataFrame


@shipyard.step
def load() -> pd.DataFrame:
    return pd.DataFrame({"x": [1, 2]})


@shipyard.step
def split(frame: pd.DataFrame) -> Split:
    return Split(frame, frame)


@shipyard.step
def fit(data: pd.DataFrame, depth: int) -> Model:
    return object()  # type: ignore[return-value]


@shipyard.step
def score(model: Model, data: pd.DataFrame) -> Metrics:
    return {"auc": 1.0}


@shipyard.step
def wants_array(values: np.ndarray) -> float:
    return float(values.sum())


def test_graph_follows_the_data_and_named_outputs() -> None:
    @shipyard.pipeline
    def flow(depth: int = 3) -> None:
        parts = split(load())
        score(fit(parts.train, depth), parts.test)

    graph = flow.graph()
    assert graph.order() == ("load", "split", "fit", "score")
    assert graph.nodes["score"].upstream() == {"fit", "split"}
    assert graph.nodes["fit"].bindings["depth"] == Binding("param", "depth")
    assert graph.downstream("split") == {"fit", "score"}


def test_missing_input_is_reported_with_the_step_and_input() -> None:
    @shipyard.pipeline
    def flow() -> None:
        fit(load())

    with pytest.raises(PipelineDefinitionError, match="step 'fit' is missing input 'depth'"):
        flow.graph()


def test_type_mismatch_between_steps_is_reported() -> None:
    @shipyard.pipeline
    def flow() -> None:
        wants_array(load())

    with pytest.raises(PipelineDefinitionError, match="expects ndarray but gets DataFrame"):
        flow.graph()


def test_a_cycle_is_reported_with_its_path() -> None:
    a = Node("a", load, {})
    b = Node("b", split, {"frame": Binding("output", "c", "output")})
    c = Node("c", split, {"frame": Binding("output", "b", "train")})
    graph = PipelineGraph("loop", {"a": a, "b": b, "c": c})
    with pytest.raises(PipelineDefinitionError, match=r"has a cycle: .*b.*c"):
        graph.order()


def test_unknown_output_of_a_step_is_reported() -> None:
    @shipyard.pipeline
    def flow() -> None:
        parts = split(load())
        fit(parts.validation, 1)

    with pytest.raises(PipelineDefinitionError, match="has no output 'validation'"):
        flow.graph()


def test_steps_run_as_plain_functions_outside_a_pipeline() -> None:
    assert score(None, pd.DataFrame()) == {"auc": 1.0}  # type: ignore[arg-type]


def test_step_declarations_are_checked() -> None:
    with pytest.raises(PipelineDefinitionError, match="no return annotation"):

        @shipyard.step
        def unannotated(x: int):  # type: ignore[no-untyped-def]
            return x

    with pytest.raises(PipelineDefinitionError, match="memory '2 bananas'"):
        shipyard.step(memory="2 bananas")(load.func)
    assert parse_memory("512Mi") == 512 * 2**20
    assert parse_memory("1G") == 10**9


def test_kinds_and_compatibility() -> None:
    assert kind_of(pd.DataFrame) == "dataframe"
    assert kind_of(np.ndarray) == "ndarray"
    assert kind_of(Path) == "file"
    assert kind_of(Folder) == "folder"
    assert kind_of(Metrics) == "json"
    assert kind_of(int) == "json"
    assert kind_of(Model) == "pickle"
    assert is_compatible(int, float)
    assert not is_compatible(str, int)
    assert is_compatible(pd.DataFrame, Any)
    assert not is_compatible(pd.DataFrame, Model)


def test_parameters_are_coerced_and_checked(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("x\n1\n")

    @shipyard.pipeline
    def flow(depth: int = 3, rate: float = 0.1, data: Path = Path("data.csv")) -> None:
        fit(load(), depth)

    params = flow.parameters
    values = resolve_params(params, parse_param_options(["depth=7"]), tmp_path)
    assert values == {"depth": 7, "rate": 0.1, "data": tmp_path / "data.csv"}
    with pytest.raises(PipelineDefinitionError, match="expects int, got 'seven'"):
        resolve_params(params, {"depth": "seven"}, tmp_path)
    with pytest.raises(PipelineDefinitionError, match="unknown parameter"):
        resolve_params(params, {"dpeth": "1"}, tmp_path)
    with pytest.raises(PipelineDefinitionError, match="does not exist"):
        resolve_params(params, {"data": str(tmp_path / "missing.csv")}, tmp_path)
    with pytest.raises(PipelineDefinitionError, match="not KEY=VALUE"):
        parse_param_options(["depth"])


def test_gate_accepts_metric_comparisons_only() -> None:
    gate = Gate.parse("metrics.auc >= 0.90 and metrics['f1'] > 0.5")
    assert gate.passes({"auc": 0.91, "f1": 0.6})
    assert not gate.passes({"auc": 0.89, "f1": 0.6})
    with pytest.raises(PipelineRunError, match="reads metric 'f1'"):
        gate.passes({"auc": 0.95})
    for bad in ("__import__('os').system('x')", "metrics.auc >= threshold", "auc > 1", "1 +"):
        with pytest.raises(PipelineDefinitionError, match="gate"):
            Gate.parse(bad)


def test_register_step_validates_its_gate_and_names() -> None:
    with pytest.raises(PipelineDefinitionError, match="gate"):
        shipyard.register_step("cancer", alias="production", promote_if="auc >= 0.9")
    with pytest.raises(InvalidNameError):
        shipyard.register_step("Bad Name!")
