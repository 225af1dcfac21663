"""Wheelhouse planning: targets, merged pins and the hashed lock (pure parts, no network)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from shipyard.image.wheelhouse import (
    LockedWheel,
    Target,
    Wheelhouse,
    image_requirements,
    lock_wheels,
    service_requirements,
)
from shipyard.models.manifest import Requirement, Requirements


def test_target_lists_every_manylinux_tag_the_base_can_run() -> None:
    target = Target.for_python("3.11", machine="x86_64")
    assert target.abi == "cp311"
    assert target.platforms[0] == "manylinux_2_28_x86_64"
    assert "manylinux_2_17_x86_64" in target.platforms
    assert "manylinux2014_x86_64" in target.platforms
    assert Target.for_python("3.12", machine="arm64").platform == "manylinux_2_28_aarch64"


def test_model_pins_win_over_service_pins() -> None:
    model = Requirements(
        "3.11.7", (Requirement("numpy", "1.26.4"), Requirement("scikit-learn", "1.5.2"))
    )
    merged = image_requirements(model, ["numpy==2.4.6", "uvicorn==0.54.0"])
    assert merged == ["numpy==1.26.4", "scikit-learn==1.5.2", "uvicorn==0.54.0"]


def test_service_requirements_pin_installed_versions_for_linux() -> None:
    pins = service_requirements(Target.for_python("3.11"))
    names = {pin.partition("==")[0].lower() for pin in pins}
    assert {"uvicorn", "httptools", "orjson", "numpy", "pandas"} <= names
    assert all("==" in pin for pin in pins)


def test_lock_has_one_hashed_line_per_wheel(tmp_path: Path) -> None:
    for name in ("b_pkg-2.0-py3-none-any.whl", "a_pkg-1.0-py3-none-any.whl"):
        (tmp_path / name).write_bytes(name.encode())
    wheels = lock_wheels(tmp_path)
    digest = hashlib.sha256(b"a_pkg-1.0-py3-none-any.whl").hexdigest()
    assert wheels[0] == LockedWheel("a-pkg", "1.0", "a_pkg-1.0-py3-none-any.whl", digest)
    text = Wheelhouse(tmp_path, wheels, Target.for_python("3.11")).lock_text()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == [
        f"a-pkg==1.0 --hash=sha256:{digest}",
        f"b-pkg==2.0 --hash=sha256:{wheels[1].sha256}",
    ]
