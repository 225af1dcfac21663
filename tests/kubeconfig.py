"""A kubeconfig whose API server is a closed port on 127.0.0.1: kubectl runs for real and every
call it makes fails to connect (no cluster can run here, and none is faked)."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml

__all__ = ["unreachable_cluster_env"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable_cluster_env(folder: Path) -> dict[str, str]:
    """``KUBECONFIG`` (and kubectl's cache) in ``folder``, pointing at nothing."""
    kubeconfig = folder / "kubeconfig"
    cluster = {"server": f"https://127.0.0.1:{_closed_port()}", "insecure-skip-tls-verify": True}
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "nowhere", "cluster": cluster}],
                "users": [{"name": "tester", "user": {"token": "not-a-secret"}}],
                "contexts": [
                    {"name": "nowhere", "context": {"cluster": "nowhere", "user": "tester"}}
                ],
                "current-context": "nowhere",
            }
        )
    )
    return {"KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(folder / "kube-cache")}
