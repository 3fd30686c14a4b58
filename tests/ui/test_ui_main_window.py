"""The main window: screens, status bar, notifications for uncaught errors from every kind of
code (GUI thread, worker threads, coroutines), and the layout remembered between runs."""

from __future__ import annotations

import asyncio
import threading

import pytest
from support.bounties import make_bounty

from app.errors import UserError
from app.sync.credentials import CredentialStore
from app.ui.app_settings import AppSettings
from app.ui.error_reporter import ErrorReporter
from app.ui.main_window import SCREENS, MainWindow


@pytest.fixture
def window(qtbot, async_loop, tmp_path):
    reporter = ErrorReporter()
    win = MainWindow(
        AppSettings(),
        CredentialStore(),
        reporter,
        connect_platform=False,
        check_sandbox=False,
        folder_picker=lambda *_: str(tmp_path / "envs"),
    )
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def test_every_screen_opens_from_the_sidebar(qtbot, window):
    for name in SCREENS:
        window.sidebar.setCurrentRow(SCREENS.index(name))
        assert window.current_screen() == name
        assert window.pages.currentWidget() is window._built[name]
    assert "Offline" in window.status.platform.text.text()
    assert window.status.sandbox.text.text() == "Sandbox: not checked"


def test_an_exception_in_a_worker_thread_becomes_a_notification(qtbot, window):
    window.reporter.install()
    try:
        thread = threading.Thread(target=lambda: 1 / 0, name="doomed")
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda: len(window.notifications.cards()) == 1, timeout=5000)
    finally:
        window.reporter.uninstall()
    card = window.notifications.cards()[0]
    assert "ZeroDivisionError" in card.title_label.text()
    assert "doomed" in card.details and "Traceback" in card.details
    card.copy_button.click()
    from PySide6.QtWidgets import QApplication

    assert "ZeroDivisionError" in QApplication.clipboard().text()
    card.dismiss_button.click()
    qtbot.waitUntil(lambda: not window.notifications.cards(), timeout=2000)
    assert window.notifications.isHidden()


def test_an_exception_in_a_coroutine_becomes_a_notification(qtbot, window, async_loop):
    window.reporter.install_on_loop(async_loop)

    async def broken():
        await asyncio.sleep(0)
        raise RuntimeError("the sync engine tripped")

    window.job_runner.run_coroutine(broken())
    qtbot.waitUntil(lambda: len(window.notifications.cards()) == 1, timeout=5000)
    assert "the sync engine tripped" in window.notifications.cards()[0].title_label.text()

    # A fire-and-forget task nobody awaits goes through the loop's exception handler.
    async def forgotten():
        raise ValueError("nobody awaited me")

    async_loop.call_exception_handler(
        {
            "message": "Task exception was never retrieved",
            "exception": ValueError("nobody awaited me"),
        }
    )
    qtbot.waitUntil(lambda: len(window.notifications.cards()) == 2, timeout=5000)


def test_user_errors_show_message_and_hint_without_a_traceback(qtbot, window):
    window.report(
        UserError("That folder has no env.toml.", "Pick the folder that contains env.toml.")
    )
    qtbot.waitUntil(lambda: len(window.notifications.cards()) == 1, timeout=5000)
    card = window.notifications.cards()[0]
    assert card.title_label.text() == "That folder has no env.toml."
    assert card.hint_label.text() == "Pick the folder that contains env.toml."
    assert not hasattr(card, "copy_button")


def test_at_most_three_notifications_stay_on_screen(qtbot, window):
    for i in range(5):
        window.report(UserError(f"problem {i}"))
    qtbot.waitUntil(
        lambda: (
            window.notifications.cards()
            and window.notifications.cards()[-1].title_label.text() == "problem 4"
        ),
        timeout=5000,
    )
    assert [c.title_label.text() for c in window.notifications.cards()] == [
        "problem 2",
        "problem 3",
        "problem 4",
    ]


def test_layout_recent_packages_and_screen_are_remembered(qtbot, async_loop, tmp_path):
    from app.envpack.templates import create_from_template

    package = create_from_template("qa-exact", tmp_path / "pkg", package_name="test/pkg", title="T")
    first = MainWindow(
        AppSettings(),
        CredentialStore(),
        ErrorReporter(),
        connect_platform=False,
        check_sandbox=False,
    )
    qtbot.addWidget(first)
    # Fits the offscreen screen (restoreGeometry clamps to it) and is above the window's
    # minimum height with the themed fonts and the menu bar (506), which would grow it.
    first.resize(701, 541)
    first.show()
    first.open_package(package)
    assert first.current_screen() == "workspace"
    assert first.workspace.current_package() == package
    first.show_screen("reviews")
    size = (first.size().width(), first.size().height())
    first.close()

    again = MainWindow(
        AppSettings(),
        CredentialStore(),
        ErrorReporter(),
        connect_platform=False,
        check_sandbox=False,
    )
    qtbot.addWidget(again)
    again.show()
    # The height is the one saved (the offscreen screen is too narrow to keep every width).
    assert again.size().height() == size[1] == 541
    assert again.current_screen() == "reviews"
    assert AppSettings().recent_packages() == [str(package.resolve())]
    again.show_screen("workspace")
    assert again.workspace.welcome.recent.count() == 1
    again.close()


def test_bounties_from_the_store_fill_the_browser(qtbot, window, tmp_path):
    from app.sync.store import LocalStore

    store = LocalStore(tmp_path / "s.sqlite")
    store.bounties.upsert([make_bounty(i) for i in range(5)])
    window.platform.store_ready.emit(store)
    window.show_screen("bounties")
    qtbot.waitUntil(lambda: window.bounties.model.total_count() == 5, timeout=5000)
    window.show_screen("submissions")
    assert window.submissions.stack.currentWidget() is window.submissions.empty
    window.close()
    store.close()


def test_starting_an_environment_opens_it_in_the_workspace(qtbot, window, tmp_path):
    from app.sync.store import LocalStore

    store = LocalStore(tmp_path / "s.sqlite")
    store.bounties.upsert([make_bounty(1)])
    window.platform.store_ready.emit(store)
    window.show_screen("bounties")
    qtbot.waitUntil(lambda: window.bounties.model.total_count() == 1, timeout=5000)
    window.bounties.select_bounty("b_00001")
    window.bounties.start_button.click()
    qtbot.waitUntil(lambda: window.current_screen() == "workspace", timeout=10000)
    assert window.workspace.current_package() == tmp_path / "envs" / "chemistry-reasoning-set-1"
    assert window.workspace.funnel.run_button.isEnabled()
    assert "Created your environment" in window.notifications.cards()[0].title_label.text()
    window.close()
    store.close()
