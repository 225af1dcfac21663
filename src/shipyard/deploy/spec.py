"""``DeploymentSpec``: everything that decides what runs, as one frozen, validated value.

``spec_from_options`` builds it once from the command's options (and the model version's
tags); each target's pure render turns it into manifest text; the apply edge never invents a
setting of its own.

    >>> spec = DeploymentSpec(name="cancer", image="shipyard/cancer:1", replicas=3)
    >>> spec.target, spec.port, spec.memory_bytes
    ('docker', 8080, None)
    >>> spec_from_options(DeployOptions(memory="1g"), image="shipyard/cancer:1", model=None,
    ...                   workdir=Path.cwd()).name
    'cancer'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from shipyard.contract import CONTAINER_PORT, DRAIN_SECONDS
from shipyard.deploy.probes import load_figures
from shipyard.errors import ConfigError, InvalidNameError

if TYPE_CHECKING:
    from shipyard.registry.entities import ModelVersion

__all__ = [
    "DEFAULT_LB_IMAGE",
    "MAX_REPLICAS",
    "Autoscale",
    "DeployOptions",
    "DeploymentSpec",
    "TargetName",
    "default_deployment_name",
    "parse_autoscale",
    "parse_cpu",
    "parse_env",
    "parse_memory",
    "spec_from_options",
    "validate_deployment_name",
]

TargetName = Literal["docker", "swarm", "kubernetes"]
TARGET_NAMES: tuple[str, ...] = get_args(TargetName)
MAX_REPLICAS = 100
DEFAULT_LB_IMAGE = "nginx:1.27"
"""The official nginx image; ``SHIPYARD_DEPLOY_LB_IMAGE`` or ``--lb-image`` picks another."""

_NAME = re.compile(r"[a-z]([a-z0-9-]{0,38}[a-z0-9])?")
_GATEWAY = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(/[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?")
_CONTEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,252}")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MEMORY = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_IUNITS = {"ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}


def validate_deployment_name(name: str) -> str:
    """A DNS label of at most 40 characters, so every target can use it as is."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidNameError(
            f"invalid deployment name {name!r}: use 1-40 lowercase letters, digits and '-', "
            "starting with a letter and not ending with '-' (for example 'churn-prod')"
        )
    return name


def parse_memory(text: str) -> int:
    """``512m``, ``1g``, ``1Gi``, ``268435456`` -> bytes (docker's k/m/g are powers of 1024)."""
    match = _MEMORY.fullmatch(text.strip())
    if not match:
        raise ConfigError(f"--memory {text!r} is not a size: write e.g. 512Mi, 1Gi or 512m")
    number, unit = float(match.group(1)), (match.group(2) or "").lower().removesuffix("b")
    if len(unit) == 1 and unit in "kmgt":  # docker's convention: 512m is 512 MiB
        unit += "i"
    size = int(number * (_IUNITS.get(unit) or _UNITS[unit]))
    if size < 64 * 2**20:
        raise ConfigError(f"--memory {text!r} is below 64 MiB: a model server needs more")
    return size


def parse_cpu(text: str) -> float:
    """``0.5``, ``2`` or ``500m`` (millicores) -> cores."""
    value = text.strip()
    try:
        cores = float(value[:-1]) / 1000 if value.endswith("m") else float(value)
    except ValueError:
        raise ConfigError(
            f"--cpu {text!r} is not a number of cores: write e.g. 0.5, 2 or 500m"
        ) from None
    if not 0.01 <= cores <= 512:
        raise ConfigError(f"--cpu {text!r} is out of range: use 0.01 to 512 cores")
    return cores


def parse_env(items: Iterable[str]) -> dict[str, str]:
    """``["K=V", ...]`` -> a dict; a missing ``=`` or an invalid key is a ``ConfigError``."""
    env: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not _ENV_KEY.fullmatch(key):
            raise ConfigError(f"--env {item!r} is not KEY=VALUE with KEY like MY_SETTING")
        env[key] = value
    return env


