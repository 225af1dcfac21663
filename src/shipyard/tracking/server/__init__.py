"""The tracking server: the MLflow tracking and artifacts REST APIs and Shipyard's run API."""

from shipyard.tracking.server.app import create_app

__all__ = ["create_app"]
