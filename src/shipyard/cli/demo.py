"""``shipyard demo``: the quick start's main job on the embedded registry.

Trains a RandomForest on scikit-learn's breast_cancer dataset, registers it as
``breast-cancer`` with the ``production`` alias, then serves ``breast-cancer@production``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.output import handle_errors, print_json, spinner, stdout
from shipyard.config import Settings
from shipyard.errors import PackagingError
from shipyard.refs import validate_name
from shipyard.registry.entities import ModelVersion
from shipyard.registry.registry import Registry

__all__ = ["register", "train_and_register"]

DEMO_NAME = "breast-cancer"


def train_and_register(settings: Settings, name: str = DEMO_NAME) -> ModelVersion:
    """Train the demo classifier, save it and point ``production`` at the new version.

    Also writes ``$SHIPYARD_HOME/demo-request.json``: three rows to POST to ``/predict``.
    """
    from shipyard import save_model

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
    with spinner(f"Training and registering {name}", enabled=not as_json):
        version = train_and_register(settings, name)
    if as_json:
        print_json(version.to_dict())
    else:
        stdout.print(
            f"[green]Registered[/] {name}:{version.version} (digest {version.digest[:16]}…) "
            f"as {name}@production in {settings.home}"
        )
    if serve:
        _serve(f"{name}@production", port, demo_request_path(settings), as_json=as_json)


def _serve(ref: str, port: int, request: Path, *, as_json: bool) -> None:
    from shipyard.serve.config import ServeConfig
    from shipyard.serve.server import run

    config = ServeConfig.from_env(port=port)
    if not as_json:
        stdout.print(
            f"Serving {ref} on http://{config.host}:{config.port} (Ctrl-C stops it). Try:\n"
            f"  curl -s http://{config.host}:{config.port}/predict -d @{request}\n"
            f"  curl -s http://{config.host}:{config.port}/v2/models/{ref.split('@')[0]}\n"
            f"  shipyard models show {ref}"
        )
    run(ref, config)


def register(app: typer.Typer) -> None:
    """Add ``shipyard demo`` to the root app."""
    app.command(name="demo")(demo)
