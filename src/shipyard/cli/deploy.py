"""``shipyard deploy`` and ``shipyard deployments ...``: a built image becomes a scaled service.

shipyard deploy cancer@production --target docker --replicas 3 --port 8080
shipyard deploy cancer:2 --target swarm --dry-run -o ./stack      # render and validate only
shipyard deploy cancer:2 --target kubernetes --namespace models     # kubectl apply --server-side
shipyard deployments update cancer cancer:3                        # rolling update
shipyard deployments rollback cancer --to 1
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli import follow
from shipyard.cli.output import err_console, handle_errors, print_json, print_table, stdout
from shipyard.config import Settings

if TYPE_CHECKING:
    from shipyard.deploy.images import ImageSource
    from shipyard.deploy.service import Deployments
    from shipyard.deploy.spec import DeploymentSpec
    from shipyard.deploy.targets.base import DeploymentStatus, Progress, Target

__all__ = ["app", "register"]

app = typer.Typer(help="List, inspect, scale, update, roll back and remove deployments.")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
NameArg = Annotated[str, typer.Argument(help="The deployment's name.")]
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait",
        help="Wait until every replica is ready and roll back by itself when one is not; "
        "--no-wait returns once applied (no automatic rollback).",
    ),
]


def register(root: typer.Typer) -> None:
    """Add ``deploy`` and the ``deployments`` group to the root app."""
    root.command("deploy")(deploy)
    root.add_typer(app, name="deployments")
    follow.register(app)


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
    from shipyard.deploy.targets import connect_target, target_class
    from shipyard.errors import NotFoundError

    settings = Settings.from_env()
    follows = str(followed_ref(ref)) if follow_alias else None
    source = resolve_image(ref, settings)
    if follows is not None and source.model is None:
        raise NotFoundError(f"--follow-alias: {ref} names no registered version to start from")
    spec = _spec(
        source,
        target=target,
        name=name,
        replicas=replicas,
        cpu=cpu,
        memory=memory,
        port=port,
        env=env or [],
        api_key_secret=api_key_secret,
        prediction_log=prediction_log,
        namespace=namespace,
        autoscale=autoscale,
        lb_image=lb_image,
        context=context,
    )
    files = target_class(spec.target).render(spec)
    if dry_run:
        if output is not None:
            write_manifests(files, output)
        _print_rendered(spec, files, output, as_json=as_json)
        return
    with _target(connect_target(spec.target, spec=spec)) as connected:
        if output is not None:
            write_manifests(files, output)
        spec = _with_image(connected, source, spec, settings, base_image, as_json=as_json)
        with Deployments.open(settings) as deployments, _progress(not as_json) as progress:
            revision, status = deployments.deploy(
                spec, connected, progress=progress, wait=wait, follow_alias=follows
            )
    _print_status(status, revision, as_json=as_json, waited=wait)


@app.command("list")
@handle_errors
def list_deployments(as_json: JsonOption = False) -> None:
    """Every deployment, its target and live revision."""
    from shipyard.deploy.records import DeploymentRecords

    with DeploymentRecords.open(Settings.from_env()) as records:
        rows = [(d, records.live(d.name) if d.live_revision else None) for d in records.all()]
    if as_json:
        print_json(
            [
                {
                    "name": d.name,
                    "target": d.target,
                    "live_revision": d.live_revision,
                    "image": live.spec.image if live else None,
                    "replicas": live.spec.replicas if live else None,
                    "follows": d.follow_alias,
                }
                for d, live in rows
            ]
        )
        return
    print_table(
        None,
        ["name", "target", "revision", "image", "replicas", "follows"],
        [
            (
                d.name,
                d.target,
                d.live_revision,
                live.spec.image if live else "",
                live.spec.replicas if live else "",
                d.follow_alias or "",
            )
            for d, live in rows
        ],
    )


@app.command("status")
@handle_errors
def status(name: NameArg, as_json: JsonOption = False) -> None:
    """What runs for a deployment now: replicas, readiness, URL."""
    from shipyard.deploy.records import DeploymentRecords

    with DeploymentRecords.open(Settings.from_env()) as records:
        record = records.get(name)
    with _connect(name, Settings.from_env()) as connected:
        current = connected.status(name)
    if as_json:
        print_json(
            {**current.to_dict(), "revision": record.live_revision, "follows": record.follow_alias}
        )
        return
    _print_status(current, record.live_revision, as_json=False)
    if record.follow_alias:
        stdout.print(f"follows {record.follow_alias} (`shipyard deployments watch` rolls it)")


@app.command("history")
@handle_errors
def history(name: NameArg, as_json: JsonOption = False) -> None:
    """Every revision: model version, image, replicas, who, when, outcome."""
    from shipyard.deploy.records import DeploymentRecords

    with DeploymentRecords.open(Settings.from_env()) as records:
        revisions = records.history(name)
    if as_json:
        print_json([r.to_dict() for r in revisions])
        return
    print_table(
        f"deployment {name}",
        ["rev", "action", "model", "image", "replicas", "who", "when", "outcome"],
        [
            (
                d["revision"],
                d["action"],
                d["model"],
                d["image"],
                d["replicas"],
                d["created_by"],
                d["created_at"][:19],
                d["outcome"],
            )
            for d in (r.to_dict() for r in revisions)
        ],
    )


@app.command("scale")
@handle_errors
def scale(
    name: NameArg,
    replicas: Annotated[int, typer.Argument(help="The new number of replicas.")],
    wait: WaitOption = True,
    as_json: JsonOption = False,
) -> None:
    """Add or remove replicas (the balancer follows)."""
    _change(name, "scale", as_json=as_json, wait=wait, replicas=replicas)


@app.command("update")
@handle_errors
def update(
    name: NameArg,
    ref: Annotated[str, typer.Argument(help="The new NAME:VERSION, NAME@ALIAS or image.")],
    base_image: Annotated[
        str | None, typer.Option(help="Base image when the model's image must be built first.")
    ] = None,
    wait: WaitOption = True,
    as_json: JsonOption = False,
) -> None:
    """Roll a deployment to another model version or image, one replica at a time."""
    from shipyard.deploy.images import resolve_image
    from shipyard.deploy.records import DeploymentRecords
    from shipyard.deploy.service import Deployments
    from shipyard.deploy.targets import connect_target

    settings = Settings.from_env()
    source = resolve_image(ref, settings)
    with DeploymentRecords.open(settings) as records:
        live = records.live(name)
    with _target(connect_target(live.spec.target, spec=live.spec)) as connected:
        wanted = live.spec.with_changes(
            image=source.image,
            model_name=source.model.name if source.model else None,
            model_version=source.model.version if source.model else None,
        )
        wanted = _with_image(connected, source, wanted, settings, base_image, as_json=as_json)
        with Deployments.open(settings) as deployments, _progress(not as_json) as progress:
            revision, current = deployments.change(
                name, connected, action="update", progress=progress, spec=wanted, wait=wait
            )
    _print_status(current, revision, as_json=as_json, waited=wait)


@app.command("rollback")
@handle_errors
def rollback(
    name: NameArg,
    to: Annotated[int | None, typer.Option("--to", help="The revision to go back to.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Go back to an earlier revision (default: the one before the live image)."""
    from shipyard.deploy.service import Deployments

    settings = Settings.from_env()
    with _connect(name, settings) as connected:
        with Deployments.open(settings) as deployments, _progress(not as_json) as progress:
            revision, current = deployments.rollback(name, connected, to=to, progress=progress)
    _print_status(current, revision, as_json=as_json)


