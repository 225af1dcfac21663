"""The pipeline graph: step nodes, what feeds each input, and checks made before anything runs.

An input is bound to another node's output, to a pipeline parameter or to a constant. The edges
come from those bindings alone; ``validate`` reports a cycle, an unknown node or output, a
missing input and a type that does not match, each naming the step and how to fix it (pure).

    >>> graph.validate()
    >>> graph.order()
    ('ingest', 'prepare', 'train', 'evaluate', 'register')
"""

from __future__ import annotations

import graphlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from shipyard.errors import PipelineDefinitionError
from shipyard.pipelines.kinds import Kind, describe, is_compatible, kind_of
from shipyard.pipelines.step import OutputSpec, Step

__all__ = ["Binding", "Node", "Parameter", "PipelineGraph"]


@dataclass(frozen=True, slots=True)
class Binding:
    """What feeds one input: ``output`` of node ``source``, parameter ``source``, or ``value``."""

    source_type: Literal["output", "param", "constant"]
    source: str = ""
    output: str = ""
    value: Any = None


@dataclass(frozen=True, slots=True)
class Parameter:
    """A pipeline parameter: its annotation and default (``required`` when it has none)."""

    name: str
    annotation: object
    default: Any = None
    required: bool = False

    @property
    def kind(self) -> Kind:
        return kind_of(self.annotation)

    @property
    def is_path(self) -> bool:
        """File and folder parameters enter the cache key by content, not by name."""
        return self.kind in ("file", "folder")


@dataclass(frozen=True, slots=True)
class Node:
    """One call of a step in the pipeline."""

    id: str
    step: Step
    bindings: Mapping[str, Binding]

    def upstream(self) -> set[str]:
        return {b.source for b in self.bindings.values() if b.source_type == "output"}


@dataclass(frozen=True, slots=True)
class PipelineGraph:
    """The nodes of a pipeline (in call order) and its parameters."""

    name: str
    nodes: Mapping[str, Node]
    parameters: Mapping[str, Parameter] = field(default_factory=dict)

    def output_spec(self, node_id: str, output: str) -> OutputSpec:
        for spec in self.nodes[node_id].step.outputs:
            if spec.name == output:
                return spec
        raise KeyError(output)

    def validate(self) -> None:
        """Raise ``PipelineDefinitionError`` for the first thing that would stop a run."""
        if not self.nodes:
            raise PipelineDefinitionError(
                f"pipeline {self.name!r} has no steps: call at least one @step in its body"
            )
        for node in self.nodes.values():
            self._check_inputs(node)
        self.order()

    def _check_inputs(self, node: Node) -> None:
        step = node.step
        for name, expected in step.inputs.items():
            binding = node.bindings.get(name)
            if binding is None:
                if name in step.defaults:
                    continue
                raise PipelineDefinitionError(
                    f"step {node.id!r} is missing input {name!r} ({describe(expected)}): pass "
                    "another step's output, a pipeline parameter or a value"
                )
            produced = self._produced_type(node, name, binding)
            if not is_compatible(produced, expected):
                raise PipelineDefinitionError(
                    f"step {node.id!r} input {name!r} expects {describe(expected)} but gets "
                    f"{describe(produced)} from {self._describe_source(binding)}: change one "
                    "annotation or pass a matching value"
                )
        for name in node.bindings:
            if name not in step.inputs:
                raise PipelineDefinitionError(
                    f"step {node.id!r} has no input {name!r} (it takes {sorted(step.inputs)})"
                )

    def _produced_type(self, node: Node, name: str, binding: Binding) -> object:
        if binding.source_type == "param":
            if binding.source not in self.parameters:
                raise PipelineDefinitionError(
                    f"step {node.id!r} input {name!r} reads unknown parameter {binding.source!r}"
                )
            return self.parameters[binding.source].annotation
        if binding.source_type == "constant":
            return type(binding.value) if binding.value is not None else Any
        if binding.source not in self.nodes:
            raise PipelineDefinitionError(
                f"step {node.id!r} input {name!r} reads unknown step {binding.source!r} (steps: "
                f"{', '.join(self.nodes)})"
            )
        try:
            return self.output_spec(binding.source, binding.output).annotation
        except KeyError:
            outputs = [o.name for o in self.nodes[binding.source].step.outputs]
            raise PipelineDefinitionError(
                f"step {node.id!r} input {name!r} reads output {binding.output!r} of "
                f"{binding.source!r}, which declares {outputs or 'no outputs'}"
            ) from None

    @staticmethod
    def _describe_source(binding: Binding) -> str:
        if binding.source_type == "output":
            return f"{binding.source}.{binding.output}"
        if binding.source_type == "param":
            return f"parameter {binding.source!r}"
        return f"the value {binding.value!r}"

    def order(self) -> tuple[str, ...]:
        """Node ids in an order where every node comes after what it reads."""
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        for node in self.nodes.values():
            sorter.add(node.id, *sorted(node.upstream()))
        try:
            return tuple(sorter.static_order())
        except graphlib.CycleError as exc:
            cycle = " -> ".join(exc.args[1])
            raise PipelineDefinitionError(
                f"pipeline {self.name!r} has a cycle: {cycle}; a step cannot depend on its own "
                "output, directly or through others"
            ) from None

    def upstream_of(self, node_id: str) -> set[str]:
        """Every node whose outputs ``node_id`` reads, directly or through others."""
        found: set[str] = set()
        frontier = set(self.nodes[node_id].upstream())
        while frontier:
            current = frontier.pop()
            if current not in found:
                found.add(current)
                frontier |= self.nodes[current].upstream()
        return found

    def downstream(self, node_id: str) -> set[str]:
        """Every node that reads ``node_id``'s outputs, directly or through others."""
        found: set[str] = set()
        frontier = {node_id}
        while frontier:
            current = frontier.pop()
            for node in self.nodes.values():
                if current in node.upstream() and node.id not in found:
                    found.add(node.id)
                    frontier.add(node.id)
        return found
