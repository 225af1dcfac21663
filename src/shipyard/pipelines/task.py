"""The task a worker runs: one step, where its inputs are and where its outputs go.

The driver writes it as ``task.json`` in the step's folder; every path in it is relative to the
folder the worker is given, so the same task runs in a local process (the host folder), in a
container (the folder mounted at ``/work``) and in a Kubernetes Job (a volume).

    step folder/
      task.json   in/<input>/...   out/<output>/...   work/ (the step's cwd)   result.json
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shipyard.pipelines.kinds import Kind

__all__ = ["RESULT_FILE", "TASK_FILE", "Task", "TaskInput", "TaskOutput"]

TASK_FILE = "task.json"
RESULT_FILE = "result.json"


@dataclass(frozen=True, slots=True)
class TaskInput:
    name: str
    kind: Kind
    path: str


@dataclass(frozen=True, slots=True)
class TaskOutput:
    name: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class Task:
    """One step to run: the pipeline file, the node, its inputs, values and outputs."""

    source: str
    pipeline: str
    node: str
    inputs: tuple[TaskInput, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)
    outputs: tuple[TaskOutput, ...] = ()
    out_dir: str = "out"
    work_dir: str = "work"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Task:
        data = json.loads(text)
        return cls(
            source=data["source"],
            pipeline=data["pipeline"],
            node=data["node"],
            inputs=tuple(TaskInput(**i) for i in data.get("inputs", ())),
            values=dict(data.get("values", {})),
            outputs=tuple(TaskOutput(**o) for o in data.get("outputs", ())),
            out_dir=data.get("out_dir", "out"),
            work_dir=data.get("work_dir", "work"),
        )

    def write(self, folder: Path) -> Path:
        path = folder / TASK_FILE
        path.write_text(self.to_json())
        return path
