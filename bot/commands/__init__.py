"""CLI sub-commands, one module per feature (`<feature>_cli.py`, each with `add_commands`)."""
