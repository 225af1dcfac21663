"""What the docker and swarm targets share: one Docker engine, connected once and closed once.

>>> with_engine = SwarmTarget.connect()   # DockerEngine.connect(), then the target's check
>>> with_engine.close()
"""

from __future__ import annotations

from typing import ClassVar, Self

from shipyard.deploy.spec import TargetName
from shipyard.docker_engine import DockerEngine

__all__ = ["EngineTarget"]


class EngineTarget:
    """A deploy target driven through one Docker engine."""

    name: ClassVar[TargetName]

    def __init__(self, engine: DockerEngine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls) -> Self:
        """Connect to the engine (``DOCKER_HOST`` or the local socket) and check it suits."""
        engine = DockerEngine.connect()
        try:
            cls.check_engine(engine)
        except BaseException:
            engine.close()
            raise
        return cls(engine)

    @classmethod
    def check_engine(cls, engine: DockerEngine) -> None:
        """Refuse an engine this target cannot use (every engine suits by default)."""

    def close(self) -> None:
        self.engine.close()
