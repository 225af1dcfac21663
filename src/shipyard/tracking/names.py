"""Readable default run names, like MLflow's: ``brave-otter-417``."""

from __future__ import annotations

import secrets

__all__ = ["random_run_name"]

_ADJECTIVES = (
    "able", "bold", "brave", "bright", "calm", "clever", "crisp", "eager", "fast", "gentle",
    "glad", "honest", "keen", "kind", "lucky", "merry", "neat", "proud", "quick", "quiet",
    "rare", "sharp", "shy", "smart", "steady", "sunny", "swift", "tidy", "warm", "wise",
)  # fmt: skip
_NOUNS = (
    "ant", "bat", "bee", "carp", "colt", "crane", "deer", "dove", "eel", "finch", "fox", "gnu",
    "hare", "hawk", "heron", "ibis", "jay", "koi", "lark", "lynx", "mole", "newt", "otter",
    "owl", "puma", "quail", "seal", "swan", "toad", "wren",
)  # fmt: skip


def random_run_name() -> str:
    adjective = secrets.choice(_ADJECTIVES)
    noun = secrets.choice(_NOUNS)
    return f"{adjective}-{noun}-{secrets.randbelow(1000)}"
