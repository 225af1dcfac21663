from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from shipyard.errors import PackagingError
from shipyard.models.custom import PythonModel
from shipyard.models.loading import load_folder
from tests.models.conftest import Package, WriteModule, forget_module

CHURN_SOURCE = """
import numpy as np
from shipyard.models.custom import ModelContext, PythonModel

VERSION = {version}


class Churn(PythonModel):
    def load(self, context: ModelContext) -> None:
        self.clf = context.models["clf"]
        self.note = context.artifacts["note"].read_text()

    def predict(self, inputs):
        return {{"label": self.clf.predict(inputs), "version": np.full(len(inputs), VERSION)}}
"""

SLOW_ECHO_SOURCE = """
import asyncio
from shipyard.models.custom import ModelContext, PythonModel


class SlowEcho(PythonModel):
    async def load(self, context: ModelContext) -> None:
        await asyncio.sleep(0)
        self.loop = asyncio.get_running_loop()

    async def predict(self, inputs):
        await asyncio.sleep(0)
        assert asyncio.get_running_loop() is self.loop
        return inputs * 10
"""


@pytest.fixture
def slow_echo(write_module: WriteModule) -> PythonModel:
    """An async custom model whose load and predict both await on the same loop."""
    return write_module("slow_echo", SLOW_ECHO_SOURCE).SlowEcho()  # type: ignore[no-any-return]


@pytest.fixture
def note(tmp_path: Path) -> Path:
    path = tmp_path / "note.txt"
    path.write_text("threshold 0.5")
    return path


def test_custom_model_runs_saved_code_with_its_artifacts(
    package: Package,
    write_module: WriteModule,
    sklearn_pipeline: Pipeline,
    iris: tuple[pd.DataFrame, np.ndarray],
    note: Path,
) -> None:
    frame, _ = iris
    churn = write_module("churn_v1", CHURN_SOURCE.format(version=1))
    manifest, folder = package(
        churn.Churn(),
        sample_input=frame.head(),
        artifacts={"clf": sklearn_pipeline, "note": note},
    )
    source = Path(churn.__file__ or "").read_text()
    forget_module(churn)

    loaded = load_folder(folder)

    assert manifest.code_paths == ("code/churn_v1.py",)
    assert (folder / "code" / "churn_v1.py").read_text() == source
    assert manifest.flavor_options["artifacts"]["clf"]["flavor"] == "sklearn"
    assert loaded.native.note == "threshold 0.5"
    outputs = loaded.predict_named(frame)
    np.testing.assert_array_equal(outputs["label"], sklearn_pipeline.predict(frame))
    assert manifest.signature is not None
    assert manifest.signature.output_names == ("label", "version")


def test_loading_uses_the_saved_code_not_the_edited_module(
    package: Package,
    write_module: WriteModule,
    sklearn_pipeline: Pipeline,
    note: Path,
    iris: tuple[pd.DataFrame, np.ndarray],
) -> None:
    frame, _ = iris
    v1 = write_module("churn_edit", CHURN_SOURCE.format(version=1))
    _, folder = package(v1.Churn(), artifacts={"clf": sklearn_pipeline, "note": note})
    forget_module(v1)
    v2 = write_module("churn_edit", CHURN_SOURCE.format(version=2))

    loaded = load_folder(folder)

    assert loaded.predict_named(frame.head(2))["version"].tolist() == [1, 1]
    assert sys.modules["churn_edit"] is v2
    assert v2.Churn().predict.__module__ == "churn_edit"


def test_async_load_and_predict_run_on_one_private_loop(
    package: Package, slow_echo: PythonModel
) -> None:
    _, folder = package(slow_echo, sample_input=np.ones((2, 2)))
    loaded = load_folder(folder)
    np.testing.assert_array_equal(
        loaded.predict_named({"input": np.ones((1, 2))})["predictions"], [[10, 10]]
    )


def test_async_model_can_be_called_from_inside_a_running_event_loop(
    package: Package, slow_echo: PythonModel
) -> None:
    _, folder = package(slow_echo)
    loaded = load_folder(folder)

    async def caller() -> np.ndarray:
        return np.asarray(loaded.native_predict(np.array([[1.0]])))

    assert asyncio.run(caller()).tolist() == [[10.0]]


def test_class_defined_in_main_is_saved_by_value(tmp_path: Path) -> None:
    script = tmp_path / "notebook.py"
    folder = tmp_path / "model"
    script.write_text(
        textwrap.dedent(
            f"""
            import numpy as np
            from pathlib import Path
            from shipyard.models.custom import PythonModel
            from shipyard.models.packaging import package_model

            class Plus(PythonModel):
                def predict(self, inputs):
                    return inputs + 1

            package_model(Plus(), Path({str(folder)!r}), sample_input=np.zeros((1, 2)),
                          created_by="nb")
            """
        )
    )
    subprocess.run([sys.executable, str(script)], check=True, cwd=tmp_path)

    loaded = load_folder(folder)

    assert loaded.manifest.code_paths == ()
    assert loaded.predict_named({"input": np.zeros((1, 2))})["predictions"].tolist() == [[1.0, 1.0]]
    assert any(r.name == "numpy" for r in loaded.manifest.requirements.packages)


def test_artifacts_need_a_python_model(package: Package, sklearn_pipeline: Pipeline) -> None:
    with pytest.raises(PackagingError, match="PythonModel"):
        package(sklearn_pipeline, artifacts={"clf": sklearn_pipeline})


def test_plain_object_artifacts_are_refused(package: Package, slow_echo: PythonModel) -> None:
    with pytest.raises(PackagingError, match="artifact 'scale' is a plain Python object"):
        package(slow_echo, artifacts={"scale": lambda x: x})
    with pytest.raises(PackagingError, match=r"artifact 'state': cannot package a builtins\.dict"):
        package(slow_echo, artifacts={"state": {"a": 1}})
