"""A submission under review on the real local platform: the embedded server without its
worker (a test records the server's check itself, which assigns the reviewer), and `gauntlet`
commands run as one role each, every role with its own profile and local store."""

from __future__ import annotations

import json

from app.cli import main
from support.platform_testkit import passing_report


def start_local(data_dir):
    """The embedded platform without its worker; stop it with `.stop()`."""
    from app.platform.embedded import start_embedded

    return start_embedded(data_dir, run_worker=False)


def on_platform(data_dir, work):
    """Run `work(session, settings)` in one write transaction on the platform's database."""
    from app.platform.platform import Platform
    from app.platform.settings import Settings

    settings = Settings(data_dir=data_dir, auto_assign_reviewers=True)
    platform = Platform.open(settings, run_migrations=False)
    try:
        with platform.write() as session:
            return work(session, platform.settings)
    finally:
        platform.close()


def pass_check(data_dir, submission_id: str, number: int) -> None:
    """The server's check passes (as its worker records it): in review, reviewer assigned."""
    from app.platform.recheck import store_report

    on_platform(
        data_dir,
        lambda s, settings: store_report(s, settings, submission_id, number, passing_report()),
    )


class Roles:
    """`roles("author", "submit", ...)` runs a `gauntlet` command as that role; returns
    (exit code, stdout, stderr)."""

    def __init__(self, embedded, home_root, monkeypatch, capsys) -> None:
        self.embedded, self.home_root = embedded, home_root
        self.monkeypatch, self.capsys = monkeypatch, capsys

    def home(self, role: str):
        return self.home_root / f"home-{role}"

    def __call__(self, role: str, *argv: str, token: str | None = None) -> tuple[int, str, str]:
        self.monkeypatch.setenv("GAUNTLET_HOME", str(self.home(role)))
        self.monkeypatch.setenv("GAUNTLET_SERVER", self.embedded.url)
        self.monkeypatch.setenv("GAUNTLET_TOKEN", token or self.embedded.tokens[role])
        code = main(list(argv))
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def submit(self, package, data_dir) -> str:
        """The author submits `package` to the first open bounty and the server's check
        passes; returns the submission's id."""
        _, out, _ = self("author", "bounties", "--json", "--status", "open")
        bounty = json.loads(out)[0]
        code, _, err = self("author", "submit", str(package), "--bounty", bounty["id"])
        assert code == 0, err
        _, out, _ = self("author", "status", "--json")
        sub = json.loads(out)["submissions"][0]
        number = sub["revision"]
        pass_check(data_dir, sub["id"], number)
        return sub["id"]
