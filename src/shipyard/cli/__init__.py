"""The command-line edge: imports every stage; nothing imports it."""
