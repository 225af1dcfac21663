from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from shipyard.errors import PackagingError
from shipyard.models.loading import load_folder
from tests.models.conftest import Package, WriteModule, forget_module

NET_SOURCE = """
import torch


class TinyNet(torch.nn.Module):
    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(features, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.linear(x), dim=1)
"""


def _scripted(module: torch.nn.Module) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(module)


def test_torchscript_round_trip(package: Package, iris_array: np.ndarray) -> None:
    torch.manual_seed(0)
    linear = torch.nn.Linear(4, 3)
    scripted = _scripted(linear)
    manifest, folder = package(scripted, sample_input=iris_array[:2])
    assert manifest.flavor == "pytorch"
    assert manifest.flavor_options["format"] == "torchscript"
    assert manifest.signature is not None
    assert manifest.signature.outputs[0].shape == (-1, 3)
    with torch.inference_mode():
        expected = linear(torch.tensor(iris_array)).numpy()
    np.testing.assert_allclose(
        load_folder(folder).predict_named({"input": iris_array})["predictions"], expected, rtol=1e-6
    )


def test_state_dict_round_trip_imports_the_saved_class_code(
    package: Package, write_module: WriteModule, iris_array: np.ndarray
) -> None:
    nets = write_module("tiny_nets", NET_SOURCE)
    torch.manual_seed(0)
    net = nets.TinyNet(features=4, classes=3)
    manifest, folder = package(
        net,
        sample_input=iris_array[:2],
        flavor_options={"init_kwargs": {"features": 4, "classes": 3}},
    )
    with torch.inference_mode():
        expected = net(torch.tensor(iris_array)).numpy()
    forget_module(nets)

    loaded = load_folder(folder)

    assert manifest.flavor_options["class"] == "tiny_nets:TinyNet"
    assert manifest.code_paths == ("code/tiny_nets.py",)
    assert (folder / "state_dict.pt").is_file()
    np.testing.assert_allclose(loaded.predict_named({"input": iris_array})["predictions"], expected)


def test_float64_input_is_cast_to_the_parameter_dtype(package: Package) -> None:
    linear = torch.nn.Linear(2, 1)
    _, folder = package(_scripted(linear))
    result = load_folder(folder).predict_named({"input": np.ones((3, 2), dtype=np.float64)})
    assert result["predictions"].dtype == np.float32
    assert result["predictions"].shape == (3, 1)


def test_module_defined_in_a_function_is_refused_with_a_fix(package: Package) -> None:
    class Local(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    with pytest.raises(PackagingError, match=r"torch\.jit\.script"):
        package(Local())


def test_state_dict_init_kwargs_can_come_from_metadata(
    package: Package, write_module: WriteModule
) -> None:
    nets = write_module("tiny_nets_meta", NET_SOURCE)
    net = nets.TinyNet(features=2, classes=2)
    manifest, folder = package(
        net,
        sample_input=np.zeros((1, 2), dtype=np.float32),
        metadata={"init_kwargs": {"features": 2, "classes": 2}},
    )
    assert manifest.flavor_options["init_kwargs"] == {"features": 2, "classes": 2}
    assert manifest.metadata["init_kwargs"] == {"features": 2, "classes": 2}
    assert load_folder(folder).predict_named({"input": np.ones((3, 2))})["predictions"].shape == (
        3,
        2,
    )


def test_missing_init_kwargs_fail_at_packaging_not_at_serving(
    package: Package, write_module: WriteModule
) -> None:
    nets = write_module("tiny_nets_nokw", NET_SOURCE)
    with pytest.raises(PackagingError, match=r"does not load back.*TypeError"):
        package(nets.TinyNet(features=2, classes=2), sample_input=np.zeros((1, 2)))


def test_missing_init_kwargs_fail_at_packaging_even_without_sample_input(
    package: Package, write_module: WriteModule
) -> None:
    nets = write_module("tiny_nets_nosample", NET_SOURCE)
    with pytest.raises(PackagingError, match=r"TinyNet\(\*\*init_kwargs\).*init_kwargs"):
        package(nets.TinyNet(features=2, classes=2))
