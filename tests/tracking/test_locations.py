from __future__ import annotations

import pytest

from shipyard.errors import InvalidInputError
from shipyard.tracking.locations import ArtifactLocationPolicy

DEFAULT = ArtifactLocationPolicy(root="/srv/shipyard/artifacts")
OPEN = ArtifactLocationPolicy(schemes=("file", "s3"), root="s3://team/artifacts")


@pytest.mark.parametrize(
    "location",
    [
        "mlflow-artifacts:/churn",
        "mlflow-artifacts:/a/b/c",
        "/srv/shipyard/artifacts/churn",
        "file:///srv/shipyard/artifacts/churn",
    ],
)
def test_default_policy_accepts_this_servers_artifacts_and_its_root(location: str) -> None:
    assert DEFAULT.check(location) == location


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("mlflow-artifacts:/../../../tmp", "'..' segment"),
        ("mlflow-artifacts:/a/%2e%2e/b", "'..' segment"),
        ("mlflow-artifacts://otherhost/x", "names host"),
        ("file:///tmp/x", "not allowed here"),
        ("/tmp/x", "not allowed here"),
        ("/srv/shipyard/artifacts/../../etc", "'..' segment"),
        ("/srv/shipyard/artifacts-evil/x", "not allowed here"),
        ("s3://bucket/x", "SHIPYARD_SERVER_ARTIFACT_SCHEMES"),
        ("x" * 901, "at most 900"),
    ],
)
def test_default_policy_refuses_other_places_and_says_why(location: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        DEFAULT.check(location)


def test_listed_schemes_keep_mlflows_own_examples_working() -> None:
    for location in ("file:///home/me/mlruns", "s3://bucket/path", "s3://team/artifacts/exp"):
        assert OPEN.check(location) == location
    for bad in ("s3://bucket/../other", "file://otherhost/share", "gs://bucket/x"):
        with pytest.raises(InvalidInputError):
            OPEN.check(bad)


def test_a_loopback_server_accepts_local_paths_its_clients_share() -> None:
    local = ArtifactLocationPolicy(root="/srv/shipyard/artifacts", local_files=True)
    for location in ("file:///home/me/mlruns", "/home/me/mlruns", "file://localhost/tmp/x"):
        assert local.check(location) == location
    for bad in ("file:///home/me/../other", "file://otherhost/share", "s3://bucket/x"):
        with pytest.raises(InvalidInputError):
            local.check(bad)
