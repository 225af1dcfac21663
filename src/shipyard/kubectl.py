"""Every call Shipyard makes to a Kubernetes cluster: plain ``kubectl`` (argv lists, no shell).

The one kubectl driver: the deploy target and the pipelines' Kubernetes executor both use it.
The edge is kept this thin on purpose, so what Shipyard does is what a person would type. For
``shipyard deploy REF --target kubernetes`` (manifests in a temporary folder ``DIR``)::

    kubectl version -o json --request-timeout=5s                   # a cluster answers
    kubectl apply --server-side --field-manager=shipyard --dry-run=server -k DIR   # check first
    kubectl apply --server-side --field-manager=shipyard --force-conflicts -k DIR
    kubectl rollout status deployment/NAME -n NS --timeout=<budget>s               # --wait
    kubectl rollout undo deployment/NAME -n NS                     # ... when it stalls or fails

``shipyard pipeline run FILE --executor kubernetes`` applies its ConfigMaps, then each Job::

    kubectl apply --server-side --field-manager=shipyard --force-conflicts -f FILE -n NS
    kubectl get job NAME -n NS -o json --request-timeout=30s        # until Complete or Failed

``status`` is ``kubectl get pods,services -l app.kubernetes.io/instance=NAME,...``; ``rm`` is
``kubectl delete`` of the same selector. Every command gets ``--context C`` when the deployment
names one; otherwise kubectl picks the cluster as it always does (``KUBECONFIG``,
``~/.kube/config``, its current context). ``--force-conflicts``: Shipyard is the one writer of
these objects (field manager ``shipyard``); after a ``rollout undo`` (field manager
``kubectl-rollout``) the next revision must take the pod template back.

    >>> kubectl = Kubectl.find(context=None, namespace="models")
    >>> kubectl.server_version()
    'v1.31.2'
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from shipyard.errors import ClusterUnavailableError, DeployError

__all__ = ["FIELD_MANAGER", "JobState", "Kubectl"]

JobState = Literal["running", "succeeded", "failed"]

FIELD_MANAGER = "shipyard"
_CONNECT_TIMEOUT = "5s"
_CALL_TIMEOUT_S = 120.0
_HOW_TO_CONNECT = (
    "point kubectl at a cluster (export KUBECONFIG=PATH, or pass --context NAME), or render "
    "the manifests without a cluster: `shipyard deploy REF --target kubernetes --dry-run -o DIR`"
)


class Kubectl:
    """``kubectl`` for one namespace, with the deployment's ``--context`` (if any)."""

    def __init__(self, binary: str, *, context: str | None, namespace: str) -> None:
        self.binary = binary
        self.context = context
        self.namespace = namespace

    @classmethod
    def find(cls, *, context: str | None, namespace: str) -> Kubectl:
        binary = shutil.which("kubectl")
        if binary is None:
            raise ClusterUnavailableError(
                f"kubectl is not installed: install it, then {_HOW_TO_CONNECT}"
            )
        return cls(binary, context=context, namespace=namespace)

    # -- the calls -------------------------------------------------------------------------

    def server_version(self) -> str:
        """The API server's version; ``ClusterUnavailableError`` when none answers in 5 s."""
        result = self._run(["version", "-o", "json", f"--request-timeout={_CONNECT_TIMEOUT}"])
        try:
            server = json.loads(result.stdout or "{}").get("serverVersion") or {}
        except json.JSONDecodeError:
            server = {}
        if result.returncode != 0 or not server:
            detail = _last_line(result.stderr) or "no answer"
            where = f" (context {self.context})" if self.context else ""
            raise ClusterUnavailableError(
                f"no Kubernetes API answers{where} (kubectl: {detail}); {_HOW_TO_CONNECT}"
            )
        return str(server.get("gitVersion") or "unknown")

    def apply(self, files: Mapping[str, str], *, dry_run: bool = False) -> list[str]:
        """Server-side apply of a kustomization folder; ``dry_run``: the server checks it all
        (schemas, admission, quotas) and changes nothing. Returns what kubectl names."""
        with tempfile.TemporaryDirectory(prefix="shipyard-k8s-") as tmp:
            for name, text in files.items():
                (Path(tmp) / name).write_text(text)
            argv = ["apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-k", tmp]
            argv += ["--dry-run=server"] if dry_run else ["--force-conflicts"]
            result = self._run([*argv, "-o", "name"], namespaced=True)
        if result.returncode != 0:
            what = "checking the manifests on the cluster" if dry_run else "applying"
            raise DeployError(f"kubectl apply failed while {what}: {_hint(result.stderr)}")
        return result.stdout.split()

    def apply_documents(self, documents: Sequence[Mapping[str, Any]]) -> list[str]:
        """Server-side apply of plain manifests (one YAML stream). Returns what kubectl names."""
        import yaml

        with tempfile.TemporaryDirectory(prefix="shipyard-k8s-") as tmp:
            path = Path(tmp) / "manifests.yaml"
            path.write_text(yaml.safe_dump_all([dict(d) for d in documents], sort_keys=False))
            argv = ["apply", "--server-side", f"--field-manager={FIELD_MANAGER}"]
            argv += ["--force-conflicts", "-f", str(path), "-o", "name"]
            result = self._run(argv, namespaced=True)
        if result.returncode != 0:
            raise DeployError(f"kubectl apply failed: {_hint(result.stderr)}")
        return result.stdout.split()

    def job_state(self, name: str) -> JobState:
        """Where a Job is: ``running`` until its ``Complete`` or ``Failed`` condition is true."""
        job = self.get_named("job", name)
        if job is None:
            raise DeployError(f"job {name} is not in namespace {self.namespace}: was it deleted?")
        for condition in job.get("status", {}).get("conditions") or ():
            if condition.get("status") == "True" and condition.get("type") == "Complete":
                return "succeeded"
            if condition.get("status") == "True" and condition.get("type") == "Failed":
                return "failed"
        return "running"

    def rollout_status(self, deployment: str, timeout_s: int) -> tuple[bool, str]:
        """Watch a rollout until every new pod is ready: ``(True, "")``, or ``(False, why)`` when
        it exceeds the Deployment's progress deadline or ``timeout_s``."""
        argv = ["rollout", "status", f"deployment/{deployment}", f"--timeout={timeout_s}s"]
        result = self._run(argv, namespaced=True, timeout=timeout_s + 30)
        if result.returncode == 0:
            return True, ""
        return False, _last_line(result.stderr) or _last_line(result.stdout) or "rollout failed"

    def rollout_undo(self, deployment: str) -> None:
        """Put the Deployment's previous pod template back (Kubernetes keeps its ReplicaSet)."""
        result = self._run(["rollout", "undo", f"deployment/{deployment}"], namespaced=True)
        if result.returncode != 0:
            raise DeployError(
                f"kubectl rollout undo deployment/{deployment} failed: {_hint(result.stderr)}"
            )

    def get(self, kinds: str, selector: str) -> list[dict[str, Any]]:
        """The objects of ``kinds`` (``pods,services``) matching a label selector."""
        argv = ["get", kinds, "-l", selector, "-o", "json", "--request-timeout=30s"]
        result = self._run(argv, namespaced=True)
        if result.returncode != 0:
            raise DeployError(f"kubectl get {kinds} failed: {_hint(result.stderr)}")
        items: list[dict[str, Any]] = json.loads(result.stdout or "{}").get("items") or []
        return items

    def get_named(self, kind: str, name: str) -> dict[str, Any] | None:
        """One object, or ``None`` when there is none of that name."""
        argv = ["get", kind, name, "--ignore-not-found", "-o", "json", "--request-timeout=30s"]
        result = self._run(argv, namespaced=True)
        if result.returncode != 0:
            raise DeployError(f"kubectl get {kind} {name} failed: {_hint(result.stderr)}")
        return json.loads(result.stdout) if result.stdout.strip() else None

    def delete(
        self, kinds: str, *, selector: str | None = None, names: tuple[str, ...] = ()
    ) -> list[str]:
        """Delete by selector or by name; a kind the cluster does not serve (no Gateway API
        CRDs) has nothing to delete. Returns what was deleted."""
        argv = ["delete", kinds, *names, "--ignore-not-found", "--wait=true", "-o", "name"]
        if selector is not None:
            argv += ["-l", selector]
        result = self._run(argv, namespaced=True)
        if result.returncode != 0:
            if "doesn't have a resource type" in result.stderr:
                return []
            raise DeployError(f"kubectl delete {kinds} failed: {_hint(result.stderr)}")
        return result.stdout.split()

    # -- running ---------------------------------------------------------------------------

    def _run(
        self, args: list[str], *, namespaced: bool = False, timeout: float = _CALL_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        argv = [self.binary, *args]
        if self.context is not None:
            argv += ["--context", self.context]
        if namespaced:
            argv += ["-n", self.namespace]
        try:
            return subprocess.run(  # noqa: S603 - argv list; names are validated DNS labels
                argv, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise DeployError(
                f"kubectl {' '.join(args[:2])} did not finish in {timeout:.0f}s: is the cluster "
                "overloaded or unreachable?"
            ) from None


def _last_line(text: str) -> str:
    """kubectl's message: its ``error:`` line when it printed one, else its last line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    return (errors or lines or [""])[-1]


def _hint(stderr: str) -> str:
    """kubectl's own message, with what to do for the usual causes."""
    message = _last_line(stderr) or "no message"
    if "HTTPRoute" in stderr and ("no matches for kind" in stderr or "ensure CRDs" in stderr):
        return (
            f"{message}: this cluster has no Gateway API; install its standard CRDs "
            "(gateway.networking.k8s.io) and a Gateway implementation for canaries"
        )
    if "namespaces" in stderr and "not found" in stderr:
        return f"{message}: create the namespace first (`kubectl create namespace NAME`)"
    return message
