"""The ``mlflow-artifacts`` API: upload, download, list and delete run artifacts.

The ``mlflow`` client reaches it for runs whose ``artifact_uri`` is ``mlflow-artifacts:/...``:
``PUT``/``GET``/``DELETE /api/2.0/mlflow-artifacts/artifacts/<path>`` and
``GET /api/2.0/mlflow-artifacts/artifacts?path=<folder>`` (listing, children by name).
Uploads are streamed into a scratch file, hashed and stored as content-addressed blobs.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from shipyard.errors import NotFoundError
from shipyard.tracking.artifacts import check_artifact_path
from shipyard.tracking.server.http import Request, Response, Route, json_response
from shipyard.tracking.server.threads import in_thread
from shipyard.tracking.tracker import Tracker

__all__ = ["ARTIFACTS_PATH", "ArtifactsApi"]

ARTIFACTS_PATH = "/api/2.0/mlflow-artifacts/artifacts"
_RUN_PATH = re.compile(r"\d+/([0-9a-f]{32})/artifacts(?:/|$)")


class ArtifactsApi:
    """Artifact endpoints over one ``Tracker``; ``scratch`` holds uploads while they stream."""

    def __init__(self, tracker: Tracker, scratch: Path) -> None:
        self.tracker = tracker
        self.scratch = scratch

    def routes(self) -> list[Route]:
        return [
            Route("GET", ARTIFACTS_PATH, self.list_artifacts),
            Route("PUT", ARTIFACTS_PATH, self.upload, prefix=True),
            Route("GET", ARTIFACTS_PATH, self.download, prefix=True),
            Route("DELETE", ARTIFACTS_PATH, self.delete, prefix=True),
        ]

    async def list_artifacts(self, request: Request) -> Response:
        path = check_artifact_path(request.query.get("path", "").strip("/"))
        children = await in_thread(self.tracker.artifacts.list, path)
        files = []
        for name, is_dir, size in children:
            entry: dict[str, object] = {"path": name, "is_dir": is_dir}
            if size is not None:
                entry["file_size"] = size
            files.append(entry)
        return json_response({"files": files})

    async def upload(self, request: Request) -> Response:
        path = check_artifact_path(request.suffix)
        found = _RUN_PATH.match(path)
        run_id = found.group(1) if found else None
        self.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.scratch, prefix="upload-") as handle:
            await request.stream_to(handle)  # type: ignore[arg-type]
            handle.flush()
            await in_thread(self.tracker.artifacts.put_file, path, Path(handle.name), run_id)
        return json_response({})

    async def download(self, request: Request) -> Response:
        path = check_artifact_path(request.suffix)
        self.scratch.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=self.scratch, prefix="download-", delete=False)
        handle.close()
        target = Path(handle.name)
        try:
            await in_thread(self.tracker.artifacts.fetch, path, target)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return Response(
            200, content_type=b"application/octet-stream", file=target, remove_file=True
        )

    async def delete(self, request: Request) -> Response:
        path = check_artifact_path(request.suffix)
        removed = await in_thread(self.tracker.store.delete_artifact_files, path)
        if not removed:
            raise NotFoundError(f"artifact {path!r} does not exist")
        return json_response({})
