"""The kubernetes executor: a thin driver that applies one Job per step, in dependency order,
through ``kubectl``, and watches each to completion. No operator is needed.

It renders the same manifests as ``shipyard pipeline export --to kubernetes`` (see
``pipelines/export.py``), applies the ConfigMaps, then each Job once every Job it reads from has
succeeded; a failed Job stops its dependents. The step images must already be in a registry the
cluster pulls from (``--image-registry``; the docker executor builds them). The cache is not
consulted on a cluster: every step runs.

Not tested here: no cluster is reachable from this machine. The manifests it applies are
validated offline against the Kubernetes schemas in the test suite.

    >>> driver = KubernetesDriver.connect()
    >>> driver.run(documents, namespace="ml", on_status=print)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from shipyard.errors import ConfigError

__all__ = ["KubernetesDriver"]

_POLL_S = 2.0


class KubernetesDriver:
    """``kubectl`` against the current context."""

    def __init__(self, kubectl: str) -> None:
        self.kubectl = kubectl

    @classmethod
    def connect(cls) -> KubernetesDriver:
        """Find kubectl and check a cluster answers (fails fast, before anything runs)."""
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            raise ConfigError("kubectl is not installed: install it, or use --executor docker")
        result = subprocess.run(  # noqa: S603 - argv list
            [kubectl, "version", "--request-timeout=5s", "-o", "json"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or "serverVersion" not in result.stdout:
            detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no answer"]
            raise ConfigError(
                f"no Kubernetes cluster reachable through kubectl ({detail[0]}): set the "
                "kubectl context, or export the manifests with `shipyard pipeline export`"
            )
        return cls(kubectl)

    def _kubectl(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(  # noqa: S603 - argv list
            [self.kubectl, *args], input=stdin, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise ConfigError(f"kubectl {' '.join(args[:2])} failed: {result.stderr.strip()}")
        return result.stdout

    def apply(self, documents: Sequence[dict[str, Any]]) -> None:
        import yaml

        with tempfile.TemporaryDirectory(prefix="shipyard-k8s-") as tmp:
            path = Path(tmp) / "manifests.yaml"
            path.write_text(yaml.safe_dump_all(list(documents), sort_keys=False))
            self._kubectl("apply", "-f", str(path))

    def job_state(self, name: str, namespace: str) -> str:
        """``running``, ``succeeded`` or ``failed``."""
        status = json.loads(self._kubectl("get", "job", name, "-n", namespace, "-o", "json"))
        for condition in status.get("status", {}).get("conditions") or ():
            if condition.get("status") == "True" and condition.get("type") == "Complete":
                return "succeeded"
            if condition.get("status") == "True" and condition.get("type") == "Failed":
                return "failed"
        return "running"

    def run(
        self,
        documents: Sequence[dict[str, Any]],
        *,
        namespace: str,
        on_status: Callable[[str, str], None],
    ) -> dict[str, str]:
        """Apply the ConfigMaps, then each Job after those it reads from; node -> state."""
        self.apply([d for d in documents if d["kind"] != "Job"])
        jobs = [d for d in documents if d["kind"] == "Job"]
        states: dict[str, str] = {}
        for job in jobs:  # already in dependency order
            meta = job["metadata"]
            node = meta["labels"]["shipyard.io/step"]
            after = [a for a in meta["annotations"]["shipyard.io/after"].split(",") if a]
            if any(states.get(a.replace("_", "-")) != "succeeded" for a in after):
                states[node] = "skipped"
                on_status(node, "skipped")
                continue
            self.apply([job])
            on_status(node, "running")
            while (state := self.job_state(meta["name"], namespace)) == "running":
                time.sleep(_POLL_S)
            states[node] = state
            on_status(node, state)
        return states
