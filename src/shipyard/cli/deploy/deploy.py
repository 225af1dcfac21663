"""``shipyard deploy``: a model version (or an image) becomes a scaled service.

shipyard deploy cancer@production --target docker --replicas 3 --port 8080
shipyard deploy cancer:2 --target swarm --dry-run -o ./stack      # render and validate only
shipyard deploy cancer:2 --target kubernetes --namespace models     # kubectl apply --server-side
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.deploy.options import JsonOption, WaitOption
from shipyard.cli.deploy.session import connected, progress_line, with_image
from shipyard.cli.deploy.show import print_rendered, print_status
from shipyard.cli.output import handle_errors
from shipyard.config import Settings

__all__ = ["deploy"]


@handle_errors
def deploy(
    ref: Annotated[str, typer.Argument(help="NAME:VERSION, NAME@ALIAS or an image.")],
    target: Annotated[str, typer.Option(help="docker, swarm or kubernetes.")] = "docker",
    name: Annotated[str | None, typer.Option(help="Deployment name (default: model).")] = None,
    replicas: Annotated[int, typer.Option(help="How many copies of the server.")] = 1,
    cpu: Annotated[str | None, typer.Option(help="CPU limit per replica: 0.5, 2, 500m.")] = None,
    memory: Annotated[str | None, typer.Option(help="Memory limit per replica: 512Mi, 1g.")] = None,
    port: Annotated[int, typer.Option(help="Published port on 127.0.0.1 (0: any free).")] = 8080,
    env: Annotated[list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE")] = None,
    api_key_secret: Annotated[
        str | None, typer.Option(help="File of API keys (docker/swarm) or Secret name (k8s).")
    ] = None,
    prediction_log: Annotated[
        str | None, typer.Option(help="Host folder or volume for the prediction logs.")
    ] = None,
    namespace: Annotated[str, typer.Option(help="Kubernetes namespace.")] = "default",
    context: Annotated[
        str | None, typer.Option(help="Kubernetes: kubeconfig context (default: the current).")
    ] = None,
    autoscale: Annotated[
        str | None, typer.Option(help="MIN:MAX or MIN:MAX@CPU% (k8s HPA).")
    ] = None,
    lb_image: Annotated[
        str | None, typer.Option(help="nginx image for the balancer (SHIPYARD_DEPLOY_LB_IMAGE).")
    ] = None,
    base_image: Annotated[
        str | None, typer.Option(help="Base image when the model's image must be built first.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Render and validate only.")] = False,
    follow_alias: Annotated[
        bool,
        typer.Option(
            "--follow-alias", help="Roll to the version NAME@ALIAS names when it moves (watch)."
        ),
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the manifests to a new folder.")
    ] = None,
    wait: WaitOption = True,
    as_json: JsonOption = False,
) -> None:
    """Deploy a model version (or an image) with N replicas behind a load balancer.

    Kubernetes: kubectl apply --server-side of the rendered manifests (KUBECONFIG or --context
    picks the cluster), then kubectl rollout status; a failed rollout is undone."""
    from shipyard.deploy.follow import followed_ref
    from shipyard.deploy.images import resolve_image
    from shipyard.deploy.service import Deployments, write_manifests
    from shipyard.deploy.spec import DeployOptions, spec_from_options
    from shipyard.deploy.targets import target_class
    from shipyard.errors import NotFoundError

    settings = Settings.from_env()
    follows = str(followed_ref(ref)) if follow_alias else None
    source = resolve_image(ref, settings)
    if follows is not None and source.model is None:
        raise NotFoundError(f"--follow-alias: {ref} names no registered version to start from")
    options = DeployOptions(
        target=target,
        name=name,
        replicas=replicas,
        cpu=cpu,
        memory=memory,
        port=port,
        env=tuple(env or ()),
        api_key_secret=api_key_secret,
        prediction_log=prediction_log,
        namespace=namespace,
        context=context,
        autoscale=autoscale,
        lb_image=lb_image,
    )
    spec = spec_from_options(
        options,
        image=source.image,
        model=source.model,
        workdir=Path.cwd(),
        default_lb_image=settings.deploy_lb_image,
    )
    files = target_class(spec.target).render(spec)
    if dry_run:
        if output is not None:
            write_manifests(files, output)
        print_rendered(spec, files, output, as_json=as_json)
        return
    with connected(spec) as connected_target:
        if output is not None:
            write_manifests(files, output)
        spec = with_image(connected_target, source, spec, settings, base_image, as_json=as_json)
        with Deployments.open(settings) as deployments, progress_line(enabled=not as_json) as step:
            revision, status = deployments.deploy(
                spec, connected_target, progress=step, wait=wait, follow_alias=follows
            )
    print_status(status, revision, as_json=as_json, waited=wait)
