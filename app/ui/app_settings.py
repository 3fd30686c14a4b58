"""What the app remembers between runs (window layout, recent packages, preferences), in an
INI file in the user config directory. Never secrets: those live in the keychain."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from app.paths import config_dir

MAX_RECENT = 10
THEMES = ("system", "light", "dark")


class AppSettings:
    def __init__(self, path: Path | None = None) -> None:
        path = path or config_dir() / "studio.ini"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._qs = QSettings(str(path), QSettings.Format.IniFormat)

    def sync(self) -> None:
        self._qs.sync()

    # -- window ------------------------------------------------------------------------------

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self._qs.value("window/geometry"), self._qs.value("window/state")

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self._qs.setValue("window/geometry", geometry)
        self._qs.setValue("window/state", state)

    def splitter_state(self, name: str) -> QByteArray | None:
        return self._qs.value(f"splitters/{name}")

    def save_splitter_state(self, name: str, state: QByteArray) -> None:
        self._qs.setValue(f"splitters/{name}", state)

    @property
    def last_screen(self) -> str:
        return str(self._qs.value("window/screen", "bounties"))

    @last_screen.setter
    def last_screen(self, name: str) -> None:
        self._qs.setValue("window/screen", name)

    # -- packages ----------------------------------------------------------------------------

    def recent_packages(self) -> list[str]:
        value = self._qs.value("recent/packages", [])
        if isinstance(value, str):  # QSettings returns a lone string for one-element lists
            value = [value]
        return [str(v) for v in value or []]

    def add_recent_package(self, path: str | Path) -> None:
        text = str(Path(path).resolve())
        recent = [p for p in self.recent_packages() if p != text]
        self._qs.setValue("recent/packages", [text, *recent][:MAX_RECENT])

    # -- preferences -------------------------------------------------------------------------

    @property
    def theme(self) -> str:
        theme = str(self._qs.value("appearance/theme", "system"))
        return theme if theme in THEMES else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        self._qs.setValue("appearance/theme", value if value in THEMES else "system")

    @property
    def sandbox_backend(self) -> str:
        return str(self._qs.value("sandbox/backend", "auto"))

    @sandbox_backend.setter
    def sandbox_backend(self, name: str) -> None:
        self._qs.setValue("sandbox/backend", name)

    @property
    def docker_guide_dismissed(self) -> bool:
        """The user asked not to see the Docker banner again (Settings → Sandbox still guides)."""
        return str(self._qs.value("sandbox/docker_guide_dismissed", "false")).lower() == "true"

    @docker_guide_dismissed.setter
    def docker_guide_dismissed(self, value: bool) -> None:
        self._qs.setValue("sandbox/docker_guide_dismissed", "true" if value else "false")

    def llm_models(self) -> list[dict[str, str]]:
        """Configured red-team models: {"model": litellm string, "api_base": optional}."""
        count = self._qs.beginReadArray("llm/models")
        models = []
        for i in range(count):
            self._qs.setArrayIndex(i)
            model = str(self._qs.value("model", ""))
            if model:
                models.append({"model": model, "api_base": str(self._qs.value("api_base", ""))})
        self._qs.endArray()
        return models

    def set_llm_models(self, models: list[dict[str, str]]) -> None:
        self._qs.remove("llm/models")
        self._qs.beginWriteArray("llm/models", len(models))
        for i, entry in enumerate(models):
            self._qs.setArrayIndex(i)
            self._qs.setValue("model", entry["model"])
            self._qs.setValue("api_base", entry.get("api_base", ""))
        self._qs.endArray()

    @property
    def keychain_fallback(self) -> str:
        """ "session" (keep secrets in memory until quit) or "refuse"."""
        value = str(self._qs.value("security/keychain_fallback", "session"))
        return value if value in ("session", "refuse") else "session"

    @keychain_fallback.setter
    def keychain_fallback(self, value: str) -> None:
        self._qs.setValue("security/keychain_fallback", value)
