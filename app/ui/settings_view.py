"""The Settings screen: platform and sign-in, language models and their keys, the sandbox
(diagnosis and image build), and the theme.

Secrets go to the OS keychain through `app.sync.credentials.CredentialStore`, always from a
worker thread; they are never written to the settings file and never logged. Without a
keychain the user sees it plainly and chooses: keep them until quitting, or not at all.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollArea,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from app.sync.credentials import (
    CredentialStore,
    FallbackPolicy,
    SecretLocation,
    llm_key_name,
    platform_token_name,
)
from app.ui.app_settings import THEMES, AppSettings
from app.ui.docker_guide import DockerGuide
from app.ui.funnel.red_team_cost import provider_of
from app.ui.widgets import PageHeader, button_row, push_button, screen_layout

log = logging.getLogger(__name__)

BACKENDS = {
    "auto": "Automatic (Docker when available)",
    "docker": "Docker (strongest isolation)",
    "process": "Local process (weaker; for machines without Docker)",
}
LOCAL_PLATFORM = "the built-in local platform"


def _where_text(location: SecretLocation) -> str:
    if location == SecretLocation.KEYCHAIN:
        return "Saved in your system keychain."
    return (
        "Kept for this session only (no keychain available): "
        "you will need to enter it again after quitting."
    )


class SettingsView(QWidget):
    theme_changed = Signal(str)
    platform_changed = Signal()
    models_changed = Signal()
    backend_changed = Signal(str)
    diagnosis_shown = Signal(object)  # a new sandbox Diagnosis (the window's banner follows it)
    problem = Signal(object)
    _build_progress = Signal(str)  # lines from the image build, emitted from its worker thread
    _build_step = Signal(int, int)  # (steps done, steps in all) of the image build

    def __init__(
        self,
        settings: AppSettings,
        credentials: CredentialStore,
        job_runner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._credentials = credentials
        self._job_runner = job_runner
        self._building = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        self.scroll = scroll
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        header = PageHeader(
            "Settings",
            "Where your work goes, which AI models may attack your grader, and how it runs safely.",
        )
        layout = screen_layout(body, header, spacing=10, bottom=16)

        layout.addWidget(self._build_platform_group())
        layout.addWidget(self._build_keychain_group())
        layout.addWidget(self._build_models_group())
        layout.addWidget(self._build_sandbox_group())
        layout.addWidget(self._build_appearance_group())
        layout.addStretch(1)

        self._build_progress.connect(self._on_build_line)
        self._build_step.connect(self.docker_guide.build_step)
        self._refresh_models()
        self._show_platform_status()

    # -- building ------------------------------------------------------------------------------

    def _build_platform_group(self) -> QGroupBox:
        """Where work goes: the platform address, the token, sign in and out."""
        platform = QGroupBox("Platform")
        form = QFormLayout(platform)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.platform_url = QLineEdit(self._configured_server() or "")
        self.platform_url.setPlaceholderText(
            "Empty: use the built-in local platform with demo bounties"
        )
        form.addRow("Platform address", self.platform_url)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("Paste the access token the platform gave you")
        form.addRow("Access token", self.token)
        self.save_platform = push_button(
            "Save and sign in", self.save_platform_settings, primary=True
        )
        self.sign_out = push_button("Sign out", self.forget_token)
        form.addRow("", button_row(self.save_platform, self.sign_out))
        self.platform_status = QLabel("")
        self.platform_status.setMinimumWidth(420)
        self.platform_status.setWordWrap(True)
        self.platform_status.setObjectName("dimText")
        form.addRow("", self.platform_status)
        return platform

    def _build_keychain_group(self) -> QGroupBox:
        """The keychain's state, and what to do with secrets without one."""
        keychain = QGroupBox("Keychain")
        kform = QFormLayout(keychain)
        self.keychain_status = QLabel("Checking your system keychain…")
        self.keychain_status.setWordWrap(True)
        kform.addRow("Status", self.keychain_status)
        self.fallback = QComboBox()
        self.fallback.addItem("Keep them until I quit the app (never on disk)", "session")
        self.fallback.addItem("Do not keep them at all", "refuse")
        self.fallback.setCurrentIndex(
            max(0, self.fallback.findData(self._settings.keychain_fallback))
        )
        self.fallback.currentIndexChanged.connect(self._on_fallback_changed)
        kform.addRow("Without a keychain", self.fallback)
        return keychain

    def _build_models_group(self) -> QGroupBox:
        """The language models for the red team and judges, with their keys."""
        models = QGroupBox("Language models (for the LLM red team and LLM judges)")
        mlayout = QVBoxLayout(models)
        explain = QLabel(
            "Add a model by its name as litellm knows it, e.g. <b>openai/gpt-4o-mini</b> or "
            "<b>anthropic/claude-3-5-haiku-latest</b>. "
            "For a local or company server, give its address too. "
            "Keys are stored in your keychain, one per provider."
        )
        explain.setWordWrap(True)
        explain.setObjectName("dimText")
        mlayout.addWidget(explain)
        self.model_list = QTreeWidget()
        self.model_list.setHeaderLabels(["Model", "Server address", "Key"])
        self.model_list.setRootIsDecorated(False)
        self.model_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.model_list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.model_list.setMinimumHeight(90)
        self.model_list.setMaximumHeight(150)
        self.model_list.header().setStretchLastSection(False)
        self.model_list.header().resizeSection(1, 260)
        self.model_list.header().resizeSection(2, 200)
        mlayout.addWidget(self.model_list)
        add = QHBoxLayout()
        self.model_name = QLineEdit()
        self.model_name.setPlaceholderText("Model, e.g. openai/gpt-4o-mini")
        self.model_base = QLineEdit()
        self.model_base.setPlaceholderText("Server address (optional)")
        self.model_key = QLineEdit()
        self.model_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.model_key.setPlaceholderText("API key (optional for local models)")
        self.add_model_button = push_button("Add", self.add_model)
        self.remove_model_button = push_button("Remove", self.remove_selected_model)
        for widget, stretch in ((self.model_name, 3), (self.model_base, 2), (self.model_key, 2)):
            add.addWidget(widget, stretch)
        add.addWidget(self.add_model_button)
        add.addWidget(self.remove_model_button)
        mlayout.addLayout(add)
        self.model_status = QLabel("")
        self.model_status.setWordWrap(True)
        self.model_status.setObjectName("dimText")
        mlayout.addWidget(self.model_status)
        return models

    def _build_sandbox_group(self) -> QGroupBox:
        """Where graders run, the Docker guide and the sandbox check."""
        sandbox = QGroupBox("Sandbox")
        self.sandbox_group = sandbox
        slayout = QVBoxLayout(sandbox)
        sform = QFormLayout()
        self.backend = QComboBox()
        for key, label in BACKENDS.items():
            self.backend.addItem(label, key)
        self.backend.setCurrentIndex(max(0, self.backend.findData(self._settings.sandbox_backend)))
        self.backend.currentIndexChanged.connect(self._on_backend_changed)
        sform.addRow("Run graders in", self.backend)
        slayout.addLayout(sform)
        # The guide says what Docker's state means and offers the next step; the doctor's
        # checks follow for those who want the details.
        self.docker_guide = DockerGuide()
        self.docker_guide.recheck_requested.connect(self.run_doctor)
        self.docker_guide.build_requested.connect(self.start_image_build)
        slayout.addWidget(self.docker_guide)
        self.check_sandbox = self.docker_guide.recheck
        self.build_image = self.docker_guide.build
        self.build_status = self.docker_guide.build_status
        self.diagnosis = QLabel("Not checked yet.")
        self.diagnosis.setWordWrap(True)
        self.diagnosis.setTextFormat(Qt.TextFormat.RichText)
        self.diagnosis.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        slayout.addWidget(self.diagnosis)
        self.first_check = push_button("Check the sandbox", self.run_doctor)
        slayout.addLayout(button_row(self.first_check))
        return sandbox

    def _build_appearance_group(self) -> QGroupBox:
        """The theme."""
        appearance = QGroupBox("Appearance")
        aform = QFormLayout(appearance)
        self.theme = QComboBox()
        for key in THEMES:
            self.theme.addItem(
                {"system": "Follow the system", "light": "Light", "dark": "Dark"}[key], key
            )
        self.theme.setCurrentIndex(max(0, self.theme.findData(self._settings.theme)))
        self.theme.currentIndexChanged.connect(self._on_theme_changed)
        aform.addRow("Theme", self.theme)
        return appearance

    def _on_build_line(self, line: str) -> None:
        self.docker_guide.build_message(line)

    # -- keychain ------------------------------------------------------------------------------

    def refresh_keychain_status(self) -> None:
        self._job_runner.run_in_thread(
            self._credentials.status, on_done=self._show_keychain_status, on_error=self.problem.emit
        )

    def _show_keychain_status(self, status) -> None:
        if status.usable:
            self.keychain_status.setText(status.message)
        else:
            self.keychain_status.setText(
                f"{status.message}. Tokens and keys cannot be saved between sessions; "
                "choose below what happens to them."
            )

    def _on_fallback_changed(self) -> None:
        value = self.fallback.currentData()
        self._settings.keychain_fallback = value
        self._credentials.fallback = FallbackPolicy(value)

    # -- platform --------------------------------------------------------------------------------

    def save_platform_settings(self) -> None:
        from app.sync.platform import save_server, validate_server_url

        text = self.platform_url.text().strip()
        try:
            url = validate_server_url(text) if text else None
        except UserError as exc:
            exc.where = "Platform address"
            self.problem.emit(exc)
            return
        token = self.token.text()
        self.token.clear()  # the secret leaves the widget at once
        try:
            save_server(url)
        except OSError as exc:
            self.problem.emit(
                UserError(
                    f"The platform setting could not be saved ({exc.strerror}).",
                    "Check that your user profile folder is writable.",
                )
            )
            return
        if url is None or not token:
            note = "The local platform needs no token." if url is None and token else "Saved."
            self._show_platform_status(note)
            self.platform_changed.emit()
            return
        self.save_platform.setEnabled(False)

        def saved(location: SecretLocation) -> None:
            self.save_platform.setEnabled(True)
            self._show_platform_status(_where_text(location))
            self.platform_changed.emit()

        def failed(exc: BaseException) -> None:
            self.save_platform.setEnabled(True)
            self.problem.emit(exc)

        self._job_runner.run_in_thread(
            self._credentials.set, platform_token_name(url), token, on_done=saved, on_error=failed
        )

    def forget_token(self) -> None:
        url = self._configured_server()
        if not url:
            self._show_platform_status("The local platform needs no sign-in.")
            return
        self._job_runner.run_in_thread(
            self._credentials.delete,
            platform_token_name(url),
            on_done=lambda _: (
                self._show_platform_status("Signed out: the token was removed."),
                self.platform_changed.emit(),
            ),
            on_error=self.problem.emit,
        )

    def _configured_server(self) -> str | None:
        from app.sync.platform import configured_server

        try:
            return configured_server()
        except UserError:
            return None

    def _show_platform_status(self, extra: str = "") -> None:
        url = self._configured_server()
        where = f"Using {url}." if url else f"Using {LOCAL_PLATFORM} (no account needed)."
        self.platform_status.setText(f"{where} {extra}".strip())

    # -- models ---------------------------------------------------------------------------------

    def add_model(self) -> None:
        model = self.model_name.text().strip()
        if not model or " " in model:
            self.problem.emit(
                UserError(
                    "Give the model’s name as litellm knows it.",
                    "For example openai/gpt-4o-mini or ollama/llama3.",
                    where="Language models",
                )
            )
            return
        base = self.model_base.text().strip()
        if base and not base.startswith(("http://", "https://")):
            self.problem.emit(
                UserError(
                    f"“{base}” is not a web address.",
                    "Write it as http://localhost:11434 or leave it empty.",
                    where="Language models",
                )
            )
            return
        models = [m for m in self._settings.llm_models() if m["model"] != model]
        models.append({"model": model, "api_base": base})
        self._settings.set_llm_models(models)
        self._settings.sync()
        key = self.model_key.text()
        self.model_key.clear()
        self.model_name.clear()
        self.model_base.clear()
        self._refresh_models()
        self.models_changed.emit()
        if key:

            def saved(location: SecretLocation) -> None:
                self.model_status.setText(f"Key for {provider_of(model)}: {_where_text(location)}")
                self._refresh_models()

            self._job_runner.run_in_thread(
                self._credentials.set,
                llm_key_name(provider_of(model)),
                key,
                on_done=saved,
                on_error=self.problem.emit,
            )
        else:
            self.model_status.setText(f"Added {model}.")

    def remove_selected_model(self) -> None:
        item = self.model_list.currentItem()
        if item is None:
            return
        model = item.text(0)
        models = [m for m in self._settings.llm_models() if m["model"] != model]
        self._settings.set_llm_models(models)
        self._settings.sync()
        if not any(provider_of(m["model"]) == provider_of(model) for m in models):
            self._job_runner.run_in_thread(
                self._credentials.delete,
                llm_key_name(provider_of(model)),
                on_error=self.problem.emit,
            )
        self.model_status.setText(f"Removed {model}.")
        self._refresh_models()
        self.models_changed.emit()

    def _refresh_models(self) -> None:
        self.model_list.clear()
        models = self._settings.llm_models()
        for entry in models:
            item = QTreeWidgetItem([entry["model"], entry.get("api_base") or "—", "checking…"])
            self.model_list.addTopLevelItem(item)
        if not models:
            placeholder = QTreeWidgetItem(
                ["No model yet: the stress test uses the built-in attacks only.", "", ""]
            )
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.model_list.addTopLevelItem(placeholder)
            return
        providers = sorted({provider_of(m["model"]) for m in models})

        def lookup() -> dict[str, bool]:
            return {p: self._credentials.get(llm_key_name(p)) is not None for p in providers}

        def show(has_key: dict[str, bool]) -> None:
            for i in range(self.model_list.topLevelItemCount()):
                item = self.model_list.topLevelItem(i)
                stored = has_key.get(provider_of(item.text(0)))
                if stored is not None:
                    item.setText(2, "stored" if stored else "none (environment or local)")

        self._job_runner.run_in_thread(lookup, on_done=show, on_error=self.problem.emit)

    # -- sandbox -----------------------------------------------------------------------------------

    def _on_backend_changed(self) -> None:
        self._settings.sandbox_backend = self.backend.currentData()
        self.backend_changed.emit(self.backend.currentData())
        self.run_doctor()

    def show_sandbox(self) -> None:
        """Scroll the Sandbox section into view (the Docker banner's "Sandbox settings")."""
        self.scroll.widget().adjustSize()
        bar = self.scroll.verticalScrollBar()
        bar.setValue(min(bar.maximum(), self.sandbox_group.y() - 8))

    def run_doctor(self) -> None:
        from app.ui.sandbox_status import diagnose

        self.diagnosis.setText("Checking the sandbox…")
        self.check_sandbox.setEnabled(False)
        self.first_check.setEnabled(False)

        def show(diagnosis) -> None:
            self.check_sandbox.setEnabled(True)
            self.first_check.setEnabled(True)
            self.show_diagnosis(diagnosis)

        def failed(exc: BaseException) -> None:
            self.check_sandbox.setEnabled(True)
            self.first_check.setEnabled(True)
            self.diagnosis.setText(f"The check itself failed: {exc}")

        self._job_runner.run_in_thread(
            diagnose, self._settings.sandbox_backend, on_done=show, on_error=failed
        )

    def show_diagnosis(self, diagnosis) -> None:
        self.diagnosis.setText(diagnosis.html())
        self.docker_guide.show_diagnosis(diagnosis)
        self.first_check.setVisible(False)  # the guide has its own "Check again" from now on
        self.check_sandbox.setVisible(True)
        self.diagnosis_shown.emit(diagnosis)

    def start_image_build(self) -> None:
        from app.ui.sandbox_status import build_image

        if self._building:
            return
        self._building = True
        self.docker_guide.build_started()

        def done(_result) -> None:
            self._building = False
            self.docker_guide.build_finished(True, "The sandbox image is ready.")
            self.run_doctor()

        def failed(exc: BaseException) -> None:
            self._building = False
            self.docker_guide.build_finished(False, "The image could not be built.")
            self.problem.emit(exc)

        self._job_runner.run_in_thread(
            build_image,
            self._build_progress.emit,
            self._build_step.emit,
            on_done=done,
            on_error=failed,
        )

    # -- theme -----------------------------------------------------------------------------------

    def _on_theme_changed(self) -> None:
        self._settings.theme = self.theme.currentData()
        self.theme_changed.emit(self.theme.currentData())
