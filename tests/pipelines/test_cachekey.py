"""One cache key from content: every part changes it; code digests cover local code only."""

from __future__ import annotations

import importlib
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from shipyard.pipelines.cachekey import CacheInputs, cache_key
from shipyard.pipelines.codedigest import code_digest
from shipyard.pipelines.loader import load_pipeline

BASE = CacheInputs(
    code="c" * 64,
    environment="sha256:" + "e" * 64,
    inputs={"data": "d" * 64},
    values={"depth": 3},
    env={"MODE": "fast"},
    outputs=(("output", "pickle"),),
)


@pytest.mark.parametrize(
    "change",
    [
        {"code": "x" * 64},
        {"environment": "sha256:" + "f" * 64},
        {"inputs": {"data": "0" * 64}},
        {"values": {"depth": 4}},
        {"env": {"MODE": "slow"}},
        {"outputs": (("output", "json"),)},
    ],
    ids=["code", "environment", "inputs", "values", "env", "outputs"],
)
def test_every_part_changes_the_key(change: dict[str, object]) -> None:
    assert cache_key(replace(BASE, **change)) != cache_key(BASE)  # type: ignore[arg-type]


def test_key_does_not_depend_on_mapping_order() -> None:
    one = replace(BASE, values={"a": 1, "b": 2})
    two = replace(BASE, values={"b": 2, "a": 1})
    assert cache_key(one) == cache_key(two)


def test_non_json_values_are_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match="cannot enter a cache key"):
        cache_key(replace(BASE, values={"when": object()}))


PIPE = """
import shipyard
import helpers

def scale(x: float) -> float:
    return x * SCALE

SCALE = 2.0

@shipyard.step
def first(x: float) -> float:
    return scale(x)

@shipyard.step
def second(y: float) -> float:
    return helpers.shift(y)

@shipyard.pipeline
def flow(x: float = 1.0) -> None:
    second(first(x))
"""


def _digests(project: Path) -> dict[str, str]:
    for name in [m for m in sys.modules if m == "helpers" or m.startswith("shipyard_pipeline_")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    loaded = load_pipeline(str(project / "pipe.py"))
    graph = loaded.pipeline.graph()
    return {n: code_digest(node.step.func, project) for n, node in graph.nodes.items()}


def test_code_digest_follows_same_file_helpers_and_local_modules(tmp_path: Path) -> None:
    (tmp_path / "pipe.py").write_text(PIPE)
    (tmp_path / "helpers.py").write_text("def shift(y: float) -> float:\n    return y + 1\n")
    before = _digests(tmp_path)
    (tmp_path / "pipe.py").write_text(PIPE.replace("return x * SCALE", "return x * SCALE * 1"))
    helper_changed = _digests(tmp_path)
    assert helper_changed["first"] != before["first"]
    assert helper_changed["second"] == before["second"]
    (tmp_path / "helpers.py").write_text("def shift(y: float) -> float:\n    return y + 2\n")
    module_changed = _digests(tmp_path)
    assert module_changed["second"] != helper_changed["second"]
    assert module_changed["first"] == helper_changed["first"]
