"""Validated model names, aliases and references.

    >>> ModelRef.parse("iris@production")
    ModelRef(name='iris', version=None, alias='production')
    >>> str(ModelRef.parse("iris:3"))
    'iris:3'

A reference is one of ``name`` (latest), ``name:latest``, ``name:N`` or ``name@alias``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipyard.errors import InvalidNameError

__all__ = ["RESERVED_ALIASES", "ModelRef", "validate_alias", "validate_name"]

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
_ALIAS = re.compile(r"[a-z][a-z0-9_-]{0,63}")
RESERVED_ALIASES = frozenset({"latest"})


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid model name, else raise ``InvalidNameError``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise InvalidNameError(
            f"invalid model name {name!r}: use 1-128 characters of lowercase letters, digits, "
            "'-', '_' and '.', starting with a letter or digit (for example 'churn-model')"
        )
    return name


def validate_alias(alias: str) -> str:
    """Return ``alias`` if it is a valid alias, else raise ``InvalidNameError``."""
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise InvalidNameError(
            f"invalid alias {alias!r}: use 1-64 lowercase letters, digits, '-' and '_', "
            "starting with a letter (for example 'production' or 'staging')"
        )
    if alias in RESERVED_ALIASES:
        raise InvalidNameError(f"alias {alias!r} is reserved: it always means the newest version")
    return alias


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A pointer to one model version: by number, by alias, or the latest when neither is set."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __post_init__(self) -> None:
        validate_name(self.name)
        if self.version is not None and self.alias is not None:
            raise InvalidNameError("a reference names a version or an alias, not both")
        if self.version is not None and (isinstance(self.version, bool) or self.version < 1):
            raise InvalidNameError(f"invalid version {self.version!r}: versions start at 1")
        if self.alias is not None:
            validate_alias(self.alias)

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse ``name``, ``name:latest``, ``name:N`` or ``name@alias``."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidNameError("empty model reference: use NAME, NAME:VERSION or NAME@ALIAS")
        text = text.strip()
        if "@" in text:
            name, _, alias = text.partition("@")
            return cls(name=name, alias=alias)
        if ":" in text:
            name, _, version = text.partition(":")
            if version == "latest":
                return cls(name=name)
            if not version.isdigit():
                raise InvalidNameError(
                    f"invalid reference {text!r}: after ':' put a version number or 'latest' "
                    "(use NAME@ALIAS for aliases)"
                )
            return cls(name=name, version=int(version))
        return cls(name=text)

    @property
    def is_latest(self) -> bool:
        """True when the reference means the newest version."""
        return self.version is None and self.alias is None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}:{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return f"{self.name}:latest"
