"""Pipelines: typed ``@step`` functions composed by a ``@pipeline``, run on the laptop, in Docker
or on Kubernetes, cached by content.

    >>> import shipyard
    >>> @shipyard.step
    ... def prepare(raw: pd.DataFrame) -> pd.DataFrame: ...
    >>> @shipyard.pipeline
    ... def cancer(n_estimators: int = 100): ...

Run with ``shipyard pipeline run pipe.py``. Defining a pipeline imports nothing heavy; the runner
(``shipyard.pipelines.runner``) and the executors load only when a pipeline runs.
"""

from shipyard.pipelines.kinds import Folder, Metrics, Model
from shipyard.pipelines.pipeline import Pipeline, pipeline
from shipyard.pipelines.register import register_step
from shipyard.pipelines.step import Resources, Step, step

__all__ = [
    "Folder",
    "Metrics",
    "Model",
    "Pipeline",
    "Resources",
    "Step",
    "pipeline",
    "register_step",
    "step",
]
