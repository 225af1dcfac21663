"""Access keys of ``shipyard server``: made once, stored hashed, checked on every request.

    token = KeyFile(home / "server-keys.json").add("ci", read_only=False)[1]
    # the client: MLFLOW_TRACKING_TOKEN=<token>, or
    #             MLFLOW_TRACKING_USERNAME=ci MLFLOW_TRACKING_PASSWORD=<token>

A token is ``sy_<id>_<secret>``: the id finds the key, the secret is checked against its scrypt
hash (a salt of its own, compared in constant time), so a request costs at most one hash and a
verified token is remembered (by its SHA-256) until the file changes. The file is JSON, written
atomically with mode 0600, and holds no secret. ``KeyRing`` is what the server holds: it looks
at the file's mtime at most once a second, so keys added or removed apply without a restart.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from shipyard.errors import ConfigError, ConflictError, InvalidNameError, NotFoundError

__all__ = ["AccessKey", "KeyFile", "KeyRing", "KeyScope"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_TOKEN = re.compile(r"sy_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_CACHE_LIMIT = 1024
_RECHECK_S = 1.0


class KeyScope(StrEnum):
    READ = "read"
    """Read-only: GET requests and the search endpoints."""
    WRITE = "write"
    """Read and write."""


def _digest(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)


@dataclass(frozen=True, slots=True)
class AccessKey:
    """One key, as stored: no secret, its salted scrypt hash."""

    name: str
    key_id: str
    scope: KeyScope
    salt: bytes
    digest: bytes
    created: str

    def matches(self, secret: str) -> bool:
        """True when ``secret`` is this key's (scrypt, then a constant-time compare)."""
        return hmac.compare_digest(_digest(secret, self.salt), self.digest)

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "id": self.key_id,
            "scope": self.scope.value,
            "salt": self.salt.hex(),
            "scrypt": self.digest.hex(),
            "created": self.created,
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> AccessKey:
        return cls(
            name=data["name"],
            key_id=data["id"],
            scope=KeyScope(data["scope"]),
            salt=bytes.fromhex(data["salt"]),
            digest=bytes.fromhex(data["scrypt"]),
            created=data["created"],
        )


@dataclass(frozen=True, slots=True)
class KeyFile:
    """The JSON file of a server's keys."""

    path: Path

    def load(self) -> tuple[AccessKey, ...]:
        """The keys; none when the file does not exist."""
        try:
            data = json.loads(self.path.read_text())
            return tuple(AccessKey.from_json(item) for item in data["keys"])
        except FileNotFoundError:
            return ()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"cannot read the server keys in {self.path}: {exc}; fix or remove the file"
            ) from exc

    def add(self, name: str, *, read_only: bool = False) -> tuple[AccessKey, str]:
        """A new key named ``name`` and its token (shown once: only its hash is kept)."""
        if not _NAME.fullmatch(name):
            raise InvalidNameError(
                f"key name {name!r} is not valid: use up to 64 letters, digits, '_', '.', '-'"
            )
        keys = self.load()
        if any(key.name == name for key in keys):
            raise ConflictError(f"a key named {name!r} exists: remove it first or pick another")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        key = AccessKey(
            name=name,
            key_id=key_id,
            scope=KeyScope.READ if read_only else KeyScope.WRITE,
            salt=salt,
            digest=_digest(secret, salt),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self._write((*keys, key))
        return key, f"sy_{key_id}_{secret}"

    def remove(self, name: str) -> AccessKey:
        """Remove key ``name``; servers refuse its token within a second."""
        keys = self.load()
        found = [key for key in keys if key.name == name]
        if not found:
            raise NotFoundError(
                f"no key named {name!r}: list them with `shipyard server keys list`"
            )
        self._write(tuple(key for key in keys if key.name != name))
        return found[0]

    def _write(self, keys: tuple[AccessKey, ...]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"keys": [key.to_json() for key in keys]}, indent=2)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".server-keys-")
        try:
            with os.fdopen(fd, "w") as handle:  # mkstemp's file is 0600
                handle.write(text + "\n")
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


class KeyRing:
    """The keys a running server checks tokens against, following the file as it changes."""

    def __init__(self, keys_file: KeyFile) -> None:
        self.keys_file = keys_file
        self._stamp: tuple[int, int] | None = None
        self._checked = -_RECHECK_S
        self._by_id: dict[str, AccessKey] = {}
        self._verified: dict[bytes, AccessKey] = {}
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Reload the keys if the file changed (looked at once a second at most)."""
        now = time.monotonic()
        if now - self._checked < _RECHECK_S:
            return
        self._checked = now
        try:
            info = self.keys_file.path.stat()
            stamp: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return
        keys = self.keys_file.load()
        with self._lock:
            self._by_id = {key.key_id: key for key in keys}
            self._verified = {}
            self._stamp = stamp

    @property
    def is_enabled(self) -> bool:
        """True when at least one key exists: every request must then carry one."""
        self.refresh()
        return bool(self._by_id)

    def cached(self, token: str) -> AccessKey | None:
        """The key of a token verified before (no hashing), or None."""
        return self._verified.get(hashlib.sha256(token.encode()).digest())

    def verify(self, token: str) -> AccessKey | None:
        """The key ``token`` belongs to, or None; at most one scrypt (run it off the loop)."""
        found = _TOKEN.fullmatch(token)
        key = self._by_id.get(found.group(1)) if found else None
        if found is None or key is None or not key.matches(found.group(2)):
            return None
        with self._lock:
            if self._by_id.get(key.key_id) is key and len(self._verified) < _CACHE_LIMIT:
                self._verified[hashlib.sha256(token.encode()).digest()] = key
        return key
