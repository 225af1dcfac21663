"""A prompt template: MLflow's registered prompts as Shipyard versions.

MLflow keeps a prompt as a registered model tagged ``mlflow.prompt.is_prompt`` whose versions hold
the template in their tags; through ``shipyard server`` each version is a Shipyard version of the
``prompt`` flavor, so it is aliased, audited, exported and served like a model. Predicting fills
the template's ``{{ variable }}`` placeholders from each input row: a text prompt gives a string,
a chat prompt its messages as JSON.

    >>> PromptTemplate("Respond as a {{style}} assistant: {{query}}").variables
    ('style', 'query')
    >>> PromptTemplate("Hi {{ name }}!").render({"name": "Ana"})
    'Hi Ana!'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shipyard.errors import InvalidInputError
from shipyard.types import JSON

__all__ = ["PROMPT_SOURCES", "PromptTemplate", "prompt_from_tags"]

VARIABLE = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)*)\s*\}\}")
"""MLflow's ``PROMPT_TEMPLATE_VARIABLE_PATTERN``."""
IS_PROMPT_TAG = "mlflow.prompt.is_prompt"
TEXT_TAG = "mlflow.prompt.text"
TYPE_TAG = "_mlflow_prompt_type"
RESPONSE_FORMAT_TAG = "_mlflow_prompt_response_format"
MODEL_CONFIG_TAG = "_mlflow_prompt_model_config"
PROMPT_SOURCES = frozenset({"prompt-template", "dummy-source"})
"""The placeholder sources MLflow's clients send with a prompt version."""


@dataclass(frozen=True)
class PromptTemplate:
    """A text template, or chat messages (``[{"role": ..., "content": ...}]``) of templates."""

    template: str | list[dict[str, Any]]
    response_format: JSON | None = None
    model_config: JSON = field(default_factory=dict)

    @property
    def is_chat(self) -> bool:
        return not isinstance(self.template, str)

    @property
    def variables(self) -> tuple[str, ...]:
        """The placeholders' names, in order of first appearance."""
        text = self.template if isinstance(self.template, str) else json.dumps(self.template)
        return tuple(dict.fromkeys(VARIABLE.findall(text)))

    def render(self, values: Mapping[str, Any]) -> str:
        """The template filled with ``values`` (chat messages as JSON); every variable needed."""
        missing = [name for name in self.variables if name not in values]
        if missing:
            raise InvalidInputError(f"the prompt needs values for {', '.join(missing)}")

        def fill(text: str) -> str:
            return VARIABLE.sub(lambda found: str(values[found.group(1)]), text)

        if isinstance(self.template, str):
            return fill(self.template)
        messages = [{**m, "content": fill(str(m.get("content", "")))} for m in self.template]
        return json.dumps(messages)

    def to_json(self) -> JSON:
        return {
            "template": self.template,
            "response_format": self.response_format,
            "model_config": self.model_config,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PromptTemplate:
        template = data.get("template")
        if not isinstance(template, str | list):
            raise InvalidInputError("a prompt's template is a string or a list of messages")
        return cls(template, data.get("response_format"), dict(data.get("model_config") or {}))


def prompt_from_tags(tags: Mapping[str, str]) -> PromptTemplate | None:
    """The prompt an MLflow prompt version's tags hold (None for a model version's tags)."""
    if tags.get(IS_PROMPT_TAG) != "true" or TEXT_TAG not in tags:
        return None
    text = tags[TEXT_TAG]

    def parsed(key: str) -> Any:
        try:
            return json.loads(tags[key]) if key in tags else None
        except ValueError:
            raise InvalidInputError(f"the prompt tag {key!r} is not JSON") from None

    template: str | list[dict[str, Any]] = text
    if tags.get(TYPE_TAG) == "chat":
        messages = parsed(TEXT_TAG)
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise InvalidInputError("a chat prompt's text is a JSON list of messages")
        template = messages
    config = parsed(MODEL_CONFIG_TAG)
    config = config if isinstance(config, dict) else {}
    return PromptTemplate(template, parsed(RESPONSE_FORMAT_TAG), config)
