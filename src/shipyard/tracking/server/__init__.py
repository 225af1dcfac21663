"""The tracking server: the MLflow tracking and artifacts REST APIs and Shipyard's run API."""

from shipyard.tracking.server.app import TrackingApp, create_app

__all__ = ["TrackingApp", "create_app"]
