"""The kubernetes executor: one Job per step, applied in dependency order through the core
``kubectl`` driver (``shipyard/kubectl.py``), each watched to completion. No operator is needed.

It renders the same manifests as ``shipyard pipeline export --to kubernetes`` (see
``pipelines/export.py``), applies the ConfigMaps, then each Job once every Job it reads from has
succeeded; a failed Job stops its dependents. The step images must already be in a registry the
cluster pulls from (``--image-registry``; the docker executor builds them). The cache is not
consulted on a cluster: every step runs.

No cluster can run on this project's machines: the manifests are validated offline against the
Kubernetes schemas, and every kubectl command is run for real against a closed port.

    >>> jobs = KubernetesJobs.connect(context=None, namespace="ml")
    >>> jobs.run(documents, on_status=print)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from shipyard.kubectl import Kubectl

__all__ = ["KubernetesJobs"]

_POLL_S = 2.0


class KubernetesJobs:
    """Runs a pipeline's rendered Jobs on one namespace of a cluster."""

    def __init__(self, kubectl: Kubectl) -> None:
        self.kubectl = kubectl

    @classmethod
    def connect(cls, *, context: str | None, namespace: str) -> KubernetesJobs:
        """Find kubectl and check a cluster answers (fails fast, before anything runs)."""
        kubectl = Kubectl.find(context=context, namespace=namespace)
        kubectl.server_version()
        return cls(kubectl)

    def run(
        self,
        documents: Sequence[dict[str, Any]],
        *,
        on_status: Callable[[str, str], None],
        poll_s: float = _POLL_S,
    ) -> dict[str, str]:
        """Apply the ConfigMaps, then each Job after those it reads from; node -> state."""
        self.kubectl.apply_documents([d for d in documents if d["kind"] != "Job"])
        states: dict[str, str] = {}
        for job in (d for d in documents if d["kind"] == "Job"):  # already in dependency order
            meta = job["metadata"]
            node = meta["labels"]["shipyard.io/step"]
            after = [a for a in meta["annotations"]["shipyard.io/after"].split(",") if a]
            if any(states.get(a.replace("_", "-")) != "succeeded" for a in after):
                states[node] = "skipped"
                on_status(node, "skipped")
                continue
            self.kubectl.apply_documents([job])
            on_status(node, "running")
            while (state := self.kubectl.job_state(meta["name"])) == "running":
                time.sleep(poll_s)
            states[node] = state
            on_status(node, state)
        return states
