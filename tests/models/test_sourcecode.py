from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import sklearn

from shipyard.errors import PackagingError
from shipyard.models.loading import load_folder
from shipyard.models.sourcecode import copy_code, is_user_module, referenced_modules
from tests.models.conftest import Package, WriteModule, forget_module


def test_installed_and_stdlib_modules_are_not_user_code(write_module: WriteModule) -> None:
    assert not is_user_module(sklearn)
    assert not is_user_module(sys.modules["json"])
    assert not is_user_module(sys.modules["shipyard.models.packaging"])
    assert is_user_module(write_module("mine", "X = 1\n"))


def test_code_paths_are_copied_and_importable_at_load(
    package: Package, tmp_path: Path, write_module: WriteModule
) -> None:
    helpers = tmp_path / "lib" / "text_helpers"
    helpers.mkdir(parents=True)
    (helpers / "__init__.py").write_text("")
    (helpers / "clean.py").write_text("def shout(x):\n    return x * 3\n")
    (helpers / "notes.md").write_text("not code")
    model_module = write_module(
        "uses_helpers",
        "def predict(batch):\n    from text_helpers.clean import shout\n    return shout(batch)\n",
    )
    manifest, folder = package(model_module.predict, code_paths=[helpers])
    forget_module(model_module)

    loaded = load_folder(folder)

    assert manifest.code_paths == ("code/text_helpers", "code/uses_helpers.py")
    assert not (folder / "code" / "text_helpers" / "notes.md").exists()
    np.testing.assert_array_equal(
        loaded.predict_named({"input": np.ones(2)})["predictions"], [3, 3]
    )
    sys.modules.pop("text_helpers", None)
    sys.modules.pop("text_helpers.clean", None)


def test_missing_code_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackagingError, match="does not exist"):
        copy_code(tmp_path, [], [tmp_path / "nope.py"])


def test_non_python_file_code_path_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a\n")
    with pytest.raises(PackagingError, match=r"not a \.py file"):
        copy_code(tmp_path, [], [data])


def test_two_code_paths_with_one_name_are_refused(tmp_path: Path) -> None:
    for parent in ("a", "b"):
        (tmp_path / parent).mkdir()
        (tmp_path / parent / "feat.py").write_text("")
    with pytest.raises(PackagingError, match=r"both named 'feat\.py'"):
        copy_code(tmp_path, [], [tmp_path / "a" / "feat.py", tmp_path / "b" / "feat.py"])


def test_only_modules_pickled_by_reference_are_referenced(write_module: WriteModule) -> None:
    module = write_module(
        "refs_demo",
        """
        class Model:
            def predict(self, x):
                return x

        def top(x):
            return x

        def factory():
            def inner(x):
                return x
            return inner
        """,
    )
    assert referenced_modules(module.Model()) == (module,)
    assert referenced_modules(module.top) == (module,)
    assert referenced_modules(module.Model().predict) == (module,)
    assert referenced_modules(module.factory()) == ()
    assert referenced_modules(lambda x: x) == ()


def test_local_function_does_not_copy_its_test_module(package: Package) -> None:
    def local(batch: np.ndarray) -> np.ndarray:
        return batch

    manifest, folder = package(local, sample_input=np.zeros((1, 1)))
    assert manifest.code_paths == ()
    assert not (folder / "code").exists()


def test_loading_a_model_again_does_not_grow_sys_path(
    package: Package, write_module: WriteModule
) -> None:
    source = "class Model:\n    def predict(self, x):\n        return x\n"
    module = write_module("reload_demo", source)
    _, folder = package(module.Model(), sample_input=np.zeros((1, 1)))
    code_dir = str((folder / "code").resolve())

    for _ in range(3):
        load_folder(folder)
    assert code_dir not in sys.path  # the live module has the saved source: nothing to add

    forget_module(module)
    for _ in range(3):
        load_folder(folder)
    assert sys.path.count(code_dir) == 1
