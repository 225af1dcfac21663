"""Prompt templates (``models/prompt.py``), saved as ``prompt.json``: no code, safe to load.

Predicting takes a DataFrame with a column per template variable and gives the filled prompt of
each row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from shipyard.errors import ModelLoadError
from shipyard.models.flavors.base import folder_file
from shipyard.models.manifest import FlavorName
from shipyard.models.predictor import NativePredict
from shipyard.models.prompt import PromptTemplate
from shipyard.types import JSON

__all__ = ["PromptFlavor"]

_FILE = "prompt.json"


class PromptFlavor:
    """``PromptTemplate`` objects."""

    name: ClassVar[FlavorName] = "prompt"
    extra: ClassVar[str | None] = None
    fork_safe: ClassVar[bool] = True

    def detect(self, obj: object) -> bool:
        return isinstance(obj, PromptTemplate)

    def save(self, obj: Any, folder: Path, options: Mapping[str, Any]) -> JSON:
        (folder / _FILE).write_text(json.dumps(obj.to_json(), indent=1, sort_keys=True) + "\n")
        return {"file": _FILE}

    def load(self, folder: Path, options: JSON) -> tuple[Any, NativePredict]:
        try:
            data = json.loads(folder_file(folder, options.get("file", _FILE)).read_text())
            prompt = PromptTemplate.from_json(data)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot read the prompt in {folder}: {exc}") from exc

        def predict(inputs: Any) -> Any:
            rows = inputs.to_dict(orient="records")
            return np.array([prompt.render(row) for row in rows], dtype=object)

        return prompt, predict

    def packages(self, obj: Any) -> tuple[str, ...]:
        return ()
