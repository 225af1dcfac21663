"""The registry: named, numbered, immutable model versions with movable aliases.

Metadata lives in a database (SQLite by default, PostgreSQL for a team) and file contents in an
artifact store (a local folder by default, S3 for a team); configuration alone picks them.

    >>> with Registry.from_settings(Settings.from_env()) as registry:
    ...     version = registry.publish("iris", folder, manifest)
    ...     registry.set_alias("iris", "production", version.version)
    ...     registry.set_tags("iris:1", {"reviewed": "yes"})
    ...     folder = registry.fetch("iris@production")
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from shipyard.config import ImportLimits, Settings
from shipyard.errors import ConfigError, IntegrityError, NotFoundError, PackagingError
from shipyard.models.manifest import MANIFEST_FILE, ModelManifest
from shipyard.refs import ModelRef, validate_alias, validate_name
from shipyard.registry.archive import extract_archive, write_archive
from shipyard.registry.artifacts import ArtifactStore, open_artifact_store
from shipyard.registry.cache import materialize
from shipyard.registry.digest import hash_tree, version_digest
from shipyard.registry.entities import AliasEvent, ArtifactFile, ModelSummary, ModelVersion
from shipyard.registry.folder import DESCRIPTOR_FILE
from shipyard.registry.metadata import MetadataStore, NewVersion
from shipyard.registry.resolve import ModelState, resolve, unknown_model
from shipyard.registry.scan import scan_folder
from shipyard.registry.trust import require_trusted

__all__ = ["Registry"]


class Registry:
    """Publish, look up, alias, tag, fetch, delete, export and import model versions."""

    def __init__(
        self,
        metadata: MetadataStore,
        artifacts: ArtifactStore,
        *,
        home: Path,
        user: str,
        import_limits: ImportLimits | None = None,
        trusted_keys: tuple[Path, ...] = (),
    ):
        self.metadata = metadata
        self.artifacts = artifacts
        self.home = home
        self.user = user
        self.import_limits = import_limits or ImportLimits()
        self.trusted_keys = trusted_keys

    @classmethod
    def from_settings(cls, settings: Settings) -> Registry:
        """Open the registry that ``settings`` (``SHIPYARD_*``) describes."""
        artifacts = open_artifact_store(settings.registry)
        metadata = MetadataStore.open(settings.registry.db_url)
        return cls(
            metadata,
            artifacts,
            home=settings.home,
            user=settings.user,
            import_limits=settings.import_limits,
            trusted_keys=settings.trusted_keys,
        )

    def acting_as(self, user: str) -> Registry:
        """This registry (same stores) with ``user`` recorded as the actor of its writes."""
        return Registry(
            self.metadata,
            self.artifacts,
            home=self.home,
            user=user,
            import_limits=self.import_limits,
            trusted_keys=self.trusted_keys,
        )

    def close(self) -> None:
        self.metadata.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- publishing ----------------------------------------------------------------------------

    def publish(
        self,
        name: str,
        folder: Path,
        manifest: ModelManifest,
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        """Register the packaged model in ``folder`` as the next version of ``name``.

        Blobs are uploaded first and the version row is inserted last, in one transaction: a
        version is visible only once it is complete.
        """
        validate_name(name)
        folder = Path(folder)
        if ModelManifest.read(folder).to_dict() != manifest.to_dict():
            raise PackagingError(f"{folder / MANIFEST_FILE} does not match the manifest given")
        files = hash_tree(folder, exclude={DESCRIPTOR_FILE})
        return self._publish(
            NewVersion(
                name=name,
                digest=version_digest(files),
                manifest=manifest,
                files=files,
                tags=_checked_tags(tags or {}),
                created_at=datetime.now(UTC),
                created_by=self.user,
            ),
            folder,
        )

    def _publish(self, new: NewVersion, folder: Path) -> ModelVersion:
        blobs = _unique_blobs(new.files)
        for artifact in blobs:
            self.artifacts.put(artifact.sha256, folder / artifact.path)
        number = self.metadata.add_version(new)
        for artifact in blobs:  # a concurrent delete may have removed a blob put() found stored
            if not self.artifacts.exists(artifact.sha256):
                self.artifacts.put(artifact.sha256, folder / artifact.path)
        return self.get(ModelRef(new.name, version=number))

    # -- lookups -------------------------------------------------------------------------------

    def get(self, ref: ModelRef | str) -> ModelVersion:
        """The version ``ref`` points at (``iris``, ``iris:3``, ``iris@production``)."""
        ref = ModelRef.parse(ref) if isinstance(ref, str) else ref
        number = resolve(ref, self._state(ref.name))
        found = self.metadata.versions(ref.name, [number])
        if not found:
            raise NotFoundError(f"{ref} was deleted meanwhile: {self._state(ref.name).describe()}")
        return found[0]

    def fetch(self, ref: ModelRef | str) -> Path:
        """A verified local model folder for ``ref``, cached under ``SHIPYARD_HOME/cache``."""
        return materialize(self.get(ref), self.artifacts, self.home / "cache")

    def list_models(self) -> list[ModelSummary]:
        return self.metadata.summaries()

    def list_versions(self, name: str) -> list[ModelVersion]:
        self._state(validate_name(name))
        return self.metadata.versions(name)

    def history(self, name: str) -> list[AliasEvent]:
        """Every alias move of ``name``, oldest first."""
        self._state(validate_name(name))
        return self.metadata.alias_events(name)

    def _state(self, name: str) -> ModelState:
        state = self.metadata.state(name)
        if state is None:
            raise unknown_model(name, self.metadata.model_names())
        return state

    # -- aliases -------------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> AliasEvent | None:
        """Point ``alias`` at ``version``; None when it already pointed there."""
        ModelRef(name, version=version, alias=None)
        validate_alias(alias)
        self._state(name)
        return self.metadata.set_alias(name, alias, version, self.user)

    def remove_alias(self, name: str, alias: str) -> AliasEvent:
        self._state(validate_name(name))
        return self.metadata.remove_alias(name, validate_alias(alias), self.user)

    def rollback(self, name: str, alias: str) -> AliasEvent:
        """Move ``alias`` back to the target it had before its last move."""
        self._state(validate_name(name))
        return self.metadata.rollback_alias(name, validate_alias(alias), self.user)

    # -- tags ----------------------------------------------------------------------------------

    def set_tags(self, ref: ModelRef | str, tags: Mapping[str, str]) -> ModelVersion:
        """Add or overwrite tags of the version ``ref`` points at; return it as it is now.

        The version's files and digest never change: tags are mutable metadata beside them.
        """
        version = self.get(ref)
        self.metadata.set_tags(version.name, version.version, _checked_tags(dict(tags)))
        return self.get(version.ref)

    def sign(self, ref: ModelRef | str, key: Path) -> ModelVersion:
        """Sign the version ``ref`` points at with the ed25519 private key in ``key`` (a
        signature tag, see ``registry/signing.py``); return the version as it is now."""
        from shipyard.registry.signing import load_private_key, signature_tag

        version = self.get(ref)
        tag, value = signature_tag(version, load_private_key(key))
        self.metadata.set_tags(version.name, version.version, {tag: value})
        return self.get(version.ref)

    def remove_tags(self, ref: ModelRef | str, keys: Sequence[str]) -> ModelVersion:
        """Remove tags (every key must exist) from the version ``ref`` points at."""
        version = self.get(ref)
        self.metadata.remove_tags(version.name, version.version, list(dict.fromkeys(keys)))
        return self.get(version.ref)

    # -- delete, export, import ----------------------------------------------------------------

    def delete(self, ref: ModelRef | str, force: bool = False) -> ModelVersion:
        """Delete a version; refused while an alias points at it unless ``force``."""
        version = self.get(ref)
        unreferenced = self.metadata.delete_version(
            version.name, version.version, self.user, force=force
        )
        self.delete_blobs(unreferenced)
        return version

    def delete_all(self, name: str, force: bool = False) -> list[ModelVersion]:
        """Delete every version of ``name`` at once, all or nothing; refused while an alias
        points at one of them unless ``force``. The name, its numbering and history stay."""
        versions = self.list_versions(validate_name(name))
        deleted, unreferenced = self.metadata.delete_all_versions(name, self.user, force=force)
        self.delete_blobs(unreferenced)
        return [v for v in versions if v.version in deleted]

    def delete_blobs(self, sha256s: list[str]) -> None:
        """Delete blobs that a delete left unreferenced, unless a publish has used them since."""
        for sha256 in sha256s:
            if not self.metadata.is_blob_referenced(sha256):
                self.artifacts.delete(sha256)

    def export(self, ref: ModelRef | str, path: Path, *, overwrite: bool = False) -> Path:
        """Write ``ref`` to one archive file (``.tar.gz``) at ``path``; an existing file is
        refused with ``ConflictError`` unless ``overwrite``."""
        return write_archive(self.fetch(ref), Path(path), overwrite=overwrite)

    @contextmanager
    def scratch_folder(self, prefix: str) -> Iterator[Path]:
        """A new empty folder under ``SHIPYARD_HOME/tmp``, removed when the block ends."""
        scratch = self.home / "tmp"
        try:
            scratch.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix=prefix, dir=scratch))
        except OSError as exc:
            raise ConfigError(
                f"cannot create a scratch folder in {scratch}: {exc}; set SHIPYARD_HOME to a "
                "writable folder"
            ) from exc
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def import_archive(self, path: Path) -> ModelVersion:
        """Register the version inside an export archive, its digest checked first.

        Its pickles are scanned (``registry/scan.py``) and, under a trust policy, it must carry
        a trusted signature, before anything is stored. The version keeps its number when that
        number was never used for the model here; otherwise it becomes the next version.
        Importing a version whose digest the model already has (the same archive twice, even at
        once) returns the existing one.
        """
        with self.scratch_folder("import-") as folder:
            version = extract_archive(Path(path), folder, self.import_limits)
            validate_name(version.name)
            require_trusted(version, self.trusted_keys)
            scan_folder(folder, what=f"archive {Path(path).name}")
            new = NewVersion(
                name=version.name,
                digest=version.digest,
                manifest=version.manifest,
                files=version.files,
                tags=_checked_tags(version.tags),
                created_at=version.created_at,
                created_by=version.created_by,
                number=version.version,
            )
            return self._publish(new, folder)


def _unique_blobs(files: tuple[ArtifactFile, ...]) -> list[ArtifactFile]:
    seen: dict[str, ArtifactFile] = {}
    for artifact in files:
        seen.setdefault(artifact.sha256, artifact)
    if not seen:
        raise PackagingError("the model folder is empty: nothing to publish")
    if not any(a.path == MANIFEST_FILE for a in files):
        raise IntegrityError(f"the model folder has no {MANIFEST_FILE}")
    return list(seen.values())


def _checked_tags(tags: dict[str, str]) -> dict[str, str]:
    if not isinstance(tags, Mapping):
        raise PackagingError(f"tags must be a dict of strings, e.g. {{'team': 'ml'}}; got {tags!r}")
    checked: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key or len(key) > 256:
            raise PackagingError(f"invalid tag key {key!r}: use a non-empty string of <= 256 chars")
        if not isinstance(value, str):
            raise PackagingError(f"tag {key!r} has value {value!r}: tag values are strings")
        checked[key] = value
    return checked
