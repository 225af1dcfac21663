"""Kubernetes: pure manifests (Deployment, Service, PDB, NetworkPolicy, HPA)."""
