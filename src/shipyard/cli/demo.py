"""``shipyard demo``: the quick start's main job on the embedded registry.

Trains a RandomForest on scikit-learn's breast_cancer dataset, registers it as
``breast-cancer`` with the ``production`` alias, then serves ``breast-cancer@production``.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from shipyard.cli.output import handle_errors, print_json, spinner, stdout
from shipyard.config import Settings
from shipyard.errors import PackagingError
from shipyard.refs import validate_name

if TYPE_CHECKING:
    from shipyard.registry import ModelVersion
    from shipyard.serve.config import ServeConfig

__all__ = ["demo", "train_and_register", "try_it_lines"]

DEMO_NAME = "breast-cancer"


def train_and_register(settings: Settings, name: str = DEMO_NAME) -> ModelVersion:
    """Train the demo classifier, save it and point ``production`` at the new version.

    Also writes ``$SHIPYARD_HOME/demo-request.json``: three rows to POST to ``/predict``.
    """
    from shipyard import save_model
    from shipyard.registry import Registry

    try:
        from sklearn.datasets import load_breast_cancer
        from sklearn.ensemble import RandomForestClassifier
    except ImportError as exc:
        raise PackagingError(
            "the demo needs scikit-learn: pip install 'shipyard[sklearn]'"
        ) from exc
    frame = load_breast_cancer(as_frame=True).frame
    features = frame.drop(columns=["target"])
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(features, frame["target"])
    version = save_model(
        model,
        name,
        sample_input=features.head(5),
        reference_data=features,
        metadata={"dataset": "sklearn.datasets.load_breast_cancer", "n_estimators": 50},
        tags={"purpose": "demo"},
        settings=settings,
    )
    with Registry.from_settings(settings) as registry:
        registry.set_alias(name, "production", version.version)
        version = registry.get(version.ref)
    request = features.head(3).to_dict(orient="records")
    demo_request_path(settings).write_text(json.dumps(request, indent=1) + "\n")
    return version


def demo_request_path(settings: Settings) -> Path:
    """Where the demo writes a ready-to-send ``/predict`` body."""
    return settings.home / "demo-request.json"


def demo(
    serve: Annotated[bool, typer.Option(help="Serve the model after registering it.")] = True,
    port: Annotated[int, typer.Option(help="Port to serve on (127.0.0.1).")] = 8080,
    name: Annotated[str, typer.Option(help="Name to register the demo model under.")] = DEMO_NAME,
    as_json: Annotated[bool, typer.Option("--json", help="Print the version as JSON.")] = False,
) -> None:
    """Train a demo model, register it as NAME@production and serve it."""
    _run_demo(serve=serve, port=port, name=name, as_json=as_json)


@handle_errors
def _run_demo(*, serve: bool, port: int, name: str, as_json: bool) -> None:
    settings = Settings.from_env()
    validate_name(name)
    config = _serve_config(port) if serve else None  # a busy port fails before training
    with spinner(f"Training and registering {name}", enabled=not as_json):
        version = train_and_register(settings, name)
    if as_json:
        print_json(version.to_dict())
    else:
        stdout.print(
            f"[green]Registered[/] {name}:{version.version} (digest {version.digest[:16]}…) "
            f"as {name}@production in {escape(str(settings.home))}"
        )
    if config is not None:
        _serve(f"{name}@production", config, demo_request_path(settings), as_json=as_json)


def _serve_config(port: int) -> ServeConfig:
    from shipyard.serve.config import ServeConfig
    from shipyard.serve.ports import ensure_address_free

    config = ServeConfig.from_env(port=port)
    ensure_address_free(config.host, config.port)
    return config


def try_it_lines(ref: str, url: str, request: Path) -> list[str]:
    """The commands the demo suggests, each one line that pastes into a shell as is."""
    return [
        f"curl -s {url}/predict -H 'Content-Type: application/json' "
        f"-d @{shlex.quote(str(request))}",
        f"curl -s {url}/v2/models/{ref.split('@')[0]}",
        f"shipyard models show {ref}",
    ]


def _serve(ref: str, config: ServeConfig, request: Path, *, as_json: bool) -> None:
    from shipyard.serve.server import run

    url = f"http://{config.host}:{config.port}"
    if not as_json:
        # the console never breaks a line itself, so each command copies as one line
        stdout.print(f"Serving {ref} on {url} (Ctrl-C stops it). Try:")
        for line in try_it_lines(ref, url, request):
            stdout.print(f"  {line}", markup=False)
    run(ref, config)
