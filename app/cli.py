"""The `gauntlet` command: every funnel stage and sync action, headless.

Exit codes (stable contract): 0 success, 1 the input has problems (findings with errors,
confirmed hits), 2 the input or the machine is unusable (not a package, no backend...),
130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

import app
import app.commands
from app.errors import UserError

log = logging.getLogger("gauntlet")


def _command_modules() -> list:
    modules = []
    for info in pkgutil.iter_modules(app.commands.__path__):
        module = importlib.import_module(f"app.commands.{info.name}")
        if hasattr(module, "register"):
            modules.append(module)
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def install_local_platform() -> None:
    """Hand sync the embedded platform's starter: sync itself never imports the platform."""
    from app.platform.local import launch_embedded
    from app.sync.platform import use_local_platform

    use_local_platform(launch_embedded)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gauntlet",
        description="Author, verify and stress-test reinforcement-learning environments.",
    )
    parser.add_argument("--version", action="version", version=f"gauntlet {app.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    install_local_platform()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from app.commands.console import Console

    console = Console.for_stream(sys.stderr)
    try:
        return int(args.handler(args) or 0)
    except UserError as exc:
        console.user_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        console.plain("interrupted")
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the last line of defence: never a traceback for a user
        log.debug("internal error", exc_info=True)
        crash_file = console.internal_error(exc)
        console.plain(f"details were written to {crash_file}" if crash_file else "")
        return 2


if __name__ == "__main__":
    sys.exit(main())
