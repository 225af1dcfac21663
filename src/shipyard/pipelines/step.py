"""``@shipyard.step``: a typed Python function that runs in its own process or container.

Inputs are the function's annotated parameters; outputs come from its return annotation: one
value (named ``output``), a ``NamedTuple`` (one output per field) or ``None`` (no output).

    >>> @shipyard.step(requirements=["scikit-learn==1.5.2"], cpu=2, memory="2Gi", retries=2)
    ... def train(data: pd.DataFrame, n_estimators: int) -> Model:
    ...     return RandomForestClassifier(n_estimators).fit(data.drop(columns="y"), data.y)

Called inside a ``@shipyard.pipeline`` body, a step records a node of the graph and returns
handles to its outputs (it hands the call to the ``CALL_RECORDER`` that ``pipeline.py`` sets while
the body runs); called anywhere else, it simply runs the function.
"""

from __future__ import annotations

import contextvars
import inspect
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, overload

from shipyard.errors import PipelineDefinitionError
from shipyard.pipelines.kinds import Kind, kind_of

__all__ = [
    "CALL_RECORDER",
    "CallRecorder",
    "OutputSpec",
    "Resources",
    "Step",
    "parse_memory",
    "step",
]

_NAME = re.compile(r"[a-z][a-z0-9_]{0,51}")
_MEMORY = re.compile(r"(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|k|K|M|G|T)?i?[bB]?")
_UNITS = {
    None: 1,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
RunsOn = Literal["executor", "driver"]


def parse_memory(text: str) -> int:
    """``"512Mi"`` -> 536870912 bytes; raises ``PipelineDefinitionError`` for anything else."""
    match = _MEMORY.fullmatch(text.strip())
    if not match:
        raise PipelineDefinitionError(
            f"memory {text!r} is not a size: write it like 512Mi, 2Gi or 1G"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True, slots=True)
class Resources:
    """What a step may use, and how it is retried: enforced by docker and kubernetes (cpu,
    memory) and by every executor (timeout, retries)."""

    cpu: float | None = None
    memory: str | None = None
    timeout_s: float | None = None
    retries: int = 0
    retry_backoff_s: float = 1.0

    def __post_init__(self) -> None:
        if self.cpu is not None and self.cpu <= 0:
            raise PipelineDefinitionError(f"cpu={self.cpu} must be above 0 (e.g. cpu=0.5)")
        if self.memory is not None:
            parse_memory(self.memory)
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise PipelineDefinitionError(f"timeout={self.timeout_s} must be above 0 seconds")
        if self.retries < 0:
            raise PipelineDefinitionError(f"retries={self.retries} must be 0 or more")

    @property
    def memory_bytes(self) -> int | None:
        return None if self.memory is None else parse_memory(self.memory)


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One declared output: its name, annotation and artifact kind."""

    name: str
    annotation: object
    kind: Kind


@dataclass(frozen=True, slots=True, eq=False)
class Step:
    """A step: the function, its typed signature, its environment and its resources.

    ``requirements`` None means "same as the pipeline". ``env`` is part of the cache key."""

    func: Callable[..., Any]
    name: str
    inputs: Mapping[str, object]
    defaults: Mapping[str, object]
    outputs: tuple[OutputSpec, ...]
    requirements: tuple[str, ...] | None = None
    resources: Resources = field(default_factory=Resources)
    env: Mapping[str, str] = field(default_factory=dict)
    network: bool = False
    cache: bool = True
    runs_on: RunsOn = "executor"

    @property
    def returns_tuple(self) -> bool:
        return not (len(self.outputs) == 1 and self.outputs[0].name == "output")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        recorder = CALL_RECORDER.get()
        if recorder is None:
            return self.func(*args, **kwargs)
        return recorder.add_call(self, args, kwargs)


class CallRecorder(Protocol):
    """Where step calls go while a pipeline body builds its graph (``pipeline.py``'s builder)."""

    def add_call(self, step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Record a node calling ``step`` and return handles to its outputs."""
        ...


CALL_RECORDER: contextvars.ContextVar[CallRecorder | None] = contextvars.ContextVar(
    "shipyard_pipeline_builder", default=None
)
"""Set while a pipeline body runs; a step called with it unset simply runs its function."""


def _outputs(name: str, annotation: object) -> tuple[OutputSpec, ...]:
    if annotation is None or annotation is type(None):
        return ()
    if annotation is inspect.Signature.empty:
        raise PipelineDefinitionError(
            f"step {name!r} has no return annotation: annotate what it returns (e.g. "
            "-> pd.DataFrame, -> Metrics, or -> None for no output)"
        )
    if isinstance(annotation, type) and issubclass(annotation, tuple):
        try:
            fields = typing.get_type_hints(annotation)
        except (NameError, TypeError) as exc:
            raise PipelineDefinitionError(
                f"cannot read the fields of {annotation.__name__} (step {name!r}): {exc}"
            ) from exc
        if fields:
            return tuple(OutputSpec(k, v, kind_of(v)) for k, v in fields.items())
    return (OutputSpec("output", annotation, kind_of(annotation)),)


def make_step(
    func: Callable[..., Any],
    *,
    name: str | None = None,
    requirements: Sequence[str] | None = None,
    resources: Resources | None = None,
    env: Mapping[str, str] | None = None,
    network: bool = False,
    cache: bool = True,
    runs_on: RunsOn = "executor",
) -> Step:
    """Build a ``Step`` from ``func``, checking its annotations."""
    step_name = name or func.__name__
    if not _NAME.fullmatch(step_name):
        raise PipelineDefinitionError(
            f"step name {step_name!r} is not valid: use lowercase letters, digits and _ "
            "(at most 52), starting with a letter"
        )
    try:
        hints = typing.get_type_hints(func, include_extras=False)
    except (NameError, TypeError) as exc:
        raise PipelineDefinitionError(
            f"cannot read the annotations of step {step_name!r}: {exc}; import every type the "
            "signature names at module level"
        ) from exc
    signature = inspect.signature(func)
    inputs: dict[str, object] = {}
    defaults: dict[str, object] = {}
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise PipelineDefinitionError(
                f"step {step_name!r} takes *{parameter.name}: name every input explicitly"
            )
        inputs[parameter.name] = hints.get(parameter.name, Any)
        if parameter.default is not parameter.empty:
            defaults[parameter.name] = parameter.default
    returned = hints.get("return", signature.return_annotation)
    return Step(
        func=func,
        name=step_name,
        inputs=inputs,
        defaults=defaults,
        outputs=_outputs(step_name, returned),
        requirements=None if requirements is None else tuple(requirements),
        resources=resources or Resources(),
        env=dict(env or {}),
        network=network,
        cache=cache,
        runs_on=runs_on,
    )


@overload
def step(func: Callable[..., Any], /) -> Step: ...


@overload
def step(
    *,
    name: str | None = None,
    requirements: Sequence[str] | None = None,
    cpu: float | None = None,
    memory: str | None = None,
    timeout: float | None = None,
    retries: int = 0,
    retry_backoff: float = 1.0,
    env: Mapping[str, str] | None = None,
    network: bool = False,
    cache: bool = True,
) -> Callable[[Callable[..., Any]], Step]: ...


def step(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    requirements: Sequence[str] | None = None,
    cpu: float | None = None,
    memory: str | None = None,
    timeout: float | None = None,
    retries: int = 0,
    retry_backoff: float = 1.0,
    env: Mapping[str, str] | None = None,
    network: bool = False,
    cache: bool = True,
) -> Step | Callable[[Callable[..., Any]], Step]:
    """Declare a pipeline step (``@step`` or ``@step(retries=2, timeout=600, ...)``).

    ``requirements`` (pins) give the step its own environment; omitted, it shares the
    pipeline's. ``network`` lets its container reach the network (off by default).
    ``cache=False`` always re-runs it."""
    resources = Resources(cpu, memory, timeout, retries, retry_backoff)

    def decorate(function: Callable[..., Any]) -> Step:
        return make_step(
            function,
            name=name,
            requirements=requirements,
            resources=resources,
            env=env,
            network=network,
            cache=cache,
        )

    return decorate if func is None else decorate(func)
