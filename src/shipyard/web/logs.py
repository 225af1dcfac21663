"""The logging config every uvicorn server of Shipyard runs with: uvicorn's own, plus the
``shipyard`` loggers on the same stderr handler.

    uvicorn.run(app, log_config=log_config(access_log=not quiet))

The access log (``shipyard.access``, written by ``web.middleware.AccessLog``) is at INFO when on
and WARNING when off; uvicorn's own access log stays off (it has no duration).
"""

from __future__ import annotations

import copy
from typing import Any

from uvicorn.config import LOGGING_CONFIG

__all__ = ["ACCESS_LOGGER", "log_config"]

ACCESS_LOGGER = "shipyard.access"


def log_config(*, access_log: bool = False) -> dict[str, Any]:
    """uvicorn's ``LOGGING_CONFIG`` with Shipyard's loggers on its stderr handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["shipyard"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config["loggers"][ACCESS_LOGGER] = {
        "handlers": ["default"],
        "level": "INFO" if access_log else "WARNING",
        "propagate": False,
    }
    return config
