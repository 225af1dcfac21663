"""The ``register`` step: publish the trained model as a version, and move an alias through a gate.

    >>> register = register_step("cancer", alias="production", promote_if="metrics.auc >= 0.90")
    >>> register(model, metrics, sample)   # inside a @shipyard.pipeline body

The version is tagged with the pipeline run id (``shipyard.pipeline_run``), carries the metrics in
its metadata and is linked to the pipeline run's tracked run (``SHIPYARD_TRACKING_RUN_ID``) with
the digest of the data it came from (``SHIPYARD_DATASET_DIGEST``), as ``save_model(run=...)``
links a version: the lineage is dataset digest → run → model version. The alias moves through
``Registry.set_alias`` only when the gate passes; a deployment that follows the alias is the
deploy stage's job. The step runs on the driver, in a local process, for every executor:
registry credentials never enter a step container.
"""

from __future__ import annotations

import os
from typing import Any

from shipyard.pipelines.gate import Gate
from shipyard.pipelines.kinds import Metrics, Model
from shipyard.pipelines.step import Step, make_step
from shipyard.refs import validate_alias, validate_name

__all__ = ["Registered", "register_step"]

Registered = dict[str, Any]
"""What ``register`` outputs: name, version, digest, alias, promoted and the gate's text."""


def register_step(
    model_name: str,
    *,
    alias: str | None = None,
    promote_if: str | None = None,
    step_name: str = "register",
    tags: dict[str, str] | None = None,
) -> Step:
    """A step ``(model, metrics, sample) -> Registered`` publishing ``model`` as ``model_name``.

    ``alias`` moves to the new version when ``promote_if`` passes on ``metrics`` (always, when
    there is no gate)."""
    validate_name(model_name)
    if alias is not None:
        validate_alias(alias)
    gate = Gate.parse(promote_if) if promote_if else None
    extra_tags = dict(tags or {})

    def register(model: Model, metrics: Metrics, sample: Any = None) -> Registered:
        import shipyard
        from shipyard.registry.registry import Registry

        run_id = os.environ.get("SHIPYARD_PIPELINE_RUN_ID", "")
        tracked_run = os.environ.get("SHIPYARD_TRACKING_RUN_ID") or None
        pipeline_tags = {
            "shipyard.pipeline": os.environ.get("SHIPYARD_PIPELINE_NAME", ""),
            "shipyard.pipeline_run": run_id,
            **extra_tags,
        }
        sample_input = sample.iloc[:5] if hasattr(sample, "iloc") else sample
        version = shipyard.save_model(
            model,
            model_name,
            sample_input=sample_input,
            metadata={"metrics": dict(metrics)},
            tags=pipeline_tags,
            # linked to the tracked run: dataset digest -> run -> model version
            run=tracked_run,
            run_id=None if tracked_run else (run_id or None),
            dataset_digest=os.environ.get("SHIPYARD_DATASET_DIGEST") or None,
        )
        promoted = gate.passes(metrics) if gate is not None else alias is not None
        if alias is not None and promoted:
            with Registry.from_settings(shipyard.Settings.from_env()) as registry:
                registry.set_alias(model_name, alias, version.version)
        outcome = f"promoted to {alias}" if promoted and alias else "alias not moved"
        print(f"registered {model_name}:{version.version}; gate {promote_if or '-'}: {outcome}")
        return {
            "name": model_name,
            "version": version.version,
            "digest": version.digest,
            "alias": alias if promoted else None,
            "promoted": bool(promoted),
            "gate": promote_if,
        }

    register.__shipyard_config__ = {  # type: ignore[attr-defined]
        "model": model_name,
        "alias": alias,
        "promote_if": promote_if,
        "tags": extra_tags,
    }
    return make_step(register, name=step_name, runs_on="driver")
