"""Run one step: ``python -m shipyard.pipelines.worker STEP_FOLDER``.

Reads ``task.json`` (or the TASK_FILE given, as a Kubernetes Job does), imports the pipeline
file, finds the node, reads each input with its kind's serializer, calls the step with the inputs
and values, writes every declared output and records ``result.json``. The same entry point runs
in a local process, a container and a Kubernetes Job. Exit 0 on success, 1 when the step raised
or wrote no declared output.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from shipyard.errors import PipelineRunError
from shipyard.pipelines.loader import load_pipeline
from shipyard.pipelines.serializers import read_value, write_value
from shipyard.pipelines.task import RESULT_FILE, TASK_FILE, Task

__all__ = ["main", "run_task"]


def _outputs_of(task: Task, returned: Any) -> dict[str, Any]:
    names = [o.name for o in task.outputs]
    if not names:
        return {}
    if names == ["output"]:
        values = {"output": returned}
    elif isinstance(returned, dict):
        values = dict(returned)
    elif isinstance(returned, tuple) and len(returned) == len(names):
        values = dict(zip(names, returned, strict=True))
    else:
        raise PipelineRunError(
            f"step {task.node!r} declares outputs {names} but returned "
            f"{type(returned).__name__}: return the NamedTuple it declares"
        )
    for name in names:
        if values.get(name) is None:
            raise PipelineRunError(
                f"step {task.node!r} wrote no output {name!r}: it returned None for it; return "
                "a value for every declared output (or declare -> None)"
            )
    return values


def run_task(root: Path, task_file: Path | None = None) -> None:
    """Run the task in ``root`` (``root/task.json`` unless ``task_file``); raises on failure."""
    task = Task.from_json((task_file or root / TASK_FILE).read_text())
    loaded = load_pipeline(task.source, task.pipeline)
    node = loaded.pipeline.graph().nodes[task.node]
    kwargs: dict[str, Any] = dict(task.values)
    for item in task.inputs:
        kwargs[item.name] = read_value(item.kind, root / item.path)
    kinds = {o.name: o.kind for o in task.outputs}
    work = root / task.work_dir
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(work)
    returned = node.step.func(**kwargs)
    for name, value in _outputs_of(task, returned).items():
        source = value
        if kinds[name] in ("file", "folder") and not Path(source).is_absolute():
            source = work / Path(source)
        write_value(kinds[name], source, root / task.out_dir / name)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        sys.stderr.write("usage: python -m shipyard.pipelines.worker STEP_FOLDER [TASK_FILE]\n")
        return 2
    root = Path(args[0]).resolve()
    root.mkdir(parents=True, exist_ok=True)
    try:
        run_task(root, Path(args[1]) if len(args) == 2 else None)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        trace = traceback.format_exc()
        sys.stderr.write(trace)
        message = f"{type(exc).__name__}: {exc}"
        (root / RESULT_FILE).write_text(json.dumps({"ok": False, "error": message}))
        return 1
    (root / RESULT_FILE).write_text(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
