"""The image's labels: OCI annotations plus what Shipyard needs to trace an image to its model.

Pure and reproducible: ``created`` is the model version's creation time, not the wall clock, so
the same version always renders the same Dockerfile. ``revision`` is the git commit the model was
saved from and ``source`` its repository's URL (``models/lineage.py``); both are left out when the
model was not saved from a git work tree (a local path is never a source).

    >>> image_labels(spec)["org.opencontainers.image.version"]
    '3'
"""

from __future__ import annotations

from datetime import UTC, datetime

from shipyard.image.spec import BuildSpec

__all__ = ["OCI", "SHIPYARD", "image_labels", "rfc3339"]

OCI = "org.opencontainers.image"
SHIPYARD = "io.shipyard"


def rfc3339(moment: datetime) -> str:
    """A UTC RFC 3339 timestamp; a naive datetime is taken to be UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def image_labels(spec: BuildSpec) -> dict[str, str]:
    """Every label of the image, sorted by key."""
    model = spec.model
    lineage = model.manifest.lineage
    labels = {
        f"{OCI}.title": f"shipyard/{model.name}",
        f"{OCI}.description": f"Model {model.name} version {model.version} served by Shipyard",
        f"{OCI}.version": str(model.version),
        f"{OCI}.created": rfc3339(model.created_at),
        f"{OCI}.base.name": spec.base_image,
        f"{SHIPYARD}.model.name": model.name,
        f"{SHIPYARD}.model.version": str(model.version),
        f"{SHIPYARD}.model.digest": model.digest,
        f"{SHIPYARD}.model.flavor": model.flavor,
        f"{SHIPYARD}.python": spec.python_version,
        f"{SHIPYARD}.version": spec.shipyard_version,
    }
    if spec.base_digest is not None:
        labels[f"{OCI}.base.digest"] = spec.base_digest
    if lineage.git_commit:
        labels[f"{OCI}.revision"] = lineage.git_commit
    if lineage.repository:
        labels[f"{OCI}.source"] = lineage.repository
    return dict(sorted(labels.items()))
