"""The ``mlflow-artifacts`` API: upload, download, list and delete run artifacts.

The ``mlflow`` client reaches it for runs whose ``artifact_uri`` is ``mlflow-artifacts:/...``:
``PUT``/``GET``/``DELETE /api/2.0/mlflow-artifacts/artifacts/<path>`` and
``GET /api/2.0/mlflow-artifacts/artifacts?path=<folder>`` (listing, children by name).
Uploads are streamed into a scratch file, hashed and stored as content-addressed blobs; one
larger than ``max_upload_bytes`` (``shipyard server --max-upload-mb``) is refused with 413, from
its Content-Length before anything is written or once a chunked body passes it. Downloads are
fetched into a scratch file and streamed from it (removed once sent).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from shipyard.errors import NotFoundError
from shipyard.tracking.artifacts import check_artifact_path
from shipyard.tracking.tracker import Tracker
from shipyard.web.bodies import stream_body
from shipyard.web.responses import JSONBody

__all__ = ["ARTIFACTS_PATH", "ArtifactsApi"]

ARTIFACTS_PATH = "/api/2.0/mlflow-artifacts/artifacts"
_RUN_PATH = re.compile(r"\d+/([0-9a-f]{32})/artifacts(?:/|$)")


class ArtifactsApi:
    """Artifact endpoints over one ``Tracker``; ``scratch`` holds uploads while they stream."""

    def __init__(self, tracker: Tracker, scratch: Path, max_upload_bytes: int) -> None:
        self.tracker = tracker
        self.scratch = scratch
        self.max_upload_bytes = max_upload_bytes

    def routes(self) -> list[Route]:
        item = ARTIFACTS_PATH + "/{path:path}"
        return [
            Route(ARTIFACTS_PATH, self.list_artifacts, methods=["GET"]),
            Route(item, self.upload, methods=["PUT"]),
            Route(item, self.download, methods=["GET"]),
            Route(item, self.delete, methods=["DELETE"]),
        ]

    async def list_artifacts(self, request: Request) -> Response:
        path = check_artifact_path(request.query_params.get("path", "").strip("/"))
        children = await run_in_threadpool(self.tracker.artifacts.list, path)
        files = []
        for name, is_dir, size in children:
            entry: dict[str, object] = {"path": name, "is_dir": is_dir}
            if size is not None:
                entry["file_size"] = size
            files.append(entry)
        return JSONBody({"files": files})

    async def upload(self, request: Request) -> Response:
        path = check_artifact_path(request.path_params["path"])
        found = _RUN_PATH.match(path)
        run_id = found.group(1) if found else None
        self.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.scratch, prefix="upload-") as handle:
            async for chunk in stream_body(request, self.max_upload_bytes):
                handle.write(chunk)
            handle.flush()
            await run_in_threadpool(
                self.tracker.artifacts.put_file, path, Path(handle.name), run_id
            )
        return JSONBody({})

    async def download(self, request: Request) -> Response:
        path = check_artifact_path(request.path_params["path"])
        self.scratch.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=self.scratch, prefix="download-", delete=False)
        handle.close()
        target = Path(handle.name)
        try:
            await run_in_threadpool(self.tracker.artifacts.fetch, path, target)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return FileResponse(
            target,
            media_type="application/octet-stream",
            background=BackgroundTask(target.unlink, missing_ok=True),
        )

    async def delete(self, request: Request) -> Response:
        path = check_artifact_path(request.path_params["path"])
        removed = await run_in_threadpool(self.tracker.store.delete_artifact_files, path)
        if not removed:
            raise NotFoundError(f"artifact {path!r} does not exist")
        return JSONBody({})
