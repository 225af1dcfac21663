"""Publishing, looking up and fetching versions, on SQLite + local folder and PostgreSQL + S3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.errors import InvalidNameError, NotFoundError, PackagingError
from shipyard.models.manifest import MANIFEST_FILE
from shipyard.refs import ModelRef
from shipyard.registry import DESCRIPTOR_FILE, Registry, read_verified_folder
from shipyard.registry.digest import hash_tree, version_digest

from .conftest import MakeFolder


def test_publish_assigns_consecutive_versions_and_records_files(
    registry: Registry, make_folder: MakeFolder
) -> None:
    published = [registry.publish("iris", *make_folder(f"w{i}".encode())) for i in range(3)]

    assert [v.version for v in published] == [1, 2, 3]
    first = published[0]
    assert first.name == "iris"
    assert first.created_by == "tester"
    assert {f.path for f in first.files} == {"model.bin", MANIFEST_FILE}
    assert first.digest == version_digest(first.files)
    assert registry.get("iris:1") == first


def test_publish_keeps_tags_and_nested_files(registry: Registry, make_folder: MakeFolder) -> None:
    folder, manifest = make_folder(extra={"code/helpers.py": b"X = 1\n"})

    version = registry.publish("churn-model", folder, manifest, tags={"team": "ml", "stage": "dev"})

    assert version.tags == {"stage": "dev", "team": "ml"}
    assert "code/helpers.py" in {f.path for f in version.files}
    assert registry.get("churn-model").tags == {"stage": "dev", "team": "ml"}


def test_get_resolves_latest_number_and_alias(registry: Registry, make_folder: MakeFolder) -> None:
    for i in range(3):
        registry.publish("iris", *make_folder(f"w{i}".encode()))
    registry.set_alias("iris", "production", 2)

    assert registry.get("iris").version == 3
    assert registry.get("iris:latest").version == 3
    assert registry.get(ModelRef("iris", version=1)).version == 1
    production = registry.get("iris@production")
    assert production.version == 2
    assert production.aliases == ("production",)


def test_fetch_returns_a_verified_model_folder_with_the_same_bytes(
    registry: Registry, make_folder: MakeFolder
) -> None:
    folder, manifest = make_folder(b"\x00\x01" * 300_000, extra={"code/m.py": b"print(1)\n"})
    version = registry.publish("iris", folder, manifest)

    fetched = registry.fetch("iris:1")

    assert (fetched / "model.bin").read_bytes() == (folder / "model.bin").read_bytes()
    assert (fetched / "code" / "m.py").read_bytes() == b"print(1)\n"
    assert read_verified_folder(fetched).digest == version.digest
    descriptor = json.loads((fetched / DESCRIPTOR_FILE).read_text())
    assert (descriptor["name"], descriptor["version"]) == ("iris", 1)
    assert registry.fetch("iris:1") == fetched


def test_list_models_and_versions(registry: Registry, make_folder: MakeFolder) -> None:
    registry.publish("iris", *make_folder(b"a"))
    registry.publish("iris", *make_folder(b"b"))
    registry.publish("wine", *make_folder(b"c"))
    registry.set_alias("iris", "staging", 1)

    summaries = {s.name: s for s in registry.list_models()}

    assert sorted(summaries) == ["iris", "wine"]
    assert summaries["iris"].latest_version == 2
    assert summaries["iris"].version_count == 2
    assert summaries["iris"].aliases == {"staging": 1}
    assert [v.version for v in registry.list_versions("iris")] == [1, 2]
    assert registry.list_versions("iris")[0].aliases == ("staging",)


def test_identical_files_are_stored_once(registry: Registry, make_folder: MakeFolder) -> None:
    first = registry.publish("iris", *make_folder(b"same weights"))
    second = registry.publish("iris", *make_folder(b"same weights"))

    model_bin = {
        v.version: next(f for f in v.files if f.path == "model.bin") for v in (first, second)
    }
    assert model_bin[1].sha256 == model_bin[2].sha256
    assert registry.artifacts.exists(model_bin[1].sha256)


def test_publish_refuses_bad_names(registry: Registry, make_folder: MakeFolder) -> None:
    folder, manifest = make_folder()
    for name in ("../etc", "a/b", "..", "Iris", "", "a..b", "-x", "a" * 129, "x y", "/abs"):
        with pytest.raises(InvalidNameError, match="invalid model name"):
            registry.publish(name, folder, manifest)
    assert registry.list_models() == []


def test_publish_refuses_tags_that_are_not_a_dict_of_strings(
    registry: Registry, make_folder: MakeFolder
) -> None:
    folder, manifest = make_folder()
    for tags, message in ((["team"], "must be a dict"), ({"n": 1}, "tag values are strings")):
        with pytest.raises(PackagingError, match=message):
            registry.publish("iris", folder, manifest, tags=tags)  # type: ignore[arg-type]
    assert registry.list_models() == []


def test_get_refuses_malformed_references(registry: Registry) -> None:
    for ref in ("../etc", "a/b", "..", "iris@Prod", "iris:x", "iris@latest", "iris:0", ""):
        with pytest.raises(InvalidNameError):
            registry.get(ref)


def test_unknown_references_say_what_exists(registry: Registry, make_folder: MakeFolder) -> None:
    with pytest.raises(NotFoundError, match="registry is empty"):
        registry.get("iris")
    for i in range(3):
        registry.publish("iris", *make_folder(f"w{i}".encode()))
    registry.set_alias("iris", "production", 2)

    with pytest.raises(NotFoundError) as missing_version:
        registry.get("iris:7")
    assert str(missing_version.value) == (
        "no version 7: model 'iris' has versions 1-3 and aliases production→2"
    )
    with pytest.raises(NotFoundError, match=r"no alias 'staging': .*aliases production→2"):
        registry.get("iris@staging")
    with pytest.raises(NotFoundError, match="no model named 'irs': the registry has iris"):
        registry.fetch("irs")
    with pytest.raises(NotFoundError, match="no model named 'wine'"):
        registry.list_versions("wine")


def test_publish_refuses_a_folder_whose_manifest_differs(
    registry: Registry, make_folder: MakeFolder
) -> None:
    folder, _ = make_folder(b"a")
    _, other_manifest = make_folder(b"bb")

    with pytest.raises(PackagingError, match="does not match"):
        registry.publish("iris", folder, other_manifest)


def test_publish_ignores_a_stale_descriptor_in_the_folder(
    registry: Registry, make_folder: MakeFolder
) -> None:
    registry.publish("iris", *make_folder(b"a"))
    fetched = registry.fetch("iris:1")
    manifest = read_verified_folder(fetched).manifest

    again = registry.publish("iris", Path(fetched), manifest)

    assert again.version == 2
    assert again.digest == version_digest(hash_tree(fetched, exclude={DESCRIPTOR_FILE}))
