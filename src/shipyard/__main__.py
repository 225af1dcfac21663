"""``python -m shipyard`` runs the CLI (used as the container entrypoint)."""

from shipyard.cli.main import main

main()
