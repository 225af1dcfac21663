"""The entrypoint of a model image: ``serve`` (the default) or ``predict`` its one model.

    docker run IMAGE                                    # serve /opt/shipyard/model
    docker run IMAGE serve --workers 2                  # with serve options
    docker run -v $PWD:/data IMAGE predict /data/in.parquet /data/out.parquet

The image's ``ENTRYPOINT`` is ``python -m shipyard.cli.container`` and its ``CMD`` ``serve``;
arguments after the image name replace the ``CMD``. Options alone (``docker run IMAGE --port
9000``) still go to ``serve``, as they did when the entrypoint was ``shipyard serve MODEL``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from shipyard.contract import MODEL_DIR

__all__ = ["container_argv", "main"]

_MODEL_COMMANDS = ("serve", "predict")


def container_argv(args: Sequence[str], model_dir: str = MODEL_DIR) -> list[str]:
    """The ``shipyard`` command line for the arguments given to the image."""
    args = list(args) or ["serve"]
    if args[0].startswith("-") and args[0] not in ("--help", "-h"):
        args = ["serve", *args]
    if args[0] in _MODEL_COMMANDS:
        return [args[0], model_dir, *args[1:]]
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = container_argv(sys.argv[1:] if argv is None else argv)
    if args == ["serve", MODEL_DIR]:  # the default: configured by SHIPYARD_SERVE_*, no Typer
        sys.exit(_serve_model_dir())
    from shipyard.cli.main import app

    app(args, prog_name="shipyard")


def _serve_model_dir() -> int:
    """``shipyard serve MODEL_DIR`` without the CLI's parser (about 0.1 s less to start)."""
    from shipyard.cli.exitcodes import exit_code_for
    from shipyard.cli.serving import start_serving
    from shipyard.errors import ShipyardError
    from shipyard.serve.config import ServeConfig

    try:
        start_serving(MODEL_DIR, ServeConfig.from_env(), say=_say)
    except ShipyardError as exc:
        _say(f"error: {exc}")
        return exit_code_for(exc)
    return 0


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
