"""The one error tree of Shipyard.

Every error a user can cause or meet is a ``ShipyardError``; its message says what was wrong and
how to fix it. Domain errors know nothing of HTTP status codes or exit codes: the edges (the CLI,
the HTTP server) map them.

    ShipyardError
    ├── ConfigError                 bad SHIPYARD_* setting or option
    ├── InvalidNameError            a model name, alias or reference that is not well formed
    ├── NotFoundError               unknown model, version or alias (names what exists)
    ├── ConflictError               the operation clashes with current state
    ├── IntegrityError              an artifact whose digest does not match: tampered or truncated
    ├── LimitExceededError          an input over a configured bound (archive size, entries, depth)
    ├── TrustError                  a version not signed by a trusted key, under a trust policy
    ├── UnsafeArtifactError         a pickle the scanner found dangerous (imports os, eval, ...)
    ├── PackagingError              a model that cannot be saved (unsupported, bad signature)
    ├── ModelLoadError              a saved model that cannot be loaded (missing extra, broken code)
    ├── InvalidInputError           a payload that does not match the model's signature
    ├── PredictionError             the model itself raised while predicting
    │   └── InputRejectedError      ... because its own input checks refused the input
    ├── StoreError                  the metadata database or artifact store failed
    ├── AddressInUseError           the host and port to listen on are taken
    ├── BuildError                  an image could not be built, run or pushed
    │   ├── DockerUnavailableError  no Docker engine could be reached
    │   └── SmokeTestError          a built image failed to load its model or reproduce its
    │                               golden sample
    ├── PipelineDefinitionError     a pipeline that cannot run: cycle, missing input, bad type
    ├── PipelineRunError            a pipeline ran and one of its steps failed
    └── DeployError                 a deployment could not be applied (nothing half-applied)
        ├── RolloutError            a new revision failed readiness and was rolled back
        └── ClusterUnavailableError no orchestrator (Swarm manager, Kubernetes API) reachable
"""

from __future__ import annotations

__all__ = [
    "AddressInUseError",
    "BuildError",
    "ClusterUnavailableError",
    "ConfigError",
    "ConflictError",
    "DeployError",
    "DockerUnavailableError",
    "InputRejectedError",
    "IntegrityError",
    "InvalidInputError",
    "InvalidNameError",
    "LimitExceededError",
    "ModelLoadError",
    "NotFoundError",
    "PackagingError",
    "PipelineDefinitionError",
    "PipelineRunError",
    "PredictionError",
    "RolloutError",
    "ShipyardError",
    "SmokeTestError",
    "StoreError",
    "TrustError",
    "UnsafeArtifactError",
]


class ShipyardError(Exception):
    """Base of every error Shipyard raises on purpose."""


class ConfigError(ShipyardError):
    """A setting or option has a value Shipyard cannot use."""


class InvalidNameError(ShipyardError, ValueError):
    """A model name, alias or reference is not well formed."""


class NotFoundError(ShipyardError, LookupError):
    """A model, version or alias does not exist."""


class ConflictError(ShipyardError):
    """The operation clashes with the current state of the registry."""


class IntegrityError(ShipyardError):
    """An artifact's content does not match its recorded digest."""


class LimitExceededError(ShipyardError):
    """An input is over a configured bound: an archive too big, too deep, with too many entries."""


class TrustError(ShipyardError):
    """Under a trust policy, a version is unsigned, signed by no trusted key, or its signature
    does not verify."""


class UnsafeArtifactError(ShipyardError):
    """A scanner found a dangerous construct (``os.system``, ``eval``...) in a model artifact."""


class PackagingError(ShipyardError):
    """A model cannot be packaged: unsupported object, bad signature or requirements."""


class ModelLoadError(ShipyardError):
    """A packaged model cannot be loaded."""


class InvalidInputError(ShipyardError, ValueError):
    """A request payload does not match the model's signature."""


class PredictionError(ShipyardError):
    """The model raised an exception while predicting."""


class InputRejectedError(PredictionError):
    """The model's own input checks refused an input that fits its signature."""


class StoreError(ShipyardError):
    """The metadata database or the artifact store failed."""


class AddressInUseError(ShipyardError):
    """The address a server should listen on is already taken by another process."""


class BuildError(ShipyardError):
    """A container image could not be built, run or pushed."""


class DockerUnavailableError(BuildError):
    """No Docker engine could be reached."""


class SmokeTestError(BuildError):
    """A built image could not load its model or did not reproduce its golden sample."""


class PipelineDefinitionError(ShipyardError, ValueError):
    """A pipeline cannot run as defined: a cycle, a missing input, mismatched types."""


class PipelineRunError(ShipyardError):
    """A pipeline ran and at least one step failed (its completed outputs are kept)."""


class DeployError(ShipyardError):
    """A deployment could not be applied, updated or removed."""


class RolloutError(DeployError):
    """A new revision did not become ready; the previous one was put back."""


class ClusterUnavailableError(DeployError):
    """No orchestrator could be reached: not a Swarm manager, or no Kubernetes API."""
