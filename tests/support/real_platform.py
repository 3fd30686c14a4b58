"""The real platform for sync tests and the benchmark: the server helper's embedded platform
(FastAPI + SQLite under uvicorn on 127.0.0.1), plus extra users made with the server's own
account functions (a lab to post bounties, an admin to assign reviewers).

Stop and restart it on the same data folder to simulate a server going down mid-upload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RealPlatform:
    data_dir: Path
    embedded: object = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.embedded.url

    def start(self) -> RealPlatform:
        from app.platform.embedded import start_embedded
        from app.sync.platform import embedded_token

        self.embedded = start_embedded(self.data_dir)
        for role in ("author", "reviewer", "lab"):
            self.tokens[role] = embedded_token(self.embedded, role)
        if "admin" not in self.tokens:
            self.tokens["admin"] = self.create_user("test-admin", "admin")
            self.tokens["author2"] = self.create_user("second-author", "author")
        return self

    def create_user(self, name: str, role: str, domains: tuple[str, ...] = ()) -> str:
        from app.platform.auth import create_user
        from app.platform.platform import Platform
        from app.platform.settings import Settings

        platform = Platform.open(Settings(data_dir=self.data_dir), run_migrations=False)
        try:
            with platform.write() as session:
                _user, token = create_user(session, name, role, domains=domains)
            return token
        finally:
            platform.close()

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None

    def restart(self) -> RealPlatform:
        self.stop()
        return self.start()
