"""`csobot` sub-commands, one module per feature (`<feature>_cli.add_commands(subparsers)`)."""
