"""The model image scores a mounted file: ``predict --in-image`` on the real Docker engine."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.batch import BatchOptions
from shipyard.batch.in_image import image_for, predict_in_image
from shipyard.config import Settings
from shipyard.docker_engine import DockerEngine
from shipyard.image import pipeline
from shipyard.image.image import remove_build
from shipyard.image.pipeline import build_image, plan_build
from tests.image.conftest import base_image, engine, wheel_cache  # noqa: F401

from .conftest import Forest, model_folder

# A cold build (new wheels) can take minutes on a busy machine; later runs reuse the layers.
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1200)]


@pytest.fixture(scope="session")
def forest_image(
    forest: Forest,
    engine: DockerEngine,  # noqa: F811
    base_image: str,  # noqa: F811
    wheel_cache: Path,  # noqa: F811
) -> Iterator[str]:
    """The forest's image built on the local base, removed afterwards."""
    folder = model_folder(forest.ref, forest.env)
    spec = plan_build(
        folder, base_image=base_image, tags=(f"shipyard-test/batch:{uuid.uuid4().hex[:8]}",)
    )
    with pytest.MonkeyPatch.context() as patch:
        # The shared dev venv may hold shipyard metadata from before pyarrow became a
        # dependency; a fresh install (CI) lists it, and then this changes nothing.
        service = pipeline.service_requirements

        def with_pyarrow(target: pipeline.Target) -> list[str]:
            pins = service(target)
            if not any(p.lower().startswith("pyarrow") for p in pins):
                import pyarrow

                pins.append(f"pyarrow=={pyarrow.__version__}")
            return pins

        patch.setattr(pipeline, "service_requirements", with_pyarrow)
        image = build_image(engine, spec, folder, cache_dir=wheel_cache)
    yield spec.tags[0]
    remove_build(engine, image, spec.tags)


def test_image_scores_a_mounted_file_without_network_as_the_caller(
    forest: Forest,
    forest_image: str,
    engine: DockerEngine,  # noqa: F811
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    forest.frame.to_parquet(data / "in.parquet", index=False)
    target = tmp_path / "scores" / "out.csv"
    target.parent.mkdir()
    tag = image_for(engine, forest.ref, forest_image, Settings.from_env(forest.env))
    seen: list[tuple[int, float | None]] = []
    result = predict_in_image(
        engine,
        tag,
        data / "in.parquet",
        target,
        BatchOptions(batch_rows=200, keep=("id",), on_error="skip"),
        on_progress=lambda rows, fraction: seen.append((rows, fraction)),
    )
    assert (result.rows_written, result.chunks, result.model_name) == (569, 3, "cancer")
    out = pd.read_csv(target)
    assert out["id"].tolist() == forest.frame["id"].tolist()
    np.testing.assert_array_equal(out["predictions"].to_numpy(), forest.expected)
    assert target.stat().st_uid == os.getuid()
    assert (tmp_path / "scores" / "out.rejects.jsonl").read_text() == ""
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.csv", "out.rejects.jsonl"]
    config = engine.client.api.inspect_image(tag)["Config"]
    assert config["Cmd"] == ["serve"] and config["User"] not in ("", "0", "root")
    assert json.dumps(result.to_dict())
    assert seen[-1] == (569, 1.0)  # followed from the container's progress manifest


def test_a_bad_row_in_the_image_fails_with_its_row_and_leaves_no_output(
    forest: Forest,
    forest_image: str,
    engine: DockerEngine,  # noqa: F811
    tmp_path: Path,
) -> None:
    from shipyard.errors import InvalidInputError

    frame = forest.frame.astype({forest.features[0]: object})
    frame.iloc[42, 1] = "bad"
    (tmp_path / "data").mkdir()
    frame.to_csv(tmp_path / "data" / "in.csv", index=False)
    target = tmp_path / "out.parquet"
    with pytest.raises(InvalidInputError, match=r"in the image: row 42 \(0-based\)"):
        predict_in_image(engine, forest_image, tmp_path / "data" / "in.csv", target, BatchOptions())
    assert not target.exists()
