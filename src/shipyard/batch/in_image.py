"""``--in-image``: run ``predict`` inside the model's own image, so the dependencies are the
image's, not the host's.

The input is mounted read-only at ``/data/in``; the container writes into a staging folder
``.<output name>.in-image/`` beside the output (mounted at ``/data/out``), and the finished output
is renamed into place on the host. The container has no network and runs as the caller's uid:gid,
so what it writes belongs to the caller; when the caller is root it runs as the image's own
non-root user instead and the files are handed back to root afterwards. An interrupted run keeps
its staging folder, which ``--resume`` continues.

    >>> result = predict_in_image(engine, "shipyard/churn:3", Path("in.parquet"),
    ...                           Path("out.parquet"), BatchOptions(keep=("id",)))
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker.errors

from shipyard import errors
from shipyard.batch.job import ProgressCallback
from shipyard.batch.location import Location
from shipyard.batch.options import BatchOptions, BatchResult
from shipyard.batch.reader import ChunkReader
from shipyard.batch.rejects import rejects_location
from shipyard.config import Settings
from shipyard.docker_engine import DockerEngine
from shipyard.errors import BuildError, ConfigError, ConflictError, InvalidInputError
from shipyard.image.labels import SHIPYARD
from shipyard.image.spec import default_tags
from shipyard.registry.folder import read_version_descriptor
from shipyard.registry.registry import Registry
from shipyard.serve.sources import is_model_folder

__all__ = ["container_command", "image_for", "predict_in_image"]

_IN, _OUT = "/data/in", "/data/out"
_POLL_S = 0.25


def image_for(engine: DockerEngine, model: str, image: str | None, settings: Settings) -> str:
    """The image to run: ``image``, else ``shipyard/NAME:VERSION``; it must hold ``model``."""
    path = Path(model).expanduser()
    if is_model_folder(path):
        version = read_version_descriptor(path)
    else:
        with Registry.from_settings(settings) as registry:
            version = registry.get(model)
    tag = image or default_tags(version)[0]
    labels = engine.inspect(tag).labels
    if labels.get(f"{SHIPYARD}.model.digest") != version.digest:
        raise ConflictError(
            f"{tag} does not hold {version.name} version {version.version} (digest "
            f"{labels.get(f'{SHIPYARD}.model.digest')} vs {version.digest}): build it with "
            f"`shipyard build {version.name}:{version.version}` or pass its --image"
        )
    return tag


def container_command(input_name: str, output_name: str, options: BatchOptions) -> list[str]:
    """The arguments after the image name: ``predict IN OUT`` and the options."""
    argv = ["predict", f"{_IN}/{input_name}", f"{_OUT}/{output_name}", "--json"]
    if options.batch_rows is not None:
        argv += ["--batch-rows", str(options.batch_rows)]
    argv += ["--on-error", options.on_error]
    argv += ["--threads", str(options.threads)]
    for flag, values in (("--columns", options.columns), ("--keep", options.keep)):
        if values:
            argv += [flag, ",".join(values)]
    for flag, value in (
        ("--format", options.output_format),
        ("--input-format", options.input_format),
    ):
        if value:
            argv += [flag, value]
    if options.resume:
        argv.append("--resume")
    return argv


def predict_in_image(
    engine: DockerEngine,
    image: str,
    input_path: Path,
    output_path: Path,
    options: BatchOptions,
    *,
    on_progress: ProgressCallback | None = None,
) -> BatchResult:
    """Score the local ``input_path`` into ``output_path`` with ``predict`` inside ``image``;
    ``on_progress`` follows the container's progress manifest."""
    if "://" in f"{input_path}{output_path}":
        raise ConfigError(
            "--in-image reads and writes local paths only (the container has no network)"
        )
    if options.prediction_log or options.rejects:
        raise ConfigError("--prediction-log and --rejects are not available with --in-image yet")
    source, output = input_path.expanduser().resolve(), output_path.expanduser().resolve()
    if not source.exists():
        raise InvalidInputError(f"input {source} does not exist")
    if output.exists() and not options.overwrite:
        raise ConflictError(f"{output} exists already: pass --overwrite to replace it")
    folder_output = str(output_path).endswith("/") or output.is_dir()
    mount_in, in_name = (source, "") if source.is_dir() else (source.parent, source.name)
    staging = output.parent / f".{output.name}.in-image"
    if staging.exists() and not options.resume:
        shutil.rmtree(staging)
    staging.mkdir(parents=True, exist_ok=True)
    user = _user(engine, image)
    if os.getuid() == 0:
        _check_readable(mount_in, source, user)
        _chown_tree(staging, *(int(p) for p in user.split(":")))
    out_name = output.name + ("/" if folder_output else "")
    command = container_command(in_name, out_name, options)
    try:
        watch = _Watcher(
            staging / f".{output.name}.partial" / "_progress.jsonl", source, on_progress
        )
        stdout = _run(engine, image, command, user, mount_in, staging, watch)
    finally:
        if os.getuid() == 0:
            _chown_tree(staging, 0, 0)
    result = _result(stdout)
    if on_progress is not None:
        on_progress(result.rows_read, 1.0)
    _move_into_place(staging / output.name, output)
    rejects = None
    if options.on_error == "skip":
        produced = Path(rejects_location(Location.parse(str(staging / output.name)), None).path)
        final = Path(rejects_location(Location.parse(str(output)), None).path)
        os.replace(produced, final)
        rejects = str(final)
    shutil.rmtree(staging, ignore_errors=True)
    return replace(result, input=str(input_path), output=str(output), rejects=rejects)


