"""The warm CLI daemon: ``shipyard pipeline ...`` without paying for imports at every start.

A fully cached pipeline re-run does almost no work, but a fresh interpreter spends about 0.6 s
importing SQLAlchemy, Typer (and the pydantic it builds option adapters with) and Shipyard's
runner before it can look at the cache. The daemon is a fork server, as pantsd and Gradle's
daemon are: one process per user and Shipyard install that has imported all of that once and
forks a fresh child for each command.

    shipyard pipeline run pipe.py     ─► entry.main ─► client: connect to the socket
        │ no daemon yet: run in this process, and start one in the background
        ▼ daemon: send argv, cwd, environment, umask and the fds of stdin/stdout/stderr
    server: fork ─► child: take the client's fds, cwd and environment, import the CLI and the
                    pipeline file afresh, run the command, send back its exit code

- Only the ``pipeline`` commands go through it; everything else runs in its own process.
- The child imports the CLI and the user's code itself, so consoles see the client's terminal and
  a changed pipeline file is always read again. Shipyard or any package changed since the daemon
  started (modification times of Shipyard's sources and of every ``sys.path`` folder) makes it
  answer "stale" and exit; the command then runs in its own process and a new daemon starts.
- ``SHIPYARD_DAEMON=0`` turns it off, ``=1`` on; unset, it is on except when ``CI`` is set.
  It exits after ``SHIPYARD_DAEMON_IDLE`` seconds (default 1800) without a command, and on
  ``shipyard daemon stop``. Its socket lives in a folder only its user can open
  (``SHIPYARD_DAEMON_DIR``, default ``$XDG_RUNTIME_DIR/shipyard`` or ``/tmp/shipyard-<uid>``) and
  it serves only its own user (``SO_PEERCRED``).
- Ctrl-C and ``kill`` of the client are passed on to the child; a client that disappears
  interrupts its child.
"""
