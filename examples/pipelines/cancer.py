"""Five steps from a dataset that ships with scikit-learn to a registered, aliased model.

    shipyard pipeline show examples/pipelines/cancer.py
    shipyard pipeline run examples/pipelines/cancer.py --param n_estimators=100
    shipyard pipeline run examples/pipelines/cancer.py --executor docker --parallel 2

ingest -> prepare -> train -> evaluate -> register; ``register`` publishes the model as
``cancer`` and moves ``production`` to it only when the test AUC is at least 0.90.
``split.json`` (the test share and seed) is an input file: editing it re-runs ``prepare`` and
what follows, not ``ingest``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pandas as pd

import shipyard
from shipyard.pipelines import Metrics, Model


class Split(NamedTuple):
    train: pd.DataFrame
    test: pd.DataFrame
    sample: pd.DataFrame


@shipyard.step
def ingest() -> pd.DataFrame:
    """The breast-cancer table bundled with scikit-learn (569 rows, 30 features + target)."""
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame


@shipyard.step
def prepare(raw: pd.DataFrame, config: Path) -> Split:
    """Split into train and test as ``config`` (a JSON file) says."""
    from sklearn.model_selection import train_test_split

    settings = json.loads(config.read_text())
    train, test = train_test_split(
        raw,
        test_size=settings["test_size"],
        random_state=settings["seed"],
        stratify=raw["target"],
    )
    return Split(train, test, test.drop(columns="target").head(5))


@shipyard.step(retries=1, timeout=600, cpu=1, memory="1Gi")
def train(data: pd.DataFrame, n_estimators: int) -> Model:
    from sklearn.ensemble import RandomForestClassifier

    features, target = data.drop(columns="target"), data["target"]
    return RandomForestClassifier(n_estimators=n_estimators, random_state=0).fit(features, target)


@shipyard.step
def evaluate(model: Model, data: pd.DataFrame) -> Metrics:
    from sklearn.metrics import accuracy_score, roc_auc_score

    features, target = data.drop(columns="target"), data["target"]
    scores = model.predict_proba(features)[:, 1]  # type: ignore[attr-defined]
    return {
        "auc": float(roc_auc_score(target, scores)),
        "accuracy": float(accuracy_score(target, scores > 0.5)),
    }


register = shipyard.register_step("cancer", alias="production", promote_if="metrics.auc >= 0.90")


@shipyard.pipeline(requirements=["scikit-learn>=1.3", "pyarrow>=14"])
def cancer(n_estimators: int = 50, split_config: Path = Path("split.json")) -> None:
    """Train a random forest on the breast-cancer data and promote it when it is good enough."""
    split = prepare(ingest(), split_config)
    model = train(split.train, n_estimators)
    metrics = evaluate(model, split.test)
    register(model, metrics, split.sample)
