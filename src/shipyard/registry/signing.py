"""Signed versions: ed25519 signatures over a version's name and digest, and the trust policy.

A signature says "the key holder vouches for model NAME with content digest D". The digest covers
every file of the version (the manifest included), so one signature covers all of it; the number
is left out because an import may renumber a version. Signatures are version tags
(``shipyard.signature.<key id>``, value ``ed25519:<base64>``), so they travel with the version
into export archives, model folders and images, and a signature can be revoked by removing its
tag. A forged tag is harmless: it verifies under no key.

Under a trust policy (``SHIPYARD_TRUSTED_KEYS``: public key files or folders of ``*.pub``)
``check`` refuses, with ``TrustError``, a version that no trusted key signed; import, load_model,
serve, build and the image's self-check call it. Without a policy it passes everything.

    >>> private = generate_key(Path("team.key"))      # team.key (0600) and team.key.pub
    >>> key, value = signature_tag(version, private)
    >>> TrustPolicy.load([Path("team.key.pub")]).check(version)
    'c0ffee...'
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shipyard.config import Settings
from shipyard.errors import ConfigError, TrustError
from shipyard.registry.entities import ModelVersion

__all__ = [
    "SIGNATURE_TAG_PREFIX",
    "SignatureStatus",
    "TrustPolicy",
    "generate_key",
    "key_id",
    "load_private_key",
    "signature_statuses",
    "signature_tag",
]

SIGNATURE_TAG_PREFIX = "shipyard.signature."
_SCHEME = "ed25519:"
_PAYLOAD_TYPE = "shipyard.version/v1"


def key_id(public: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its raw bytes' sha256."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _payload(version: ModelVersion) -> bytes:
    return json.dumps(
        {"type": _PAYLOAD_TYPE, "name": version.name, "digest": version.digest},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def generate_key(path: Path) -> Ed25519PrivateKey:
    """A new key pair: the private key at ``path`` (PEM, mode 0600, never overwritten) and the
    public key at ``path.pub`` (one OpenSSH line, to hand out and list in the trust policy)."""
    public_path = path.with_name(path.name + ".pub")
    for existing in (path, public_path):
        if existing.exists():
            raise ConfigError(f"{existing} exists: choose another path, keys are never overwritten")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    line = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
        public_path.write_bytes(line + f" shipyard-{key_id(private.public_key())}\n".encode())
    except OSError as exc:
        raise ConfigError(f"cannot write the key pair at {path}: {exc.strerror or exc}") from exc
    return private


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The ed25519 private key in the PEM file at ``path``."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as exc:
        raise ConfigError(f"cannot read the signing key {path}: {exc.strerror or exc}") from exc
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an ed25519 key: make one with `shipyard models keygen`")
    return key


def _load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read trusted key {path}: {exc.strerror or exc}") from exc
    key: object
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
        else:
            key = serialization.load_ssh_public_key(data.strip().split(b"\n")[0])
    except (ValueError, TypeError, IndexError) as exc:
        raise ConfigError(f"{path} is not a public key (OpenSSH line or PEM): {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an ed25519 public key")
    return key


def signature_tag(version: ModelVersion, private: Ed25519PrivateKey) -> tuple[str, str]:
    """The tag (key, value) that records ``private``'s signature of ``version``."""
    signature = base64.b64encode(private.sign(_payload(version))).decode()
    return SIGNATURE_TAG_PREFIX + key_id(private.public_key()), _SCHEME + signature


def _signatures(version: ModelVersion) -> dict[str, str]:
    """Key id -> the tag's value, for every signature tag of ``version``."""
    return {
        key[len(SIGNATURE_TAG_PREFIX) :]: value
        for key, value in version.tags.items()
        if key.startswith(SIGNATURE_TAG_PREFIX)
    }


def _verifies(public: Ed25519PublicKey, version: ModelVersion, value: str) -> bool:
    if not value.startswith(_SCHEME):
        return False
    try:
        public.verify(base64.b64decode(value[len(_SCHEME) :], validate=True), _payload(version))
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class SignatureStatus:
    """One signature of a version: by which key, whether that key is trusted here, and (for a
    trusted key) whether the signature verifies."""

    key_id: str
    trusted: bool
    valid: bool | None  # None: the key is not in the policy, so it cannot be checked

    def to_dict(self) -> dict[str, object]:
        return {"key_id": self.key_id, "trusted": self.trusted, "valid": self.valid}


@dataclass(frozen=True)
class TrustPolicy:
    """The public keys a version must be signed by; none: signatures are not required."""

    keys: dict[str, Ed25519PublicKey]
    sources: tuple[Path, ...] = ()

    @classmethod
    def load(cls, paths: tuple[Path, ...] | list[Path]) -> TrustPolicy:
        """Read every ``*.pub`` file given, or found in a folder given."""
        files: list[Path] = []
        for path in paths:
            if path.is_dir():
                files += sorted(path.glob("*.pub"))
            elif path.exists():
                files.append(path)
            else:
                raise ConfigError(f"trusted key {path} does not exist (SHIPYARD_TRUSTED_KEYS)")
        if paths and not files:
            raise ConfigError(f"no *.pub key in {', '.join(map(str, paths))}")
        keys = {key_id(key): key for key in map(_load_public_key, files)}
        return cls(keys=keys, sources=tuple(files))

    @classmethod
    def from_settings(cls, settings: Settings) -> TrustPolicy:
        return cls.load(settings.trusted_keys)

    def public_lines(self) -> tuple[str, ...]:
        """Every trusted key as one OpenSSH line, in key id order."""
        return tuple(
            self.keys[kid]
            .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            .decode()
            for kid in sorted(self.keys)
        )

    @property
    def required(self) -> bool:
        return bool(self.keys)

    def statuses(self, version: ModelVersion) -> list[SignatureStatus]:
        found = []
        for kid, value in sorted(_signatures(version).items()):
            public = self.keys.get(kid)
            valid = None if public is None else _verifies(public, version, value)
            found.append(SignatureStatus(key_id=kid, trusted=public is not None, valid=valid))
        return found

    def check(self, version: ModelVersion) -> str | None:
        """The id of a trusted key that signed ``version``; None when no policy is set.

        Raises ``TrustError`` when a policy is set and no trusted key's signature verifies.
        """
        if not self.required:
            return None
        where = f"{version.name}:{version.version} (digest {version.digest[:12]}...)"
        statuses = self.statuses(version)
        for status in statuses:
            if status.valid:
                return status.key_id
        trusted = ", ".join(sorted(self.keys))
        if not statuses:
            raise TrustError(
                f"{where} is not signed, and SHIPYARD_TRUSTED_KEYS requires a signature by one "
                f"of {trusted}: sign it with `shipyard models sign {version.name}:"
                f"{version.version} --key KEY`"
            )
        if any(status.trusted for status in statuses):
            raise TrustError(
                f"{where}: the signature by trusted key "
                f"{next(s.key_id for s in statuses if s.trusted)} does not verify: the version "
                "or its signature was altered"
            )
        signers = ", ".join(status.key_id for status in statuses)
        raise TrustError(
            f"{where} is signed only by keys that are not trusted here ({signers}); trusted: "
            f"{trusted}"
        )


def signature_statuses(version: ModelVersion, settings: Settings) -> list[SignatureStatus]:
    """The signatures of ``version`` as the trust policy of ``settings`` sees them."""
    return TrustPolicy.from_settings(settings).statuses(version)
