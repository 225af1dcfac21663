"""MLflow's model registry messages (``model_registry.proto``) from Shipyard's registry entities.

MLflow's stages map onto Shipyard's aliases: a version is in stage ``Production`` while the alias
``production`` points at it, ``Staging`` while ``staging`` does, else ``None``. ``Archived`` is
not kept: archiving a version removes those aliases from it, and it reads back as ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shipyard.errors import InvalidInputError
from shipyard.registry.metadata.catalog import ModelInfo, VersionInfo

__all__ = [
    "ALL_STAGES",
    "STAGE_ALIASES",
    "canonical_stage",
    "model_version_json",
    "registered_model_json",
    "stage_of",
]

STAGE_ALIASES = {"Production": "production", "Staging": "staging"}
ALL_STAGES = ("None", "Staging", "Production", "Archived")


def canonical_stage(stage: Any) -> str:
    """MLflow's spelling of ``stage`` (case-insensitive), or ``INVALID_PARAMETER_VALUE``."""
    for known in ALL_STAGES:
        if isinstance(stage, str) and stage.lower() == known.lower():
            return known
    raise InvalidInputError(
        f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(ALL_STAGES)}."
    )


def stage_of(aliases: Sequence[str]) -> str:
    for stage, alias in STAGE_ALIASES.items():
        if alias in aliases:
            return stage
    return "None"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def model_version_json(version: VersionInfo) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": _ms(version.created_at),
        "last_updated_timestamp": _ms(version.updated_at),
        "user_id": version.created_by,
        "current_stage": stage_of(version.aliases),
        "source": version.source or f"models:/{version.name}/{version.version}",
        "status": "READY",
        "tags": [{"key": k, "value": v} for k, v in version.tags.items()],
        "aliases": list(version.aliases),
        "run_link": "",
    }
    if version.description:
        data["description"] = version.description
    if version.run_id:
        data["run_id"] = version.run_id
    return data


def registered_model_json(model: ModelInfo, latest: Sequence[VersionInfo] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": model.name,
        "creation_timestamp": _ms(model.created_at),
        "last_updated_timestamp": _ms(model.updated_at),
        "tags": [{"key": k, "value": v} for k, v in model.tags.items()],
        "aliases": [{"alias": a, "version": str(v)} for a, v in model.aliases.items()],
    }
    if model.description:
        data["description"] = model.description
    if latest:
        data["latest_versions"] = [model_version_json(v) for v in latest]
    return data
