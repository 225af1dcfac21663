"""Which recorded repo digest may pin a base image's FROM line."""

from __future__ import annotations

import pytest

from shipyard.docker_engine import repo_digest_for

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("image", "recorded"),
    [
        ("python:3.11-slim", f"python@{DIGEST}"),
        ("python:3.11-slim", f"docker.io/library/python@{DIGEST}"),
        ("docker.io/library/python:3.11-slim", f"python@{DIGEST}"),
        ("127.0.0.1:5000/team/python:3.11", f"127.0.0.1:5000/team/python@{DIGEST}"),
    ],
)
def test_digest_of_the_same_repository_is_used(image: str, recorded: str) -> None:
    assert repo_digest_for(image, [recorded]) == DIGEST


def test_digest_pushed_to_another_registry_is_not_used() -> None:
    # The same image id pushed to a local registry: python@<that digest> would not resolve.
    recorded = [f"127.0.0.1:5000/shipyard-test/python@{DIGEST}"]
    assert repo_digest_for("shipyard-test/python:3.11-bookworm", recorded) is None
    assert repo_digest_for("python:3.11-slim", [f"127.0.0.1:5000/python@{DIGEST}"]) is None


def test_image_without_repo_digests_has_none() -> None:
    assert repo_digest_for("shipyard-test/python:3.11-bookworm", []) is None
