"""Send a version to the executors once, as one archive, and load it there once per process.

On the driver, ``ship_version`` packs the verified model folder into an export archive
(``registry/archive.py``, as ``shipyard models export`` writes it) and adds it to the Spark
context (``SparkContext.addFile``): each executor fetches it once. On an executor,
``load_shipped`` unpacks it within the import limits, verifies every file against the version
descriptor (``extract_archive``) and checks that the version's digest is the one the driver
shipped, before anything loads: a tampered or swapped archive raises ``IntegrityError``.

The loaded model is kept in ``_LOADED``, keyed by digest, for the life of the Python worker: one
load per worker process, not one per batch. That cache is the one piece of module state here, and
it is what the executors need (Spark reuses its Python workers between tasks).

    >>> shipped = ship_version(spark, folder, version, ImportLimits())
    >>> served = load_shipped(shipped)    # on an executor
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.config import ImportLimits
from shipyard.errors import ConfigError, IntegrityError
from shipyard.registry.archive import extract_archive, write_archive
from shipyard.registry.entities import ModelVersion
from shipyard.serve.runtime import ServedModel

if TYPE_CHECKING:
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

__all__ = ["ShippedModel", "load_shipped", "ship_archive", "ship_version"]

_LOADED: dict[str, ServedModel] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class ShippedModel:
    """What an executor needs to find, check and load a shipped version (pickled with the UDF)."""

    file_name: str
    digest: str
    name: str
    version: int
    limits: ImportLimits

    @property
    def label(self) -> str:
        return f"{self.name}:{self.version}"


def ship_version(
    spark: SparkSession, folder: Path, version: ModelVersion, limits: ImportLimits
) -> ShippedModel:
    """Archive the verified ``folder`` of ``version`` once per Spark application and add it."""
    app = re.sub(r"[^A-Za-z0-9_.-]", "_", _context(spark).applicationId)
    where = Path(tempfile.gettempdir()) / f"shipyard-spark-{app}"
    where.mkdir(parents=True, exist_ok=True)
    archive = where / f"{version.name}-{version.version}-{version.digest[:16]}.tar.gz"
    if not archive.exists():
        write_archive(folder, archive)
    return ship_archive(spark, archive, version, limits)


def ship_archive(
    spark: SparkSession, archive: Path, version: ModelVersion, limits: ImportLimits
) -> ShippedModel:
    """Add ``archive`` to the Spark context as the carrier of ``version`` (its digest)."""
    context = _context(spark)
    if not any(uri.rsplit("/", 1)[-1] == archive.name for uri in context.listFiles):
        context.addFile(str(archive))
    return ShippedModel(archive.name, version.digest, version.name, version.version, limits)


def _context(spark: SparkSession) -> SparkContext:
    try:
        return spark.sparkContext
    except Exception as exc:  # Spark Connect: PySparkNotImplementedError, or no JVM
        raise ConfigError(
            f"spark_udf needs a classic SparkSession, whose SparkContext ships the model to the "
            f"executors; Spark Connect is not supported yet ({exc})"
        ) from None


def load_shipped(shipped: ShippedModel) -> ServedModel:
    """The shipped model, loaded on first use in this process (on an executor)."""
    with _LOCK:
        served = _LOADED.get(shipped.digest)
        if served is None:
            served = _load(shipped)
            _LOADED[shipped.digest] = served
        return served


def _load(shipped: ShippedModel) -> ServedModel:
    from pyspark import SparkFiles

    from shipyard.models.loading import load_folder

    archive = Path(SparkFiles.get(shipped.file_name))
    root = Path(SparkFiles.getRootDirectory()) / "shipyard-models"
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{shipped.digest[:16]}-", dir=root))
    try:
        version = extract_archive(archive, folder, shipped.limits)
        if version.digest != shipped.digest:
            raise IntegrityError(
                f"archive {archive.name} holds {version.name}:{version.version} with digest "
                f"{version.digest[:12]}..., but the driver shipped {shipped.label} with digest "
                f"{shipped.digest[:12]}...: it was replaced on the way, refused"
            )
        return ServedModel.from_version(version, load_folder(folder), folder)
    except IntegrityError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise IntegrityError(
            f"the executor refused the archive shipped for {shipped.label}: {exc}"
        ) from exc
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
