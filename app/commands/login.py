"""Platform commands: `login` to a platform, `logout` to use the local platform again."""

from __future__ import annotations

import argparse
import getpass
import sys

from app.commands.platform_session import run_async, stderr_console, stdout_console
from app.commands.subcommand import add_command
from app.errors import UserError

ORDER = 60


def register(subparsers: argparse._SubParsersAction) -> None:
    login = add_command(subparsers, "login", run_login)
    login.add_argument(
        "--server", required=True, metavar="URL", help="e.g. https://platform.example.org"
    )
    login.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="accept plain http:// to another machine (your token travels unencrypted)",
    )
    add_command(subparsers, "logout", run_logout)


def run_login(args: argparse.Namespace) -> int:
    """log in to a Gauntlet platform

    Log in to a platform: the token is read from a prompt (or from stdin when it is not a
    terminal), checked with the server and kept in your keychain.
    """
    from app.sync.client import PlatformClient
    from app.sync.credentials import CredentialStore, SecretLocation, platform_token_name
    from app.sync.platform import save_server, validate_server_url

    insecure = bool(getattr(args, "allow_insecure_http", False))
    url = validate_server_url(args.server, allow_insecure_http=insecure)
    if sys.stdin.isatty():
        token = getpass.getpass(f"Token for {url} (input hidden): ").strip()
    else:
        token = sys.stdin.readline().strip()
    if not token:
        raise UserError(
            "No token was given.",
            "Paste the token your platform administrator gave you "
            "(or pipe it: `echo $TOKEN | gauntlet login --server URL`).",
        )

    async def check() -> dict:
        async with PlatformClient(url, token) as client:
            return (await client.get("/v1/me")).data

    me = run_async(check)
    if not isinstance(me, dict) or "role" not in me:
        raise UserError(f"{url} does not look like a Gauntlet platform.", "Check the address.")
    credentials = CredentialStore()
    where = credentials.set(platform_token_name(url), token)
    save_server(url, allow_insecure_http=insecure)
    out = stdout_console()
    out.plain(f"Logged in to {url} as {me.get('name')} ({me.get('role')}).")
    if where == SecretLocation.SESSION:
        err = stderr_console()
        err.plain(
            f"{err.paint('warning', 'yellow')}: {credentials.status().message} The token was "
            "NOT saved and is forgotten when this command ends. Unlock or install a keychain and "
            "log in again, or set GAUNTLET_SERVER and GAUNTLET_TOKEN for headless use."
        )
    return 0


def run_logout(args: argparse.Namespace) -> int:
    """forget the platform token; use the local platform again

    Remove the saved platform address and its token from your keychain. Afterwards the app
    and the CLI use the built-in local platform again.
    """
    from app.sync.credentials import CredentialStore, platform_token_name
    from app.sync.platform import configured_server, save_server

    url = configured_server()
    if url:
        CredentialStore().delete(platform_token_name(url))
        save_server(None)
        stdout_console().plain(f"Logged out of {url}; using the local platform again.")
    else:
        stdout_console().plain(
            "You were not logged in to a platform; the local platform is in use."
        )
    return 0
