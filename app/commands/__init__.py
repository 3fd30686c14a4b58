"""Sub-commands of the `gauntlet` CLI, one module per area.

Each module defines `register(subparsers)` and an integer `ORDER` (its place in `--help`);
`register` adds each command with `subcommand.add_command`, its texts in the handler's docstring.
`app.cli` discovers them, so adding a command never edits a shared file.
"""
