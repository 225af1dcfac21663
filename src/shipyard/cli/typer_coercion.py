"""Typer's pydantic coercion, built when a value needs it rather than for every parameter.

Typer (0.2x) coerces each parameter's value through a pydantic ``TypeAdapter`` it builds on the
parameter's first use, including parameters whose value is ``None``: an option not given, a
group's own ``--help``. For those the adapter is never called (``RuntimeParam.coerce`` returns
``None`` first), yet building the first one imports pydantic: about 0.1 s, a sixth of
``shipyard models list``. ``defer_typer_coercion`` hands Typer a stand-in that

- passes through the values that are already what the annotation says: a ``str`` for ``str``,
  an ``int`` default for ``int`` (no range), a list of ``str`` for ``list[str]``; a ``Path`` is
  made with ``Path(value)`` and checked by Typer's own ``coerce_cli_path`` (``exists=``, ...);
- builds Typer's own runtime parameter for anything else, on the first value that needs it, so
  every other value is coerced, and refused, exactly as Typer does.

``tests/test_architecture.py`` runs ``shipyard models list`` and checks pydantic stays unloaded,
so a Typer release that changes this hook fails there, not silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typer import _coercion, _param_types, core

if TYPE_CHECKING:
    from typer import _click

__all__ = ["defer_typer_coercion"]

_BUILD = _coercion.build_runtime_param


@dataclass(frozen=True)
class _DeferredRuntimeParam(_coercion.RuntimeParam):
    """Typer's runtime parameter for ``descriptor``, built on the first value to coerce."""

    descriptor: _coercion.TypeDescriptor

    @cached_property
    def built(self) -> _coercion.RuntimeParam:
        return _BUILD(self.descriptor)

    def _coerce_value(self, value: Any, param: core._TyperParameter, ctx: _click.Context) -> Any:
        info, annotation = self.parameter_info, self.annotation
        plain = info.parser is None and self.descriptor.file_annotation is None
        if plain and _param_types.routes_to_path(annotation, info):
            if isinstance(annotation, type) and issubclass(annotation, Path):
                if isinstance(value, (str, Path)) and info.path_type is None:
                    return _param_types.coerce_cli_path(
                        annotation(value), info, path_type=annotation, param=param, ctx=ctx
                    )
        elif plain:
            if annotation is str and isinstance(value, str):
                return value
            if annotation in (int, float) and type(value) is annotation:
                if info.min is None and info.max is None:
                    return value
            if annotation == list[str] and isinstance(value, (list, tuple)):
                if all(isinstance(item, str) for item in value):
                    return list(value)
        return self.built._coerce_value(value, param=param, ctx=ctx)


def _deferred(descriptor: _coercion.TypeDescriptor) -> _coercion.RuntimeParam:
    return _DeferredRuntimeParam(
        parameter_info=descriptor.parameter_info,
        annotation=descriptor.annotation,
        descriptor=descriptor,
    )


def defer_typer_coercion() -> None:
    """Make Typer build each parameter's coercion when a value first needs it (idempotent)."""
    core.build_runtime_param = _deferred  # type: ignore[attr-defined]  # the name core calls
