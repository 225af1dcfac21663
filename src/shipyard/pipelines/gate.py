"""A promotion gate: ``"metrics.auc >= 0.90 and metrics.f1 > 0.8"``, parsed once, then checked.

Only comparisons of a metric with a number, joined by ``and``/``or``, are accepted: the text is
parsed with ``ast`` and walked, never evaluated as Python (pure).

    >>> gate = Gate.parse("metrics.auc >= 0.90")
    >>> gate.passes({"auc": 0.93})
    True
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shipyard.errors import PipelineDefinitionError, PipelineRunError

__all__ = ["Gate"]

_OPS: dict[type[ast.cmpop], Callable[[float, float], bool]] = {
    ast.GtE: operator.ge,
    ast.Gt: operator.gt,
    ast.LtE: operator.le,
    ast.Lt: operator.lt,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_HINT = "write it like metrics.auc >= 0.90 (comparisons of metrics with numbers, and/or)"


def _metric(node: ast.expr, text: str) -> str:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if node.value.id == "metrics":
            return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        if node.value.id == "metrics" and isinstance(node.slice, ast.Constant):
            return str(node.slice.value)
    raise PipelineDefinitionError(f"gate {text!r}: {ast.unparse(node)!r} is not a metric; {_HINT}")


def _check(node: ast.expr, text: str) -> None:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And | ast.Or):
        for value in node.values:
            _check(value, text)
        return
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _OPS:
        _metric(node.left, text)
        right = node.comparators[0]
        if isinstance(right, ast.Constant) and isinstance(right.value, int | float):
            return
    raise PipelineDefinitionError(f"gate {text!r} is not understood; {_HINT}")


@dataclass(frozen=True, slots=True)
class Gate:
    """A parsed ``promote_if`` condition."""

    text: str
    tree: ast.expr

    @classmethod
    def parse(cls, text: str) -> Gate:
        try:
            tree = ast.parse(text.strip(), mode="eval").body
        except SyntaxError:
            raise PipelineDefinitionError(f"gate {text!r} is not an expression; {_HINT}") from None
        _check(tree, text)
        return cls(text, tree)

    def passes(self, metrics: Mapping[str, float]) -> bool:
        """True when ``metrics`` satisfy the condition; a missing metric is an error."""
        return self._eval(self.tree, metrics)

    def _eval(self, node: ast.expr, metrics: Mapping[str, float]) -> bool:
        if isinstance(node, ast.BoolOp):
            results = (self._eval(v, metrics) for v in node.values)
            return all(results) if isinstance(node.op, ast.And) else any(results)
        assert isinstance(node, ast.Compare)  # noqa: S101 - _check admitted only these
        name = _metric(node.left, self.text)
        if name not in metrics:
            raise PipelineRunError(
                f"gate {self.text!r} reads metric {name!r}, but the evaluation reported "
                f"{sorted(metrics)}"
            )
        right = node.comparators[0]
        assert isinstance(right, ast.Constant)  # noqa: S101
        assert isinstance(right.value, int | float)  # noqa: S101
        return _OPS[type(node.ops[0])](float(metrics[name]), float(right.value))
