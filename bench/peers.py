"""The peers' interpreters: one throwaway virtualenv per peer, with exact pins, made once per
``--venvs`` folder, so one command on a fresh machine reproduces each benchmark's table.

A virtualenv is made again when its ``.installed`` marker (the pins, one a line) does not match
the pins asked for. A peer that loads a model the host pickled gets the host's scikit-learn
(``host_pin``), so the model unpickles there.

    >>> python = peer_python("mlflow", mlflow_pins(), Path("/tmp/sybench"))
    >>> subprocess.run([str(python.parent / "mlflow"), "--version"], check=True)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

__all__ = [
    "EVIDENTLY_PINS",
    "KFP_PINS",
    "MLFLOW_VERSION",
    "add_venvs_option",
    "default_venvs",
    "host_pin",
    "mlflow_pins",
    "peer_python",
]

MLFLOW_VERSION = "3.17.2"
EVIDENTLY_PINS = ("evidently==0.7.23", "pandas==2.3.3")  # Evidently 0.7 needs pandas<3
KFP_PINS = ("kfp==2.17.3", "docker==7.2.0")  # kfp first; its DockerRunner needs the Docker SDK


def default_venvs() -> Path:
    """Where the peers' virtualenvs go unless ``--venvs`` says otherwise."""
    return Path(tempfile.gettempdir()) / "sybench"


def add_venvs_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--venvs",
        type=Path,
        default=default_venvs(),
        help="folder of the peers' throwaway virtualenvs, made on first use (default: %(default)s)",
    )


def host_pin(distribution: str) -> str:
    """``distribution==<the version installed here>``: for a peer that shares the host's
    pickles (scikit-learn models)."""
    return f"{distribution}=={version(distribution)}"


def mlflow_pins() -> tuple[str, ...]:
    """MLflow as the serve, batch and tracking benchmarks run it, with the host's scikit-learn."""
    return (f"mlflow=={MLFLOW_VERSION}", host_pin("scikit-learn"))


def peer_python(name: str, pins: tuple[str, ...], venvs: Path) -> Path:
    """The interpreter of ``venvs/venv-<name>``, made (or made again) with exactly ``pins``."""
    venv = venvs / f"venv-{name}"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    wanted = "\n".join(pins)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    print(f"[bench] installing {' '.join(pins)} into {venv}", file=sys.stderr, flush=True)
    venvs.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins],
        check=True,
    )
    marker.write_text(wanted)
    return python
