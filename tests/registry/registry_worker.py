"""Publish one hand-made version from its own process, started by ``multiprocessing``.

Workers run in a ``forkserver`` context whose server preloads Shipyard, so eight of them start in
milliseconds instead of each importing numpy, SQLAlchemy and friends; each still opens its own
registry, database connections and artifact-store client.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from multiprocessing.context import ForkServerContext
from pathlib import Path

import numpy as np
from sklearn.dummy import DummyClassifier

import shipyard
from shipyard.config import Settings
from shipyard.registry import Registry

from .handmade import write_model_folder

PRELOAD = (
    "sklearn.dummy",
    "shipyard.registry",
    "sqlalchemy.dialects.postgresql.psycopg",
    "s3fs",
    "aiobotocore.session",
)


def worker_context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*PRELOAD, __name__])
    return context


def publish_one(
    env: dict[str, str], name: str, payload: str, workdir: Path, start: Path | None
) -> None:
    """Open the registry, signal ready, wait for ``start``, publish, record the version."""
    os.environ.update(env)
    folder = workdir / f"folder-{payload}"
    manifest = write_model_folder(folder, payload.encode())
    with Registry.from_settings(Settings.from_env(env)) as registry:
        (workdir / f"ready-{payload}").touch()
        deadline = time.monotonic() + 60
        while start is not None and not start.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("no start signal")
            time.sleep(0.005)
        version = registry.publish(name, folder, manifest)
    result = {"version": version.version, "payload": payload}
    (workdir / f"result-{payload}.json").write_text(json.dumps(result))


def save_one(env: dict[str, str], name: str, label: int, workdir: Path, start: Path) -> None:
    """``shipyard.save_model`` a tiny classifier that always predicts ``label``, on ``start``."""
    os.environ.update(env)
    features = np.arange(8, dtype=np.float64).reshape(-1, 1)
    model = DummyClassifier(strategy="constant", constant=label).fit(features, np.arange(8))
    (workdir / f"ready-{label}").touch()
    deadline = time.monotonic() + 60
    while not start.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("no start signal")
        time.sleep(0.005)
    version = shipyard.save_model(model, name, sample_input=features[:2])
    result = {"version": version.version, "label": label}
    (workdir / f"result-{label}.json").write_text(json.dumps(result))
