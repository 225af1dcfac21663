"""``@shipyard.pipeline``: a function whose body calls steps; the data it passes is the DAG.

    >>> @shipyard.pipeline(requirements=["scikit-learn==1.5.2"])
    ... def cancer(n_estimators: int = 100, data: Path = Path("data.csv")):
    ...     split = prepare(ingest(data))
    ...     model = train(split.train, n_estimators)
    ...     register(model, evaluate(model, split.test))
    >>> cancer.graph().order()
    ('ingest', 'prepare', 'train', 'evaluate', 'register')

The body runs once, when the graph is built, with handles in place of values: each step call
records a node and returns handles to its outputs. Parameters are the function's arguments.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from shipyard.errors import PipelineDefinitionError
from shipyard.pipelines.graph import Binding, Node, Parameter, PipelineGraph
from shipyard.pipelines.step import CALL_RECORDER, Step

__all__ = ["OutputHandle", "ParamHandle", "Pipeline", "pipeline"]


@dataclass(frozen=True, slots=True)
class OutputHandle:
    """Stands for one output of a node while the graph is built."""

    node: str
    output: str


@dataclass(frozen=True, slots=True)
class ParamHandle:
    """Stands for a pipeline parameter while the graph is built."""

    name: str


class StepOutputs:
    """The outputs of a step with several (a ``NamedTuple`` return): ``split.train`` or
    ``train, test = prepare(df)``."""

    def __init__(self, node: str, names: Sequence[str]) -> None:
        self._node = node
        self._names = tuple(names)

    def __getattr__(self, name: str) -> OutputHandle:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._names:
            raise PipelineDefinitionError(
                f"step {self._node!r} has no output {name!r} (outputs: {list(self._names)})"
            )
        return OutputHandle(self._node, name)

    def __iter__(self) -> Iterator[OutputHandle]:
        return iter(OutputHandle(self._node, name) for name in self._names)


class _Builder:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    def add_call(self, step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        node_id = step.name
        count = 2
        while node_id in self.nodes:
            node_id, count = f"{step.name}_{count}", count + 1
        try:
            bound = inspect.signature(step.func).bind_partial(*args, **kwargs)
        except TypeError as exc:
            raise PipelineDefinitionError(f"calling step {step.name!r}: {exc}") from None
        bindings = {name: _binding(value) for name, value in bound.arguments.items()}
        self.nodes[node_id] = Node(node_id, step, bindings)
        if not step.outputs:
            return None
        if not step.returns_tuple:
            return OutputHandle(node_id, "output")
        return StepOutputs(node_id, [o.name for o in step.outputs])


def _binding(value: Any) -> Binding:
    if isinstance(value, OutputHandle):
        return Binding("output", value.node, value.output)
    if isinstance(value, ParamHandle):
        return Binding("param", value.name)
    if isinstance(value, StepOutputs):
        raise PipelineDefinitionError(
            "a step with several outputs was passed whole: pass one of them, e.g. split.train"
        )
    return Binding("constant", value=value)


@dataclass(frozen=True, slots=True, eq=False)
class Pipeline:
    """A named pipeline: its body, its default environment and its parameters."""

    func: Callable[..., Any]
    name: str
    requirements: tuple[str, ...] = ()
    description: str = ""
    parameters: Mapping[str, Parameter] = field(default_factory=dict)

    def graph(self) -> PipelineGraph:
        """Run the body with handles and return the validated graph."""
        builder = _Builder()
        token = CALL_RECORDER.set(builder)
        try:
            self.func(**{name: ParamHandle(name) for name in self.parameters})
        finally:
            CALL_RECORDER.reset(token)
        graph = PipelineGraph(self.name, dict(builder.nodes), dict(self.parameters))
        graph.validate()
        return graph


def _parameters(func: Callable[..., Any]) -> dict[str, Parameter]:
    hints = typing.get_type_hints(func)
    found = {}
    for p in inspect.signature(func).parameters.values():
        annotation = hints.get(p.name, Any)
        if p.default is p.empty:
            found[p.name] = Parameter(p.name, annotation, None, required=True)
        else:
            found[p.name] = Parameter(p.name, annotation, p.default)
    return found


@overload
def pipeline(func: Callable[..., Any], /) -> Pipeline: ...


@overload
def pipeline(
    *, name: str | None = None, requirements: Sequence[str] = ()
) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    requirements: Sequence[str] = (),
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    """Declare a pipeline; ``requirements`` is the environment of every step that has none."""

    def decorate(function: Callable[..., Any]) -> Pipeline:
        pipeline_name = (name or function.__name__).replace("_", "-")
        return Pipeline(
            func=function,
            name=pipeline_name,
            requirements=tuple(requirements),
            description=inspect.getdoc(function) or "",
            parameters=_parameters(function),
        )

    return decorate if func is None else decorate(func)
