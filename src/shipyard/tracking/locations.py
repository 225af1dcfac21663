"""Which ``artifact_location`` an experiment may name: the server tells every client of its runs
to write there, so a location is a server policy.

An experiment's location becomes each run's ``artifact_uri``, and the mlflow client uploads the
run's artifacts to it from the caller's machine: a location naming another host would send them
there, and ``..`` would climb out of the server's artifact tree. ``ArtifactLocationPolicy``
accepts:

- ``mlflow-artifacts:/path`` (this server's artifact API), a relative path without ``..``, and
  no host (``mlflow-artifacts://other-host/`` is refused);
- a location inside the server's own artifact root (``SHIPYARD_ARTIFACT_URL``);
- a local path (``file:///PATH``, or a bare path) when ``local_files``: the server listens on
  loopback only, so every client shares its disk, as with ``mlflow server`` on a laptop
  (MLflow's own ``create_experiment`` example names ``Path.cwd().joinpath("mlruns").as_uri()``).
  The server itself never reads or writes there;
- any other location whose scheme is listed (``file``, ``s3``, ``gs``, ...; a bare path counts
  as ``file``), still without ``..``. MLflow's own examples (``file:///.../mlruns``,
  ``s3://bucket/path``) work once their scheme is listed.

    >>> policy = ArtifactLocationPolicy(schemes=("s3",), root="/srv/artifacts")
    >>> policy.check("s3://models/churn")
    's3://models/churn'
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from shipyard.errors import InvalidInputError

__all__ = ["MAX_ARTIFACT_LOCATION_LENGTH", "ArtifactLocationPolicy"]

MAX_ARTIFACT_LOCATION_LENGTH = 900
"""The column holds 1024 characters, and a run adds ``/<run id>/artifacts`` (43)."""
_OWN = "mlflow-artifacts"


def _segments(path: str) -> list[str]:
    return unquote(path).replace("\\", "/").split("/")


def _normal_root(root: str) -> str:
    parsed = urlsplit(root)
    if parsed.scheme in ("", "file"):
        return "file://" + posixpath.normpath(parsed.path or root)
    return root.rstrip("/")


@dataclass(frozen=True, slots=True)
class ArtifactLocationPolicy:
    """The schemes listed (besides ``mlflow-artifacts``), the server's artifact root, and
    whether local paths are allowed (a loopback-only server)."""

    schemes: Collection[str] = ()
    root: str | None = None
    local_files: bool = False

    def check(self, location: str) -> str:
        """``location`` if experiments may use it; ``InvalidInputError`` saying why not."""
        if len(location) > MAX_ARTIFACT_LOCATION_LENGTH:
            raise InvalidInputError(
                f"artifact_location is {len(location)} characters long: at most "
                f"{MAX_ARTIFACT_LOCATION_LENGTH} are allowed"
            )
        parsed = urlsplit(location)
        scheme = parsed.scheme.lower() or "file"
        if ".." in _segments(parsed.netloc + "/" + parsed.path):
            raise InvalidInputError(
                f"artifact_location {location!r} has a '..' segment: name the folder itself"
            )
        if scheme == "file" and parsed.netloc not in ("", "localhost"):
            raise InvalidInputError(
                f"artifact_location {location!r} names host {parsed.netloc!r}: a file location "
                "is a local path (file:///PATH)"
            )
        if scheme == _OWN:
            if parsed.netloc:
                raise InvalidInputError(
                    f"artifact_location {location!r} names host {parsed.netloc!r}: this "
                    "server's artifacts are mlflow-artifacts:/PATH, with no host"
                )
            return location
        if scheme in self.schemes or self._is_under_root(location):
            return location
        if scheme == "file" and self.local_files:
            return location
        raise InvalidInputError(
            f"artifact_location {location!r} ({scheme}) is not allowed here: use "
            "mlflow-artifacts:/PATH, or have the server list the scheme in "
            "SHIPYARD_SERVER_ARTIFACT_SCHEMES (--artifact-scheme) if its clients should write "
            "there (a server on loopback only accepts local paths: its clients share its disk)"
        )

    def _is_under_root(self, location: str) -> bool:
        if not self.root:
            return False
        root, given = _normal_root(self.root), _normal_root(location)
        return given == root or given.startswith(root + "/")
