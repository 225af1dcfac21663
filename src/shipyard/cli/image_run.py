"""``shipyard run | stop``: one model container on this host (the docker target of deploy).

shipyard run cancer:1 --port 8080 --detach --name cancer   # on 127.0.0.1, waits until ready
shipyard stop cancer                                        # SIGTERM: the server drains
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.output import err_console, handle_errors, print_json, spinner, stdout
from shipyard.config import Settings
from shipyard.errors import ConfigError

if TYPE_CHECKING:
    from shipyard.deploy.targets.docker.container import RunningContainer
    from shipyard.docker_engine import DockerEngine

__all__ = ["run", "stop"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@handle_errors
def run(
    target: Annotated[str, typer.Argument(help="A model reference (built image) or an image.")],
    port: Annotated[int, typer.Option(help="Host port on 127.0.0.1 (0: any free).")] = 8080,
    host: Annotated[str, typer.Option(help="Host address to publish on.")] = "127.0.0.1",
    name: Annotated[str | None, typer.Option(help="Container name (for `shipyard stop`).")] = None,
    env: Annotated[list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE")] = None,
    volume: Annotated[
        list[str] | None, typer.Option("--volume", "-v", help="HOST_DIR:CONTAINER_DIR")
    ] = None,
    detach: Annotated[bool, typer.Option("--detach", "-d", help="Leave it running.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for /readyz.")] = 180.0,
    as_json: JsonOption = False,
) -> None:
    """Start a model image, wait until it is ready and print its URL.

    A model that fails to load is reported within seconds, with the end of the container's log."""
    from shipyard.deploy.images import resolve_image
    from shipyard.deploy.spec import parse_env, validate_deployment_name
    from shipyard.deploy.targets.docker.container import (
        RUN_LABEL,
        start_container,
        stop_container,
        wait_until_ready,
    )
    from shipyard.docker_engine import DockerEngine
    from shipyard.serve.ports import ensure_address_free

    if name is not None:
        validate_deployment_name(name)
    ensure_address_free(host, port)
    image = resolve_image(target, Settings.from_env()).image
    environment = parse_env(env or ())
    volumes = {}
    for item in volume or ():
        outside, sep, inside = item.rpartition(":")
        if not sep or not outside or not inside.startswith("/"):
            raise ConfigError(f"--volume {item!r} is not HOST_DIR:/CONTAINER_DIR")
        volumes[str(Path(outside).resolve())] = inside
    with DockerEngine.connect() as engine:
        running = start_container(
            engine,
            image,
            port=port,
            host=host,
            environment=environment,
            volumes=volumes,
            name=name,
            labels={RUN_LABEL: image},
        )
        try:
            with spinner(f"waiting for {image} to be ready", enabled=not as_json):
                seconds = wait_until_ready(engine, running, timeout=timeout)
        except BaseException:
            stop_container(engine, running, grace_seconds=5)
            raise
        if as_json:
            print_json({**running.to_dict(), "ready_after_s": round(seconds, 3)})
        else:
            stdout.print(f"{image} is ready after {seconds:.1f}s at [bold]{running.url}[/]")
            if detach:
                stdout.print(f"stop it with: shipyard stop {running.name}")
        if not detach:
            _follow_until_interrupted(engine, running)


@handle_errors
def stop(
    name: Annotated[str, typer.Argument(help="The container's name or id (see `shipyard run`).")],
    as_json: JsonOption = False,
) -> None:
    """Stop a container started by `shipyard run`: SIGTERM, the server drains, then remove it."""
    from shipyard.deploy.targets.docker.container import find_container, stop_container
    from shipyard.docker_engine import DockerEngine

    with DockerEngine.connect() as engine:
        ident = find_container(engine, name)
        with spinner(f"stopping {name} (draining)", enabled=not as_json):
            code = stop_container(engine, ident)
    if as_json:
        print_json({"name": name, "id": ident, "exit_code": code})
    else:
        stdout.print(f"stopped {name} (exit code {code})")


def _follow_until_interrupted(engine: DockerEngine, running: RunningContainer) -> None:
    """Stream the container's log until Ctrl-C or SIGTERM, then stop it (the server drains)."""
    from shipyard.deploy.targets.docker.container import stop_container

    container = engine.client.containers.get(running.id)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        for chunk in container.logs(stream=True, follow=True):
            err_console.out(chunk.decode(errors="replace"), end="")
    except KeyboardInterrupt:
        pass
    finally:
        stop_container(engine, running)
