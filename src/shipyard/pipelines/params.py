"""Pipeline parameters: defaults, ``--param k=v`` overrides coerced to each annotation (pure).

>>> resolve_params(graph.parameters, {"n_estimators": "200"})
{'n_estimators': 200, 'data': PosixPath('data.csv')}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipyard.errors import PipelineDefinitionError
from shipyard.pipelines.graph import Parameter

__all__ = ["jsonable_params", "parse_param_options", "resolve_params"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_param_options(options: list[str]) -> dict[str, str]:
    """``["n=10", "data=x.csv"]`` -> ``{"n": "10", "data": "x.csv"}``."""
    found = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key.strip():
            raise PipelineDefinitionError(f"--param {option!r} is not KEY=VALUE")
        found[key.strip()] = value
    return found


def _coerce(parameter: Parameter, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if parameter.is_path:
        return Path(value).expanduser()
    annotation = parameter.annotation
    try:
        if annotation is bool:
            lowered = value.strip().lower()
            if lowered not in _TRUE | _FALSE:
                raise ValueError(value)
            return lowered in _TRUE
        if annotation in (int, float):
            return annotation(value)
        if annotation is str:
            return value
        return json.loads(value)
    except ValueError:
        raise PipelineDefinitionError(
            f"parameter {parameter.name!r} expects {getattr(annotation, '__name__', annotation)}"
            f", got {value!r}"
        ) from None


def resolve_params(
    parameters: Mapping[str, Parameter], given: Mapping[str, Any], project: Path | None = None
) -> dict[str, Any]:
    """Every parameter's value: the given one (coerced) or its default. A relative default
    path is relative to ``project`` (the pipeline file's folder), a given one to the cwd."""
    unknown = sorted(set(given) - set(parameters))
    if unknown:
        raise PipelineDefinitionError(
            f"unknown parameter(s) {unknown}: the pipeline takes {sorted(parameters) or 'none'}"
        )
    values: dict[str, Any] = {}
    for name, parameter in parameters.items():
        if name in given:
            values[name] = _coerce(parameter, given[name])
        elif parameter.required:
            raise PipelineDefinitionError(
                f"parameter {name!r} has no default: pass --param {name}=VALUE"
            )
        else:
            values[name] = _coerce(parameter, parameter.default)
            if parameter.is_path and project is not None:
                values[name] = project / Path(values[name]).expanduser()
        if parameter.is_path:
            values[name] = Path(values[name]).expanduser().resolve()
            if not values[name].exists():
                raise PipelineDefinitionError(f"parameter {name!r}: {values[name]} does not exist")
    return values


def jsonable_params(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values as JSON (paths as strings), for the run record and ``--resume``."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}
