"""Registry metadata: SQLAlchemy tables, Alembic migrations and the store that uses them."""

from __future__ import annotations

from shipyard.registry.metadata.store import MetadataStore, NewVersion

__all__ = ["MetadataStore", "NewVersion"]
