"""Start ``shipyard serve`` once its options are known: what the command does after parsing.

Kept free of Typer and Rich: an image's default command (``serve`` with no options, configured
by ``SHIPYARD_SERVE_*``) comes straight here from ``container.py``, so it starts without them.

    start_serving("iris@production", ServeConfig.from_env(), say=print)
"""

from __future__ import annotations

from collections.abc import Callable

from shipyard.config import Settings
from shipyard.serve.config import ServeConfig

__all__ = ["start_serving"]


def start_serving(target: str, config: ServeConfig, say: Callable[[str], None]) -> None:
    """Check the model and the address, say what is served where, then serve until stopped."""
    from shipyard.serve.guards import exposure_warning
    from shipyard.serve.ports import ensure_address_free
    from shipyard.serve.server import run
    from shipyard.serve.sources import source_for

    source = source_for(target, Settings.from_env())
    version = source.current_version()
    ensure_address_free(config.host, config.port)
    say(
        f"serving {source.describe()} (version {version}) on http://{config.host}:{config.port} "
        f"with {config.workers} worker(s)"
    )
    warning = exposure_warning(config.host, config.api_key_file is not None)
    if warning is not None:
        say(warning)
    run(target, config)
