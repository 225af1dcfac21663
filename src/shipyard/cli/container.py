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
    from shipyard.cli.main import app

    app(container_argv(sys.argv[1:] if argv is None else argv), prog_name="shipyard")


if __name__ == "__main__":
    main()
