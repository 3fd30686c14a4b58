"""Settings: LLM keys and platform tokens go to the real Secret Service keychain (never to the
settings file or the log); without a keychain the user's fallback choice is honoured."""

from __future__ import annotations

import logging

import keyring
import pytest
from keyring.backends import fail
from support.services import keyring_session, need

from app.sync.credentials import SERVICE, CredentialStore, FallbackPolicy, llm_key_name
from app.ui.app_logging import configure_logging, remove_file_logging
from app.ui.app_settings import AppSettings
from app.ui.settings_view import SettingsView

SECRET = "sk-test-" + "9" * 24


@pytest.fixture
def file_log():
    path = configure_logging(verbose=True)
    yield path
    remove_file_logging()


def make_view(qtbot, job_runner, credentials):
    settings = AppSettings()
    view = SettingsView(settings, credentials, job_runner)
    qtbot.addWidget(view)
    problems = []
    view.problem.connect(problems.append)
    view.problems = problems
    return view, settings


def add_model(qtbot, view, model: str, key: str) -> None:
    view.model_name.setText(model)
    view.model_key.setText(key)
    view.add_model_button.click()
    qtbot.waitUntil(lambda: view.model_status.text().startswith("Key for"), timeout=10000)


@pytest.mark.keyring
def test_llm_key_is_stored_in_the_secret_service_keychain(qtbot, job_runner, file_log):
    need("keychain", keyring_session(), "no Secret Service session (run under .ci/with-keyring)")
    keyring.set_keyring(keyring.core.load_keyring("keyring.backends.SecretService.Keyring"))
    credentials = CredentialStore()
    assert credentials.status().usable
    view, settings = make_view(qtbot, job_runner, credentials)
    try:
        add_model(qtbot, view, "openai/gpt-4o-mini", SECRET)
        assert "system keychain" in view.model_status.text()
        assert keyring.get_password(SERVICE, llm_key_name("openai")) == SECRET
        assert view.model_key.text() == ""  # the secret leaves the widget at once
        assert settings.llm_models() == [{"model": "openai/gpt-4o-mini", "api_base": ""}]
        qtbot.waitUntil(lambda: view.model_list.topLevelItem(0).text(2) == "stored", timeout=10000)
        settings.sync()
        assert SECRET not in settings.path.read_text(encoding="utf-8")
        logging.getLogger("test").info(
            "request with api_key=%s", SECRET
        )  # even a careless log line
        for handler in logging.getLogger().handlers:
            handler.flush()
        assert SECRET not in file_log.read_text(encoding="utf-8")

        view.model_list.setCurrentItem(view.model_list.topLevelItem(0))
        view.remove_model_button.click()
        qtbot.waitUntil(lambda: job_runner.running == 0, timeout=10000)
        assert keyring.get_password(SERVICE, llm_key_name("openai")) is None
        assert settings.llm_models() == []
    finally:
        try:
            keyring.delete_password(SERVICE, llm_key_name("openai"))
        except keyring.errors.PasswordDeleteError:
            pass


def test_without_a_keychain_keys_are_kept_for_the_session_only(qtbot, job_runner):
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        credentials = CredentialStore(fallback=FallbackPolicy.SESSION)
        view, settings = make_view(qtbot, job_runner, credentials)
        view.refresh_keychain_status()
        qtbot.waitUntil(lambda: "not available" in view.keychain_status.text(), timeout=10000)
        add_model(qtbot, view, "anthropic/claude-3-5-haiku-latest", SECRET)
        assert "this session only" in view.model_status.text()
        assert credentials.get(llm_key_name("anthropic")) == SECRET  # usable until quitting
        settings.sync()
        assert SECRET not in settings.path.read_text(encoding="utf-8")
        assert not view.problems
    finally:
        keyring.set_keyring(previous)


def test_without_a_keychain_refusing_keeps_nothing_and_says_so(qtbot, job_runner):
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        credentials = CredentialStore(fallback=FallbackPolicy.SESSION)
        view, settings = make_view(qtbot, job_runner, credentials)
        view.fallback.setCurrentIndex(view.fallback.findData("refuse"))
        assert (
            settings.keychain_fallback == "refuse" and credentials.fallback == FallbackPolicy.REFUSE
        )
        view.model_name.setText("openai/gpt-4o-mini")
        view.model_key.setText(SECRET)
        view.add_model_button.click()
        qtbot.waitUntil(lambda: bool(view.problems), timeout=10000)
        assert "not saved" in view.problems[0].message
        assert credentials.get(llm_key_name("openai")) is None
    finally:
        keyring.set_keyring(previous)


def test_bad_model_names_and_addresses_are_explained(qtbot, job_runner):
    view, settings = make_view(qtbot, job_runner, CredentialStore())
    view.model_name.setText("gpt 4")
    view.add_model_button.click()
    view.model_name.setText("openai/x")
    view.model_base.setText("localhost:8000")
    view.add_model_button.click()
    assert len(view.problems) == 2 and all(p.hint for p in view.problems)
    assert settings.llm_models() == []
    view.platform_url.setText("not a url")
    view.save_platform.click()
    assert len(view.problems) == 3 and view.problems[2].where == "Platform address"


def test_theme_and_backend_choices_are_remembered(qtbot, job_runner):
    view, settings = make_view(qtbot, job_runner, CredentialStore())
    themes = []
    view.theme_changed.connect(themes.append)
    view.theme.setCurrentIndex(view.theme.findData("dark"))
    assert themes == ["dark"] and AppSettings().theme == "dark"
    view._check_doctor = False
    view.backend.blockSignals(True)
    view.backend.setCurrentIndex(view.backend.findData("process"))
    view.backend.blockSignals(False)
    view._settings.sandbox_backend = view.backend.currentData()
    assert AppSettings().sandbox_backend == "process"
