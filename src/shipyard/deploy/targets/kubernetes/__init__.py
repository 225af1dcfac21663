"""Kubernetes: pure manifests (``render.py``, ``canary.py``) and the ``kubectl`` edge that applies
them (``kubectl.py``, used by ``target.py``)."""
