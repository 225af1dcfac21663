"""Follow the Docker engine's build stream: which step runs, what it printed, whether it failed.

Pure: fed the decoded JSON messages of ``POST /build`` one by one, it keeps what a person needs to
see (step N of M, cache hits) and, on failure, the failing step with the tail of its output.

    >>> log = BuildLog()
    >>> log.feed({"stream": "Step 3/9 : RUN python3 -m venv /opt/venv\\n"})
    >>> log.step, log.total, log.instruction
    (3, 9, 'RUN python3 -m venv /opt/venv')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BuildLog"]

_STEP = re.compile(r"Step (\d+)/(\d+) : (.*)")
_RESULT = re.compile(r"\s*---> ([0-9a-f]{12,64})\s*")
_TAIL = 30


@dataclass(slots=True)
class BuildLog:
    """The state of one build, updated message by message."""

    step: int = 0
    total: int = 0
    instruction: str = ""
    image_id: str | None = None
    error: str | None = None
    cached_steps: list[int] = field(default_factory=list)
    """Steps whose result came from the cache; ``step_images`` are the images this build made."""
    step_output: list[str] = field(default_factory=list)
    step_images: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def feed(self, message: dict[str, Any]) -> str | None:
        """Take one message; return the text line it carried, if any."""
        if "error" in message or "errorDetail" in message:
            detail = message.get("errorDetail") or {}
            self.error = str(message.get("error") or detail.get("message") or "build failed")
            return self.error
        aux = message.get("aux")
        if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
            self.image_id = aux["ID"]
        text = message.get("stream")
        if not isinstance(text, str):
            return None
        line = text.rstrip("\n")
        if not line.strip():
            return None
        self.lines.append(line)
        match = _STEP.match(line)
        if match:
            self.step, self.total = int(match.group(1)), int(match.group(2))
            self.instruction = match.group(3)
            self.step_output = []
        elif line.strip() == "---> Using cache":
            self.cached_steps.append(self.step)
        elif (result := _RESULT.fullmatch(line)) and not self.instruction.startswith("FROM "):
            if self.step not in self.cached_steps:  # a cached step's image belongs to another build
                self.step_images.append(result.group(1))
        else:
            self.step_output.append(line)
            del self.step_output[:-_TAIL]
        return line

    @property
    def failed(self) -> bool:
        return self.error is not None

    def failure_report(self) -> str:
        """The failing step, the tail of its output and the engine's error message."""
        output = [line for line in self.step_output if not line.lstrip().startswith("--->")]
        parts = [f"step {self.step}/{self.total} failed: {self.instruction}"]
        if output:
            parts.append("its output ended with:\n" + "\n".join(f"  {line}" for line in output))
        parts.append(self.error or "the build did not produce an image")
        if self.instruction.startswith("FROM "):
            parts.append(
                "the base image is neither local nor pullable: `docker pull` it where a registry "
                "is reachable, or pass --base-image with an image this engine has"
            )
        return "\n".join(parts)
