"""The trust check every consumer of a version makes before it loads one (import, load_model,
serve, build, the image's self-check): a no-op without ``SHIPYARD_TRUSTED_KEYS``, so the
signature code (and ``cryptography``) loads only where a policy is set.

    >>> require_trusted(version, settings.trusted_keys)  # TrustError if unsigned, under a policy
"""

from __future__ import annotations

from pathlib import Path

from shipyard.registry.entities import ModelVersion

__all__ = ["require_trusted", "trusted_key_lines"]


def require_trusted(version: ModelVersion, trusted_keys: tuple[Path, ...]) -> str | None:
    """The trusted key id that signed ``version``; None when no trust policy is set
    (``trusted_keys`` is ``Settings.trusted_keys``)."""
    if not trusted_keys:
        return None
    from shipyard.registry.signing import TrustPolicy

    return TrustPolicy.load(trusted_keys).check(version)


def trusted_key_lines(trusted_keys: tuple[Path, ...]) -> tuple[str, ...]:
    """The policy's public keys as OpenSSH lines (what an image bakes in); () without one."""
    if not trusted_keys:
        return ()
    from shipyard.registry.signing import TrustPolicy

    return TrustPolicy.load(trusted_keys).public_lines()
