"""The exit code of each ``ShipyardError``, for every command (kept free of Typer and Rich, so
a container's ``serve`` starts without them).

    exit 0    success
    exit 1    any other error (a model that fails to predict, an unexpected exception)
    exit 2    bad input: invalid name, option, payload or configuration; a usage error
    exit 3    not found: no such model, version, alias or image
    exit 4    conflict with current state: an alias points at it, the file exists
    exit 5    integrity: an artifact failed its digest check
    exit 6    no Docker engine reachable
    exit 7    the address to listen on is in use (pick another --port)
    exit 8    the model cannot be loaded (missing extra, broken custom code)
    exit 9    an image could not be built, run or pushed
    exit 10   the metadata database or artifact store failed
    exit 11   an image failed its smoke test (model load or golden sample)
    exit 12   a pipeline step failed (completed outputs kept; `--resume RUN` finishes the run)
    exit 13   a deployment failed to apply (nothing half-applied)
    exit 14   a rollout failed readiness and was rolled back
    exit 15   no orchestrator (Swarm manager, Kubernetes API) reachable
    exit 16   an input is over a configured limit (archive size, entries, depth, field length)
    exit 17   a version is not signed by a trusted key (under SHIPYARD_TRUSTED_KEYS)
    exit 18   a scanner found a dangerous pickle in an artifact

"""

from __future__ import annotations

from shipyard import errors

__all__ = ["EXIT_CODES", "exit_code_for"]

EXIT_CODES: tuple[tuple[type[errors.ShipyardError], int], ...] = (
    (errors.DockerUnavailableError, 6),
    (errors.ClusterUnavailableError, 15),
    (errors.RolloutError, 14),
    (errors.DeployError, 13),
    (errors.SmokeTestError, 11),
    (errors.PipelineRunError, 12),
    (errors.PipelineDefinitionError, 2),
    (errors.BuildError, 9),
    (errors.AddressInUseError, 7),
    (errors.ModelLoadError, 8),
    (errors.StoreError, 10),
    (errors.IntegrityError, 5),
    (errors.LimitExceededError, 16),
    (errors.TrustError, 17),
    (errors.UnsafeArtifactError, 18),
    (errors.ConflictError, 4),
    (errors.NotFoundError, 3),
    (errors.InvalidNameError, 2),
    (errors.InvalidInputError, 2),
    (errors.ConfigError, 2),
    (errors.PackagingError, 2),
)


def exit_code_for(exc: errors.ShipyardError) -> int:
    """The process exit code for a Shipyard error (the first matching row of ``EXIT_CODES``)."""
    for kind, code in EXIT_CODES:
        if isinstance(exc, kind):
            return code
    return 1
