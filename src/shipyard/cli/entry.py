"""The ``shipyard`` console script: a routed command goes to the warm daemon, the rest runs here.

Only the stdlib and ``shipyard.cli.daemon.client`` load before that choice, so a command that
the daemon runs never pays for importing the CLI in this process (see ``cli/daemon/``).
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Console-script entry point."""
    from shipyard.cli.daemon.client import run_in_daemon

    code = run_in_daemon(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from shipyard.cli.main import main as run_here

    run_here()
