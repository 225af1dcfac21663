"""A command group that imports a sub-command's module only when that sub-command runs.

Click's lazily loaded sub-commands (click's "Complex Applications" guide, ``LazyGroup``) on
Typer's group. The root lists each sub-command as a ``LazyCommand``: its name, where it lives
(``"module:attribute"``, a ``typer.Typer`` group or a command function) and the one line
``shipyard --help`` shows. Until it is run, a sub-command is a ``DeferredCommand`` that knows
only that line, so ``shipyard --help`` imports no stage module at all and ``shipyard models list``
imports ``cli/models.py`` alone:

    class Root(LazyGroup):
        lazy_commands = (LazyCommand("models", "shipyard.cli.models:app", "Inspect models."),)

    app = typer.Typer(cls=Root)

``tests/cli/test_main.py`` checks that each line matches the loaded command's own help.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from importlib import import_module
from typing import Any, ClassVar

import typer
from typer import _click  # Typer's own click: the Command and Context its groups take
from typer.core import TyperCommand, TyperGroup

__all__ = ["DeferredCommand", "LazyCommand", "LazyGroup"]


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """A sub-command the root lists without importing it."""

    name: str
    target: str
    """``"module:attribute"``: a ``typer.Typer`` (a group) or a command function."""
    help: str
    """The first paragraph of its help, as ``shipyard --help`` lists it."""
    hidden: bool = False

    def load(self) -> _click.Command:
        """Import the module and build the click command Typer makes of the attribute."""
        module, _, attribute = self.target.partition(":")
        found = getattr(import_module(module), attribute)
        if isinstance(found, typer.Typer):
            return typer.main.get_group(found)
        single = typer.Typer()
        single.command(self.name, hidden=self.hidden)(found)
        return typer.main.get_command(single)


class DeferredCommand(TyperCommand):
    """Stands for a ``LazyCommand`` in the group: it lists with its help line and, once it is
    run (or asked for its own ``--help``), hands over to the loaded command."""

    def __init__(self, lazy: LazyCommand) -> None:
        super().__init__(lazy.name, short_help=lazy.help, hidden=lazy.hidden)
        self.lazy = lazy

    @cached_property
    def loaded(self) -> _click.Command:
        return self.lazy.load()

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: _click.Context | None = None,
        **extra: Any,
    ) -> _click.Context:
        # The context's command is the loaded one: the group invokes ``sub_ctx.command``.
        return self.loaded.make_context(info_name, args, parent, **extra)


class LazyGroup(TyperGroup):
    """A Typer group whose ``lazy_commands`` are imported when run; set them in a subclass."""

    lazy_commands: ClassVar[tuple[LazyCommand, ...]] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for lazy in self.lazy_commands:
            self.commands.setdefault(lazy.name, DeferredCommand(lazy))
