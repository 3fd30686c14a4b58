"""What the commands that work on a package folder share: the check that DIR is a package,
their DIR, --json and -o options, and the sandbox options of `verify`, `attack` and `run`.
(No `register`: not a command.)"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.errors import UserError


def unusable_package(root: Path) -> UserError | None:
    """Why `root` cannot be a package folder at all (exit 2), or None. A symlinked env.toml is
    a package with a problem (finding GX123), not an unusable input."""
    if not root.exists():
        return UserError(
            f"{root} does not exist.",
            "Give the path of a package folder (the one holding env.toml).",
        )
    if not root.is_dir():
        return UserError(
            f"{root} is not a folder.",
            "Give the path of a package folder, not of a file inside it.",
        )
    if not (root / "env.toml").exists() and not (root / "env.toml").is_symlink():
        return UserError(
            f"{root} has no env.toml, so it is not an environment package.",
            "Check the path, or create a package with `gauntlet new DIR --template qa-exact`.",
        )
    return None


def require_package(root: Path) -> None:
    problem = unusable_package(root)
    if problem is not None:
        raise problem


def add_package_arguments(parser: argparse.ArgumentParser) -> None:
    """DIR and --json, as `check`, `verify`, `attack` and `run` take them."""
    parser.add_argument(
        "dir", type=Path, metavar="DIR", help="the package folder (holding env.toml)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the gauntlet-report/1 JSON report"
    )


def add_output_argument(parser: argparse.ArgumentParser, metavar: str, help: str) -> None:
    """The required -o/--output of the commands that write a new file or folder."""
    parser.add_argument("-o", "--output", type=Path, required=True, metavar=metavar, help=help)


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=("auto", "docker", "process"),
        default="auto",
        help="where to run gradings (default: Docker; or bubblewrap for your own package when "
        "Docker is not usable; a plain process only when you choose `process`)",
    )
    parser.add_argument(
        "--jobs", type=int, metavar="N", help="gradings in parallel inside the sandbox"
    )
    parser.add_argument(
        "--image", metavar="TAG", help="sandbox image to use instead of the default"
    )
    parser.add_argument(
        "--review",
        action="store_true",
        help="the package is someone else's (the default for any package not created here "
        "with `gauntlet new`): refuse the weak process backend",
    )
    parser.add_argument(
        "--force-weak-backend",
        action="store_true",
        help="allow the process backend for someone else's package (you accept the risk)",
    )
    parser.add_argument(
        "--allow-package-dockerfile",
        action="store_true",
        help="build someone else's environment/Dockerfile (offline, limited, FROM the sandbox "
        "image only)",
    )


def check_sandbox_arguments(args: argparse.Namespace) -> None:
    if args.jobs is not None and args.jobs < 1:
        raise UserError("--jobs must be 1 or more.", "Leave it out to let the sandbox choose.")


def sandbox_options(args: argparse.Namespace) -> dict:
    """The FunnelOptions fields that `add_sandbox_arguments` sets."""
    return {
        "backend": args.backend,
        "jobs": args.jobs,
        "image": args.image,
        "own_package": False if args.review else None,  # None: by provenance
        "force_weak_backend": args.force_weak_backend,
        "allow_package_dockerfile": args.allow_package_dockerfile,
    }
