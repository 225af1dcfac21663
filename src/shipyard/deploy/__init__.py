"""Deploy: a built image becomes a running, scaled service (Docker, Swarm, Kubernetes)."""