def _user(engine: DockerEngine, image: str) -> str:
    if os.getuid() != 0:
        return f"{os.getuid()}:{os.getgid()}"
    configured = str(engine.client.api.inspect_image(image)["Config"].get("User") or "")
    if not configured or configured.split(":")[0] in ("0", "root"):
        raise BuildError(f"{image} runs as root: build it with `shipyard build` (non-root)")
    return configured if ":" in configured else f"{configured}:{configured}"


def _run(
    engine: DockerEngine,
    image: str,
    command: list[str],
    user: str,
    mount_in: Path,
    staging: Path,
    watch: _Watcher,
) -> str:
    name = f"shipyard-predict-{uuid.uuid4().hex[:12]}"
    volumes = {
        str(mount_in): {"bind": _IN, "mode": "ro"},
        str(staging): {"bind": _OUT, "mode": "rw"},
    }
    try:
        container = engine.client.containers.run(
            image,
            command,
            detach=True,
            name=name,
            user=user,
            network_mode="none",
            volumes=volumes,
            healthcheck={"test": ["NONE"]},
        )
    except docker.errors.DockerException as exc:
        raise BuildError(f"could not start {image}: {exc}") from exc
    try:
        while True:
            container.reload()
            if container.status not in ("created", "running"):
                break
            watch.poll()
            time.sleep(_POLL_S)
        status = int(container.wait().get("StatusCode", -1))
        watch.poll()
        stdout = container.logs(stdout=True, stderr=False).decode(errors="replace")
        if status != 0:
            raise _error(stdout, status, container.logs(stdout=False, stderr=True))
        return str(stdout)
    finally:
        container.remove(force=True)


class _Watcher:
    """Reads the container's progress manifest and reports rows (and, for Parquet, the
    fraction of the input, whose row count the host reads from the footers)."""

    def __init__(self, manifest: Path, source: Path, report: ProgressCallback | None) -> None:
        self._manifest = manifest
        self._report = report
        self._total: int | None = None
        if report is not None:
            try:
                self._total = ChunkReader.open(Location.parse(str(source))).total_rows
            except errors.ShipyardError:
                self._total = None

    def poll(self) -> None:
        if self._report is None:
            return
        try:
            lines = self._manifest.read_bytes().split(b"\n")[1:]
        except OSError:
            return
        rows = 0
        for line in lines:
            try:
                rows += int(json.loads(line)["rows"])
            except (ValueError, KeyError):
                break
        self._report(rows, rows / self._total if self._total else None)


def _error(stdout: str, status: int, stderr: bytes) -> errors.ShipyardError:
    """The error the command in the container reported (its ``--json`` error document)."""
    try:
        payload = json.loads(stdout[stdout.index("{") :])
        detail = payload["error"]
        if isinstance(detail, dict):  # {"error": {"type", "message", "exit_code"}}
            kind_name, message = str(detail["type"]), str(detail["message"])
        else:
            kind_name, message = str(payload["type"]), str(detail)
        kind = getattr(errors, kind_name, None)
        if isinstance(kind, type) and issubclass(kind, errors.ShipyardError):
            return kind(f"in the image: {message}")
    except (ValueError, KeyError, TypeError):
        pass
    tail = stderr.decode(errors="replace").strip()[-2000:]
    return BuildError(f"predict exited with code {status} in the image:\n{tail}")


def _result(stdout: str) -> BatchResult:
    data: dict[str, Any] = json.loads(stdout[stdout.index("{") :])
    data.pop("rows_per_second", None)
    data["columns"] = tuple(data.get("columns") or ())
    return BatchResult(**data)


def _move_into_place(produced: Path, output: Path) -> None:
    if output.is_dir() and not output.is_symlink():
        shutil.rmtree(output)
    os.replace(produced, output)


def _check_readable(mount: Path, source: Path, user: str) -> None:
    """As root the container runs as the image's user, which reads the input as "others"."""
    paths = [mount, *([source] if source != mount else [])]
    for path in paths:
        needed = stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0)
        if path.stat().st_mode & needed != needed:
            raise ConfigError(
                f"the image runs as user {user}, which cannot read {path} (mode "
                f"{stat.filemode(path.stat().st_mode)}): make it readable (chmod o+rX) or run "
                "shipyard as a non-root user, whose uid the container then uses"
            )


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for path in root.rglob("*"):
        os.chown(path, uid, gid, follow_symlinks=False)