@dataclass(frozen=True, slots=True)
class Autoscale:
    """Horizontal autoscaling between ``minimum`` and ``maximum`` replicas at a CPU target."""

    minimum: int
    maximum: int
    cpu_percent: int = 70

    def __post_init__(self) -> None:
        if not 1 <= self.minimum <= self.maximum <= MAX_REPLICAS:
            raise ConfigError(
                f"--autoscale {self.minimum}:{self.maximum} needs 1 <= MIN <= MAX <= {MAX_REPLICAS}"
            )
        if not 1 <= self.cpu_percent <= 100:
            raise ConfigError(f"--autoscale CPU target {self.cpu_percent}% is not 1-100")


def parse_autoscale(text: str) -> Autoscale:
    """``2:10`` or ``2:10@60`` -> ``Autoscale(2, 10, 60)``."""
    match = re.fullmatch(r"(\d+):(\d+)(?:@(\d+)%?)?", text.strip())
    if not match:
        raise ConfigError(f"--autoscale {text!r} is not MIN:MAX[@CPU%] (for example 2:10@70)")
    return Autoscale(int(match.group(1)), int(match.group(2)), int(match.group(3) or 70))


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    """What to deploy, where, and how big. Validated on construction."""

    name: str
    image: str
    target: TargetName = "docker"
    replicas: int = 1
    port: int = CONTAINER_PORT
    host: str = "127.0.0.1"
    cpu: float | None = None
    memory_bytes: int | None = None
    env: tuple[tuple[str, str], ...] = ()
    api_key_secret: str | None = None
    prediction_log: str | None = None
    namespace: str = "default"
    autoscale: Autoscale | None = None
    model_name: str | None = None
    model_version: int | None = None
    image_digest: str | None = None
    load_seconds: float | None = None
    peak_rss_bytes: int | None = None
    lb_image: str = DEFAULT_LB_IMAGE
    drain_seconds: int = DRAIN_SECONDS
    labels: tuple[tuple[str, str], ...] = field(default=())
    context: str | None = None
    """Kubernetes: the kubeconfig context (``None``: the current one, as kubectl picks it)."""
    gateway: str | None = None
    """Kubernetes canaries: the Gateway the ``HTTPRoute`` attaches to, ``NAME[/NAMESPACE]``."""

    def __post_init__(self) -> None:
        validate_deployment_name(self.name)
        if self.target not in TARGET_NAMES:
            raise ConfigError(
                f"unknown target {self.target!r}: use one of {', '.join(TARGET_NAMES)}"
            )
        if not self.image or any(ch.isspace() for ch in self.image):
            raise ConfigError(f"image {self.image!r} is not an image reference")
        if not 0 <= self.replicas <= MAX_REPLICAS:
            raise ConfigError(f"--replicas {self.replicas} is out of range: use 0-{MAX_REPLICAS}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port {self.port} is out of range: use 1-65535 (0: any free)")
        if self.namespace != "default":
            validate_deployment_name(self.namespace)
        for key, _ in self.env:
            if not _ENV_KEY.fullmatch(key):
                raise ConfigError(f"environment variable name {key!r} is not valid")
        if self.context is not None and not _CONTEXT.fullmatch(self.context):
            raise ConfigError(f"--context {self.context!r} is not a kubeconfig context name")
        if self.gateway is not None and not _GATEWAY.fullmatch(self.gateway):
            raise ConfigError(
                f"--gateway {self.gateway!r} is not NAME[/NAMESPACE] (for example 'public' or "
                "'public/infra'), in lowercase letters, digits and '-'"
            )
        if (self.context is not None or self.gateway is not None) and self.target != "kubernetes":
            raise ConfigError("--context and --gateway are for --target kubernetes only")

    @property
    def environment(self) -> dict[str, str]:
        return dict(self.env)

    def with_changes(self, **changes: Any) -> DeploymentSpec:
        """A copy with some fields replaced (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "image": self.image,
            "target": self.target,
            "replicas": self.replicas,
            "port": self.port,
            "host": self.host,
            "cpu": self.cpu,
            "memory_bytes": self.memory_bytes,
            "env": dict(self.env),
            "api_key_secret": self.api_key_secret,
            "prediction_log": self.prediction_log,
            "namespace": self.namespace,
            "autoscale": None
            if self.autoscale is None
            else [self.autoscale.minimum, self.autoscale.maximum, self.autoscale.cpu_percent],
            "model_name": self.model_name,
            "model_version": self.model_version,
            "image_digest": self.image_digest,
            "load_seconds": self.load_seconds,
            "peak_rss_bytes": self.peak_rss_bytes,
            "lb_image": self.lb_image,
            "context": self.context,
            "gateway": self.gateway,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeploymentSpec:
        """The inverse of ``to_dict`` (a stored revision back into a spec)."""
        autoscale = data.get("autoscale")
        return cls(
            name=data["name"],
            image=data["image"],
            target=data["target"],
            replicas=int(data["replicas"]),
            port=int(data["port"]),
            host=data.get("host", "127.0.0.1"),
            cpu=data.get("cpu"),
            memory_bytes=data.get("memory_bytes"),
            env=tuple(sorted((data.get("env") or {}).items())),
            api_key_secret=data.get("api_key_secret"),
            prediction_log=data.get("prediction_log"),
            namespace=data.get("namespace", "default"),
            autoscale=None if not autoscale else Autoscale(*autoscale),
            model_name=data.get("model_name"),
            model_version=data.get("model_version"),
            image_digest=data.get("image_digest"),
            load_seconds=data.get("load_seconds"),
            peak_rss_bytes=data.get("peak_rss_bytes"),
            lb_image=data.get("lb_image", DEFAULT_LB_IMAGE),
            context=data.get("context"),
            gateway=data.get("gateway"),
        )


@dataclass(frozen=True, slots=True)
class DeployOptions:
    """What ``shipyard deploy`` was given, as typed: sizes, limits and lists not parsed yet."""

    target: str = "docker"
    name: str | None = None
    replicas: int = 1
    cpu: str | None = None
    memory: str | None = None
    port: int = 8080
    env: tuple[str, ...] = ()
    api_key_secret: str | None = None
    prediction_log: str | None = None
    namespace: str = "default"
    context: str | None = None
    autoscale: str | None = None
    lb_image: str | None = None


def spec_from_options(
    options: DeployOptions,
    *,
    image: str,
    model: ModelVersion | None,
    workdir: Path,
    default_lb_image: str | None = None,
) -> DeploymentSpec:
    """The spec ``options`` ask for, running ``image`` (built for ``model``, when it came from
    the registry: its smoke-test tags size the probes). Host paths are made absolute against
    ``workdir``; ``default_lb_image`` (``SHIPYARD_DEPLOY_LB_IMAGE``) applies without
    ``--lb-image``."""
    load_seconds, rss = load_figures(model.tags) if model is not None else (None, None)
    target = options.target
    return DeploymentSpec(
        name=options.name or default_deployment_name(model.name if model else image),
        image=image,
        target=target,  # type: ignore[arg-type]  # validated by DeploymentSpec
        replicas=options.replicas,
        port=options.port,
        cpu=None if options.cpu is None else parse_cpu(options.cpu),
        memory_bytes=None if options.memory is None else parse_memory(options.memory),
        env=tuple(sorted(parse_env(options.env).items())),
        api_key_secret=_host_path(options.api_key_secret, target, workdir),
        prediction_log=_host_path(options.prediction_log, target, workdir),
        namespace=options.namespace,
        context=options.context,
        autoscale=None if options.autoscale is None else parse_autoscale(options.autoscale),
        model_name=model.name if model else None,
        model_version=model.version if model else None,
        load_seconds=load_seconds,
        peak_rss_bytes=rss,
        lb_image=options.lb_image or default_lb_image or DEFAULT_LB_IMAGE,
    )


def default_deployment_name(source: str) -> str:
    """A valid deployment name from a model name or an image reference.

    >>> default_deployment_name("registry.local/Team/Churn_Model:3")
    'churn-model'
    """
    base = source.rpartition("/")[2].partition(":")[0].partition("@")[0]
    name = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")[:40].strip("-")
    return name if name and name[0].isalpha() else f"m-{name}"[:40].strip("-")


def _host_path(value: str | None, target: str, workdir: Path) -> str | None:
    """Host paths become absolute (the engine needs them so); volume and secret names stay."""
    if value is None:
        return None
    if target != "kubernetes" and ("/" in value or value.startswith(".")):
        return str((workdir / value).resolve())
    return value
