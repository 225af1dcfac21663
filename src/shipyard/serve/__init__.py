"""Serve a registered model over HTTP: Open Inference Protocol (V2) and a plain JSON API.

    from shipyard.serve import create_app
    app = create_app(loaded_model, ServeConfig(max_batch_size=64))   # any ASGI server runs it

``shipyard serve REF`` runs it under uvicorn; see ``docs/architecture/03-serve.md``.
"""

from __future__ import annotations

from shipyard.serve.app import App, create_app
from shipyard.serve.config import ServeConfig
from shipyard.serve.sources import FolderSource, ModelSource, RegistrySource, StaticSource

__all__ = [
    "App",
    "FolderSource",
    "ModelSource",
    "RegistrySource",
    "ServeConfig",
    "StaticSource",
    "create_app",
]
