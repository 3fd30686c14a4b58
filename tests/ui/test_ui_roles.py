"""Switching roles in the app is a menu choice, not a restart: the sidebar shows the role's
screens, the window reconnects as that role's local account with its own store, and the badges
count what arrived since the user last looked."""

from __future__ import annotations

import pytest
from support.review_setup import start_local

from app.sync.platform import PlatformConnection, embedded_store_key
from app.ui.app_settings import AppSettings
from app.ui.error_reporter import ErrorReporter
from app.ui.main_window import MainWindow
from app.ui.sidebar import ROLE_SCREENS


@pytest.fixture
def window(qtbot, tmp_path, async_loop):
    embedded = start_local(tmp_path / "platform")
    seen_roles = []

    def connector(role: str) -> PlatformConnection:
        seen_roles.append(role)
        return PlatformConnection(embedded.url, embedded.tokens[role], embedded_store_key(role))

    win = MainWindow(
        AppSettings(tmp_path / "settings.ini"),
        None,
        ErrorReporter(),
        check_sandbox=False,
        connector=connector,
    )
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.platform.session is not None, timeout=30000)
    try:
        yield win, seen_roles
    finally:
        win.close()
        embedded.stop()


def _visible(win: MainWindow) -> list[str]:
    return [n for i, n in enumerate(win.side.screens) if not win.sidebar.isRowHidden(i)]


def test_the_role_menu_switches_screens_account_and_store(qtbot, window):
    win, seen_roles = window
    assert _visible(win) == list(ROLE_SCREENS["author"])
    author_store = win.platform.store.path
    actions = win.side.role_button.menu().actions()
    assert [a.text() for a in actions] == ["Act as author", "Act as reviewer", "Act as lab"]

    actions[1].trigger()  # the menu, as a user picks it
    assert _visible(win) == list(ROLE_SCREENS["reviewer"])
    assert win.current_screen() == "queue" and "reviewer" in win.side.role_button.text()
    qtbot.waitUntil(lambda: win.platform.session is not None, timeout=30000)
    assert seen_roles == ["author", "reviewer"]
    assert win.platform.store.path != author_store  # the reviewer keeps their own store
    with qtbot.waitSignal(win.platform.synced, timeout=30000):
        win.platform.sync_now()
    assert win.platform.store.get_meta("me") == "reviewer"

    actions[2].trigger()
    assert _visible(win) == list(ROLE_SCREENS["lab"]) and win.current_screen() == "lab"
    qtbot.waitUntil(lambda: win.platform.session is not None, timeout=30000)
    lab = win._built["lab"]
    qtbot.waitUntil(lambda: lab.table.rowCount() > 0, timeout=10000)  # the local lab's bounties
    assert win.settings.role == "lab"  # remembered for the next start


def test_ctrl_numbers_follow_the_roles_screens(qtbot, window):
    win, _ = window
    win.switch_role("reviewer")
    win._show_nth(1)
    assert win.current_screen() == ROLE_SCREENS["reviewer"][1]
    win._show_nth(9)  # beyond the role's screens: nothing happens
    assert win.current_screen() == ROLE_SCREENS["reviewer"][1]
