"""Registry metadata: the registry's tables and the store that reads and writes them."""

from __future__ import annotations

from shipyard.registry.metadata.store import MetadataStore, NewVersion

__all__ = ["MetadataStore", "NewVersion"]