@app.command("canary")
@handle_errors
def canary(
    name: NameArg,
    ref: Annotated[str, typer.Argument(help="The canary's NAME:VERSION, NAME@ALIAS or image.")],
    weight: Annotated[int, typer.Option(help="Percent of the requests it gets (1-99).")] = 10,
    env: Annotated[list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE")] = None,
    analyse: Annotated[
        float, typer.Option(help="Seconds to compare it with stable; aborts it when worse.")
    ] = 0.0,
    max_error_rate_increase: Annotated[
        float, typer.Option(help="Abort when its error rate exceeds stable's by this much.")
    ] = 0.01,
    max_p99_ratio: Annotated[
        float, typer.Option(help="Abort when its p99 exceeds stable's by this factor.")
    ] = 1.5,
    gateway: Annotated[
        str | None,
        typer.Option(
            help="Kubernetes: the Gateway the HTTPRoute attaches to, NAME or NAME/NAMESPACE "
            "(default: the deployment's, else 'shipyard' in its namespace)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Kubernetes: render and validate only.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Kubernetes: write the manifests to a new folder."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Start a canary next to the stable replicas; with --analyse, abort it automatically when
    its error rate or p99 (from /metrics) is worse than stable's by the margins.

    Kubernetes: a Deployment NAME-canary and a Gateway API HTTPRoute splitting by --weight."""
    from shipyard.deploy.canary import CanaryPolicy
    from shipyard.deploy.images import resolve_image
    from shipyard.deploy.records import DeploymentRecords
    from shipyard.deploy.service import Deployments, write_manifests
    from shipyard.deploy.spec import parse_env
    from shipyard.deploy.targets import connect_target
    from shipyard.errors import ConfigError

    settings = Settings.from_env()
    source = resolve_image(ref, settings)
    with DeploymentRecords.open(settings) as records:
        live = records.live(name)
    changes: dict[str, Any] = {
        "image": source.image,
        "model_name": source.model.name if source.model else live.spec.model_name,
        "model_version": source.model.version if source.model else None,
    }
    if env:
        changes["env"] = tuple(sorted({**live.spec.environment, **parse_env(env)}.items()))
    if live.spec.target == "kubernetes":
        changes["gateway"] = gateway or live.spec.gateway
    elif gateway or dry_run or output:
        raise ConfigError("--gateway, --dry-run and -o are for kubernetes canaries")
    policy = CanaryPolicy(max_error_rate_increase, max_p99_ratio)
    files = None
    if live.spec.target == "kubernetes":
        from shipyard.deploy.targets.kubernetes.canary import render_canary_manifests

        wanted = live.spec.with_changes(**changes)
        files = render_canary_manifests(live.spec, wanted, weight=weight)
        if dry_run:
            if output is not None:
                write_manifests(files, output)
            _print_rendered(wanted, files, output, as_json=as_json)
            return
    with _target(connect_target(live.spec.target, spec=live.spec)) as connected:
        if analyse > 0 and not hasattr(connected, "replica_urls"):
            raise ConfigError(
                f"--analyse reads each replica's /metrics from this host, which {live.spec.target} "
                "does not allow: watch the canary with your metrics stack, then promote or abort"
            )
        if output is not None and files is not None:
            write_manifests(files, output)
        with Deployments.open(settings) as deployments, _progress(not as_json) as progress:
            revision, current = deployments.canary(
                name, connected, weight=weight, progress=progress, **changes
            )
            verdict = None
            if analyse > 0:
                verdict = deployments.watch_canary(
                    name, connected, seconds=analyse, policy=policy, progress=progress
                )
                current = connected.status(name)
    if as_json:
        print_json(
            {
                **current.to_dict(),
                "canary_revision": revision,
                "verdict": None
                if verdict is None
                else {"healthy": verdict.healthy, "reason": verdict.reason, **verdict.figures},
            }
        )
        return
    _print_status(current, revision, as_json=False)
    if verdict is not None:
        stdout.print(f"canary verdict: {verdict.reason}")


@app.command("promote")
@handle_errors
def promote(name: NameArg, as_json: JsonOption = False) -> None:
    """Roll every stable replica to the canary's version, then retire the canary."""
    with _deployment(name, as_json=as_json) as (connected, deployments, progress):
        revision, current = deployments.promote(name, connected, progress=progress)
    _print_status(current, revision, as_json=as_json)


@app.command("abort")
@handle_errors
def abort(name: NameArg, as_json: JsonOption = False) -> None:
    """Retire the canary; the stable replicas take every request again."""
    with _deployment(name, as_json=as_json) as (connected, deployments, progress):
        revision = deployments.abort(name, connected, reason="aborted by hand", progress=progress)
        current = connected.status(name)
    if as_json:
        print_json({**current.to_dict(), "aborted_revision": revision})
    else:
        stdout.print(f"aborted canary revision {revision}")


@app.command("rm")
@handle_errors
def remove(name: NameArg, as_json: JsonOption = False) -> None:
    """Remove a deployment: its replicas, balancer and network (the history is kept)."""
    from shipyard.deploy.service import Deployments

    settings = Settings.from_env()
    with _connect(name, settings) as connected, Deployments.open(settings) as d:
        removed = d.remove(name, connected)
    if as_json:
        print_json({"name": name, "removed": removed})
    else:
        stdout.print(f"removed {name}: {', '.join(removed) or 'nothing was running'}")


# -- helpers -------------------------------------------------------------------------------


def _change(name: str, action: str, *, as_json: bool, wait: bool = True, **changes: Any) -> None:
    from shipyard.deploy.service import Deployments

    settings = Settings.from_env()
    with _connect(name, settings) as connected:
        with Deployments.open(settings) as deployments, _progress(not as_json) as progress:
            revision, current = deployments.change(
                name, connected, action=action, progress=progress, wait=wait, **changes
            )
    _print_status(current, revision, as_json=as_json, waited=wait)


@contextmanager
def _connect(name: str, settings: Settings) -> Iterator[Target]:
    """The target deployment ``name`` runs on, connected as its latest revision says (for
    Kubernetes: that revision's kubeconfig context and namespace)."""
    from shipyard.deploy.records import DeploymentRecords
    from shipyard.deploy.targets import connect_target

    with DeploymentRecords.open(settings) as records:
        latest = records.history(name)[-1].spec
    with _target(connect_target(latest.target, spec=latest)) as connected:
        yield connected


@contextmanager
def _deployment(name: str, *, as_json: bool) -> Iterator[tuple[Target, Deployments, Progress]]:
    """The target ``name`` runs on (connected as its latest revision says), the deployments and
    a progress line."""
    from shipyard.deploy.service import Deployments

    settings = Settings.from_env()
    with (
        _connect(name, settings) as connected,
        Deployments.open(settings) as deployments,
        _progress(not as_json) as progress,
    ):
        yield connected, deployments, progress


def _spec(
    source: ImageSource, *, target: str, name: str | None, **options: object
) -> DeploymentSpec:
    from shipyard.deploy.probes import load_figures
    from shipyard.deploy.spec import (
        DEFAULT_LB_IMAGE,
        DeploymentSpec,
        parse_autoscale,
        parse_cpu,
        parse_env,
        parse_memory,
    )

    model = source.model
    load_seconds, rss = load_figures(model.tags) if model is not None else (None, None)
    cpu, memory, autoscale = options["cpu"], options["memory"], options["autoscale"]
    return DeploymentSpec(
        name=name or _default_name(source),
        image=source.image,
        target=target,  # type: ignore[arg-type]  # validated by DeploymentSpec
        replicas=int(options["replicas"]),  # type: ignore[call-overload]
        port=int(options["port"]),  # type: ignore[call-overload]
        cpu=None if cpu is None else parse_cpu(str(cpu)),
        memory_bytes=None if memory is None else parse_memory(str(memory)),
        env=tuple(sorted(parse_env(options["env"]).items())),  # type: ignore[arg-type]
        api_key_secret=_absolute(options["api_key_secret"], target),
        prediction_log=_absolute(options["prediction_log"], target),
        namespace=str(options["namespace"]),
        context=None if options["context"] is None else str(options["context"]),
        autoscale=None if autoscale is None else parse_autoscale(str(autoscale)),
        model_name=model.name if model else None,
        model_version=model.version if model else None,
        load_seconds=load_seconds,
        peak_rss_bytes=rss,
        lb_image=str(
            options["lb_image"] or os.environ.get("SHIPYARD_DEPLOY_LB_IMAGE") or DEFAULT_LB_IMAGE
        ),
    )


def _absolute(value: object, target: str) -> str | None:
    """Host paths become absolute (the engine needs them so); volume/secret names stay."""
    if value is None:
        return None
    text = str(value)
    if target != "kubernetes" and ("/" in text or text.startswith(".")):
        return str(Path(text).resolve())
    return text


def _default_name(source: ImageSource) -> str:
    if source.model is not None:
        base = source.model.name
    else:
        base = source.image.rpartition("/")[2].partition(":")[0].partition("@")[0]
    name = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")[:40].strip("-")
    return name if name and name[0].isalpha() else f"m-{name}"[:40].strip("-")


def _with_image(
    target: Target,
    source: ImageSource,
    spec: DeploymentSpec,
    settings: Settings,
    base_image: str | None,
    *,
    as_json: bool,
) -> DeploymentSpec:
    """Build the image first when a registry version has none yet (local engines only)."""
    engine = getattr(target, "engine", None)
    if engine is None:
        return spec
    from shipyard.cli.output import spinner
    from shipyard.deploy.images import ensure_image

    with spinner(f"checking image {source.image}", enabled=not as_json):
        image = ensure_image(
            engine,
            source,
            settings,
            base_image=base_image,
            cache_dir=settings.wheel_cache,
        )
    return spec.with_changes(image_digest=image.digest or image.id)


@contextmanager
def _target(target: Target) -> Iterator[Target]:
    try:
        yield target
    finally:
        close = getattr(target, "close", None)
        if close is not None:
            close()


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr whose text follows the steps (silent for --json)."""
    if not enabled:
        yield lambda _message: None
        return
    with err_console.status("deploying") as status:

        def step(message: str) -> None:
            status.update(message)
            err_console.print(f"  {message}", soft_wrap=True, highlight=False)

        yield step


def _print_status(
    status: DeploymentStatus, revision: int | None, *, as_json: bool, waited: bool = True
) -> None:
    if not waited:
        err_console.print(
            "applied without waiting for readiness (--no-wait): no automatic rollback; follow "
            f"it with `shipyard deployments status {status.name}`"
        )
    if as_json:
        print_json({**status.to_dict(), "revision": revision})
        return
    stdout.print(
        f"{status.name} (revision {revision}) on {status.target}: {status.ready_count}/"
        f"{len(status.replicas)} ready" + (f" at [bold]{status.url}[/]" if status.url else "")
    )
    print_table(
        None,
        ["replica", "revision", "image", "ready", "url"],
        [(r.name, r.revision, r.image, "yes" if r.ready else "no", r.url) for r in status.replicas],
    )


def _print_rendered(
    spec: DeploymentSpec, files: dict[str, str], output: Path | None, *, as_json: bool
) -> None:
    if as_json:
        print_json(
            {"spec": spec.to_dict(), "files": files, "output": str(output) if output else None}
        )
        return
    for name, text in files.items():
        stdout.print(f"[bold]# {name}[/]")
        stdout.out(text)
    if output is not None:
        stdout.print(f"wrote {len(files)} files to [bold]{output}[/]")
