"""``spark_udf`` scores as ``shipyard predict`` does: same predictions, columns and rejects, and
an archive changed on its way to the executors is refused before anything loads."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import shipyard
from shipyard.batch.job import predict_file
from shipyard.batch.options import BatchOptions
from shipyard.registry.archive import write_archive
from shipyard.registry.folder import read_verified_folder
from tests.spark.conftest import Registered, model_folder

pytest.importorskip("pyspark", reason="pip install 'shipyard[spark]'")

from pyspark.errors import PythonException

from shipyard.spark.shipping import ship_archive
from shipyard.spark.udf import ModelUDF


def _spark_scores(frame: Any, udf: Any, *columns: str) -> pd.DataFrame:
    scored = frame.select("id", udf(*columns).alias("s")).select("id", "s.*")
    return scored.toArrow().to_pandas().sort_values("id", ignore_index=True)


def _batch_scores(tmp_path: Path, model: Registered, source: Path, **options: Any) -> pd.DataFrame:
    output = tmp_path / "scores.parquet"
    predict_file(
        model.ref, str(source), str(output), BatchOptions(keep=("id",), **options),
        settings=model.settings,
    )  # fmt: skip
    return pq.read_table(output).to_pandas().sort_values("id", ignore_index=True)


def test_udf_predicts_what_shipyard_predict_writes(
    spark: Any, forest: Registered, tmp_path: Path
) -> None:
    source = tmp_path / "iris.parquet"
    forest.frame.to_parquet(source, index=False)
    expected = _batch_scores(tmp_path, forest, source)

    udf = shipyard.spark_udf(spark, forest.ref, settings=forest.settings)
    got = _spark_scores(spark.read.parquet(str(source)), udf)

    assert udf.return_type.simpleString() == "struct<predictions:bigint>"
    assert list(got.columns) == list(expected.columns) == ["id", "predictions"]
    pd.testing.assert_frame_equal(got, expected)


def test_udf_gives_2d_outputs_as_arrays_like_the_parquet_output(
    spark: Any, onnx_iris: Registered, tmp_path: Path
) -> None:
    source = tmp_path / "iris.parquet"
    onnx_iris.frame.to_parquet(source, index=False)
    expected = _batch_scores(tmp_path, onnx_iris, source, columns=tuple(onnx_iris.features))

    udf = shipyard.spark_udf(spark, onnx_iris.ref, settings=onnx_iris.settings)
    got = _spark_scores(spark.read.parquet(str(source)), udf, *onnx_iris.features)

    assert udf.return_type.simpleString() == "struct<label:bigint,probabilities:array<float>>"
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_array_equal(got["label"], expected["label"])
    np.testing.assert_array_equal(np.stack(got.probabilities), np.stack(expected.probabilities))


@pytest.fixture
def messy_csv(forest: Registered, tmp_path: Path) -> Path:
    """The iris rows as CSV, with text where row 3 should have a number."""
    frame = forest.frame.astype(str)
    frame.loc[3, "sepal width (cm)"] = "wide"
    path = tmp_path / "messy.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_bad_row_is_rejected_with_the_reason_of_the_rejects_file(
    spark: Any, forest: Registered, messy_csv: Path, tmp_path: Path
) -> None:
    expected = _batch_scores(tmp_path, forest, messy_csv, on_error="skip")
    [reject] = [
        json.loads(line) for line in (tmp_path / "scores.rejects.jsonl").read_text().splitlines()
    ]

    udf = shipyard.spark_udf(spark, forest.ref, on_error="skip", settings=forest.settings)
    frame = spark.read.csv(str(messy_csv), header=True)  # every column as text, as predict reads
    got = _spark_scores(frame, udf).astype({"id": int})

    bad = got[got.id == reject["values"]["id"]]
    assert bad["_rejected"].tolist() == [reject["reason"]]
    assert "expected FP64 values, got 'wide'" in reject["reason"]
    assert bad["predictions"].isna().all()
    good = got[got["_rejected"].isna()].reset_index(drop=True)
    assert good["predictions"].astype(int).tolist() == expected["predictions"].tolist()


def test_a_bad_row_fails_the_job_naming_it_with_on_error_fail(
    spark: Any, forest: Registered, messy_csv: Path
) -> None:
    udf = shipyard.spark_udf(spark, forest.ref, settings=forest.settings)
    frame = spark.read.csv(str(messy_csv), header=True)

    with pytest.raises(PythonException, match=r"row 3 of a batch .*got 'wide'.*on_error='skip'"):
        frame.select(udf()).collect()


@pytest.fixture(scope="module")
def tree(forest: Registered) -> Registered:
    """A version no executor has loaded (the model cache is keyed by digest)."""
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    features, target = load_iris(return_X_y=True, as_frame=True)
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(features, target)
    version = shipyard.save_model(
        model, "iris-tree", sample_input=features[:5], settings=forest.settings
    )
    return Registered(f"iris-tree:{version.version}", forest.settings, forest.frame, [])


def _flip_a_byte(archive: Path, into: Path) -> None:
    """Rewrite ``archive`` with one byte of its model file changed (its size kept)."""
    with tarfile.open(archive) as source, tarfile.open(into, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else b""  # type: ignore[union-attr]
            if member.name.startswith("model"):
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            target.addfile(member, io.BytesIO(data) if member.isfile() else None)


def _frame_of(spark: Any, model: Registered, tmp_path: Path) -> Any:
    model.frame.to_parquet(tmp_path / "rows.parquet", index=False)
    return spark.read.parquet(str(tmp_path / "rows.parquet"))


def _shipped_udf(spark: Any, archive: Path, model: Registered) -> ModelUDF:
    version = read_verified_folder(model_folder(model.ref, model.settings))
    shipped = ship_archive(spark, archive, version, model.settings.import_limits)
    return ModelUDF(shipped, version.manifest.signature)


def test_a_tampered_archive_is_refused_on_the_executor(
    spark: Any, tree: Registered, tmp_path: Path
) -> None:
    honest = write_archive(model_folder(tree.ref, tree.settings), tmp_path / "honest.tar.gz")
    tampered = tmp_path / "iris-tree-tampered.tar.gz"
    _flip_a_byte(honest, tampered)
    udf = _shipped_udf(spark, tampered, tree)
    frame = _frame_of(spark, tree, tmp_path)

    with pytest.raises(
        PythonException, match=r"refused the archive shipped for iris-tree.*modified"
    ):
        frame.select(udf()).collect()


def test_an_archive_of_another_version_is_refused_by_its_digest(
    spark: Any, tree: Registered, forest: Registered, tmp_path: Path
) -> None:
    other = write_archive(model_folder(forest.ref, forest.settings), tmp_path / "swapped.tar.gz")
    udf = _shipped_udf(spark, other, tree)
    frame = _frame_of(spark, tree, tmp_path)

    with pytest.raises(PythonException, match=r"but the driver shipped iris-tree:\d+ with digest"):
        frame.select(udf()).collect()


def test_the_model_is_loaded_once_per_process_and_kept_by_digest(
    spark: Any, forest: Registered
) -> None:
    from shipyard.spark.shipping import load_shipped

    udf = shipyard.spark_udf(spark, forest.ref, settings=forest.settings)

    first = load_shipped(udf.shipped)  # on the driver here, as an executor would

    assert load_shipped(udf.shipped) is first
    assert first.descriptor is not None and first.descriptor.digest == udf.shipped.digest
