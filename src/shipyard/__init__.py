"""Shipyard: take a trained model from a laptop to a dependable production service."""

__version__ = "0.1.0"
