"""Tags are mutable key/value metadata beside an immutable version."""

from __future__ import annotations

import pytest

from shipyard.errors import NotFoundError, PackagingError
from shipyard.registry import Registry

from .conftest import MakeFolder


@pytest.fixture
def tagged(registry: Registry, make_folder: MakeFolder) -> Registry:
    registry.publish("iris", *make_folder(b"w0"), tags={"team": "ml"})
    registry.publish("iris", *make_folder(b"w1"))
    return registry


def test_set_tags_adds_and_overwrites_without_touching_the_version(tagged: Registry) -> None:
    before = tagged.get("iris:1")
    after = tagged.set_tags("iris:1", {"team": "risk", "shipyard.smoke.load_seconds": "0.8"})
    assert after.tags == {"team": "risk", "shipyard.smoke.load_seconds": "0.8"}
    assert (after.digest, after.files, after.manifest) == (
        before.digest,
        before.files,
        before.manifest,
    )
    assert tagged.get("iris:2").tags == {}


def test_set_tags_follows_an_alias_to_its_version(tagged: Registry) -> None:
    tagged.set_alias("iris", "production", 2)
    assert tagged.set_tags("iris@production", {"reviewed": "yes"}).version == 2
    assert tagged.get("iris:2").tags == {"reviewed": "yes"}


def test_remove_tags_removes_only_the_keys_given(tagged: Registry) -> None:
    tagged.set_tags("iris:1", {"a": "1", "b": "2"})
    assert tagged.remove_tags("iris:1", ["a", "team"]).tags == {"b": "2"}


def test_remove_of_an_unknown_tag_names_the_existing_ones(tagged: Registry) -> None:
    with pytest.raises(NotFoundError, match=r"no tag 'nope' \(its tags: team\)"):
        tagged.remove_tags("iris:1", ["team", "nope"])
    assert tagged.get("iris:1").tags == {"team": "ml"}  # nothing half-done


def test_tags_of_an_unknown_version_or_bad_value_are_refused(tagged: Registry) -> None:
    with pytest.raises(NotFoundError, match="no version 9"):
        tagged.set_tags("iris:9", {"a": "1"})
    with pytest.raises(PackagingError, match="tag values are strings"):
        tagged.set_tags("iris:1", {"a": 1})  # type: ignore[dict-item]
