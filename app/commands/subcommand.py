"""How a command module adds its sub-commands to `gauntlet`. (No `register`: not a command.)

A sub-command's help texts are its handler's docstring: the first paragraph is the one-line
help in `gauntlet --help`, the rest is the description in `gauntlet NAME --help` (white space
folded, as argparse folds it when printing). So each command registers in one call, plus its
own options, and its texts stand next to the code they describe.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]


def handler_texts(handler: Handler) -> tuple[str, str]:
    """The (help, description) a handler's docstring gives its command."""
    doc = inspect.getdoc(handler)
    if not doc or "\n\n" not in doc:
        raise ValueError(f"{handler.__qualname__} needs a docstring: help, blank line, description")
    help_text, _, description = doc.partition("\n\n")
    return " ".join(help_text.split()), " ".join(description.split())


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    handler: Handler,
    *options: Callable[[argparse.ArgumentParser], None],
    **defaults,
) -> argparse.ArgumentParser:
    """Add `gauntlet NAME`, run by `handler`; each of `options` adds some of its options, and
    `defaults` are set on the parsed arguments besides the handler."""
    help_text, description = handler_texts(handler)
    parser = subparsers.add_parser(name, help=help_text, description=description)
    for add_options in options:
        add_options(parser)
    parser.set_defaults(handler=handler, **defaults)
    return parser


def add_group(
    subparsers: argparse._SubParsersAction,
    name: str,
    help_text: str,
    description: str,
    *,
    dest: str,
    metavar: str,
) -> argparse._SubParsersAction:
    """Add `gauntlet NAME ACTION …` (`sandbox`, `admin`) and give back where its actions go.
    Without an action it prints its help and exits 2, like `gauntlet` alone."""
    parser = subparsers.add_parser(name, help=help_text, description=description)
    parser.set_defaults(handler=lambda _args: (parser.print_help(), 2)[1])
    return parser.add_subparsers(dest=dest, metavar=metavar)
