"""Model quality once ground truth arrives: classifier or regressor metrics over joined rows.

scikit-learn computes them when it is installed (the numbers then are sklearn's by definition);
otherwise the numpy formulas below, which give the same values. Binary precision, recall and F1
score the positive class (``1``, ``True`` or the larger label); with more classes they are
macro averages. ROC AUC needs the positive-class probability column (``out.probabilities.1``).
The label-free estimate (``estimate_accuracy``) is confidence-based, as NannyML's CBPE: the mean
of the winning class probability is the expected accuracy of a calibrated classifier.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = [
    "Task",
    "classification_metrics",
    "estimate_accuracy",
    "infer_task",
    "regression_metrics",
]

Task = Literal["classification", "regression"]


def infer_task(labels: np.ndarray, predictions: np.ndarray) -> Task:
    """Classification for text labels or few whole-number labels, else regression."""
    if labels.dtype.kind not in "fiu" or predictions.dtype.kind not in "fiu":
        return "classification"
    values = np.union1d(np.unique(labels), np.unique(predictions))
    whole = bool(np.all(np.mod(values, 1) == 0))
    return "classification" if whole and len(values) <= 20 else "regression"


def classification_metrics(
    labels: np.ndarray, predictions: np.ndarray, positive_scores: np.ndarray | None = None
) -> dict[str, float]:
    """accuracy, precision, recall, f1 and (with scores of the positive class, binary) roc_auc."""
    classes = np.union1d(np.unique(labels), np.unique(predictions))
    binary = len(classes) <= 2
    positive = classes[-1]
    try:
        from sklearn import metrics as skm
    except ImportError:  # pragma: no cover - sklearn is optional at run time
        skm = None
    if skm is not None:
        average = "binary" if binary else "macro"
        kwargs = {"pos_label": positive} if binary else {}
        out = {
            "accuracy": float(skm.accuracy_score(labels, predictions)),
            "precision": float(
                skm.precision_score(labels, predictions, average=average, zero_division=0, **kwargs)
            ),
            "recall": float(
                skm.recall_score(labels, predictions, average=average, zero_division=0, **kwargs)
            ),
            "f1": float(
                skm.f1_score(labels, predictions, average=average, zero_division=0, **kwargs)
            ),
        }
    else:
        out = _numpy_classification(labels, predictions, classes, binary)
    if positive_scores is not None and binary and len(np.unique(labels)) == 2:
        out["roc_auc"] = _roc_auc(labels == positive, positive_scores)
    return out


def regression_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """mae, rmse and r2."""
    y, p = labels.astype(np.float64), predictions.astype(np.float64)
    error = y - p
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(error**2)) / total if total > 0 else float("nan")
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "r2": r2,
    }


def estimate_accuracy(probabilities: np.ndarray) -> float:
    """Expected accuracy from class probabilities alone (rows x classes), CBPE-style."""
    return float(np.mean(np.max(probabilities, axis=1)))


def _numpy_classification(
    labels: np.ndarray, predictions: np.ndarray, classes: np.ndarray, binary: bool
) -> dict[str, float]:
    picked = [classes[-1]] if binary else list(classes)
    precision, recall, f1 = [], [], []
    for c in picked:
        tp = np.sum((predictions == c) & (labels == c))
        fp = np.sum((predictions == c) & (labels != c))
        fn = np.sum((predictions != c) & (labels == c))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        precision.append(p)
        recall.append(r)
        f1.append(2 * p * r / (p + r) if p + r else 0.0)
    return {
        "accuracy": float(np.mean(labels == predictions)),
        "precision": float(np.mean(precision)),
        "recall": float(np.mean(recall)),
        "f1": float(np.mean(f1)),
    }


def _roc_auc(is_positive: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney U over average ranks (ties shared), which is exactly the ROC AUC."""
    order = np.argsort(scores, kind="mergesort")
    ranked = scores[order]
    ranks = np.empty(len(scores))
    _, first, counts = np.unique(ranked, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    n_pos = int(is_positive.sum())
    n_neg = len(is_positive) - n_pos
    return float((ranks[is_positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
