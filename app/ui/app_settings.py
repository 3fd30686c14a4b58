"""What the app remembers between runs (window layout, recent packages, preferences), in an
INI file in the user config directory. Never secrets: those live in the keychain."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from app.paths import config_dir

MAX_RECENT = 10
THEMES = ("system", "light", "dark")


class _TextSetting:
    """A text preference under `key`, read and written as an attribute of AppSettings; with
    `allowed`, any other value (an old or hand-edited file) counts as `default`."""

    def __init__(self, key: str, default: str, allowed: tuple[str, ...] = ()) -> None:
        self.key, self.default, self.allowed = key, default, allowed

    def _valid(self, value: str) -> str:
        return value if not self.allowed or value in self.allowed else self.default

    def __get__(self, settings: AppSettings | None, owner: type | None = None) -> str:
        if settings is None:  # read on the class (introspection, mocks): the descriptor itself
            return self  # type: ignore[return-value]
        return self._valid(str(settings._qs.value(self.key, self.default)))

    def __set__(self, settings: AppSettings, value: str) -> None:
        settings._qs.setValue(self.key, self._valid(value))


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

    last_screen = _TextSetting("window/screen", "bounties")
    role = _TextSetting("window/role", "author")  # author, reviewer or lab (see app/ui/sidebar.py)

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

    theme = _TextSetting("appearance/theme", "system", THEMES)
    sandbox_backend = _TextSetting("sandbox/backend", "auto")

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

    # "session" (keep secrets in memory until quit) or "refuse".
    keychain_fallback = _TextSetting("security/keychain_fallback", "session", ("session", "refuse"))
