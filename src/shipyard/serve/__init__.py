"""Serve a registered model over HTTP: Open Inference Protocol (V2) and a plain JSON API.

    from shipyard.serve import create_app
    app = create_app(loaded_model, ServeConfig(max_batch_size=64))   # any ASGI server runs it

``shipyard serve REF`` runs it under uvicorn; see ``docs/architecture/04-serve.md``. Names are
imported on first use (PEP 562), so ``shipyard.serve.config`` loads without the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.lazy import lazy_exports

if TYPE_CHECKING:
    from shipyard.serve.app import App, create_app
    from shipyard.serve.config import ServeConfig
    from shipyard.serve.sources import FolderSource, ModelSource, RegistrySource, StaticSource

_LAZY: dict[str, str] = {
    "App": "shipyard.serve.app",
    "FolderSource": "shipyard.serve.sources",
    "ModelSource": "shipyard.serve.sources",
    "RegistrySource": "shipyard.serve.sources",
    "ServeConfig": "shipyard.serve.config",
    "StaticSource": "shipyard.serve.sources",
    "create_app": "shipyard.serve.app",
}

__all__ = [
    "App",
    "FolderSource",
    "ModelSource",
    "RegistrySource",
    "ServeConfig",
    "StaticSource",
    "create_app",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
