"""Real-window tests on an X server (Xvfb): the app opens on the xcb platform, every main screen
is shown and photographed into test-artifacts/screenshots/ (for people to look at), and a
missing screen is reported in words instead of a Qt abort."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.services import need, xvfb_display

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# What each screenshot must show: the screen the sidebar says is open, and words on it.
EXPECTED_ON_SCREEN = {
    "workspace-welcome": ("workspace", ["Start from a bounty…", "Open an environment folder…"]),
    "bounties": ("bounties", ["15 bounties", "Start environment…", "{title}"]),
    "bounties-no-match": ("bounties", ["No bounty matches these filters", "Clear filters"]),
    "workspace": ("workspace", ["Not ready yet", "How to fix", "GX132", "tasks.jsonl"]),
    "workspace-submit-refused": ("workspace", ["Not submitted: 1 problem to fix first"]),
    "workspace-submitted": ("workspace", ["Submitted to bounty", "as revision 1"]),
    "submissions": ("submissions", ["{title}", "Revision 1", "Being checked by the platform"]),
    "reviews": ("reviews", ["No reviews yet"]),
    "settings": ("settings", ["Platform address", "Run graders in", "Check again"]),
    "notification": ("bounties", ["a demonstration problem", "Your files are safe"]),
}


def _env(tmp_path, **extra) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    env["GAUNTLET_HOME"] = str(tmp_path / "home")
    env.update(extra)
    return env


@pytest.mark.xvfb
@pytest.mark.slow
def test_every_main_screen_on_a_real_window(tmp_path):
    display = xvfb_display()
    need("xvfb", display is not None, "no X server (GAUNTLET_XVFB_DISPLAY unset or unreachable)")
    result = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("screenshot_tour.py")), str(SCREENSHOTS)],
        env=_env(tmp_path, QT_QPA_PLATFORM="xcb", DISPLAY=display),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["exposed"], "the window never appeared on the X server"
    assert seen["bounties"], "no demo bounties arrived from the local platform"
    assert seen["detail"], "the bounty detail pane stayed empty"
    assert seen["workspace_open"], "starting an environment did not open it in the Workspace"
    assert seen["funnel_done"] and seen["verdict"].startswith("Not ready yet"), seen["verdict"]
    assert seen["submit_refused"].startswith("Not submitted:"), seen["submit_refused"]
    assert seen["submitted"] == "Submitted", seen["submitted"]
    assert seen["notifications"] >= 1
    title = seen["detail"].splitlines()[0].strip()
    assert title, seen["detail"]
    for name, (screen, words) in EXPECTED_ON_SCREEN.items():
        shown = seen["screens"][name]
        assert shown["screen"] == screen, f"{name}.png shows the {shown['screen']} screen"
        text = "\n".join(shown["texts"])
        for word in words:
            word = word.format(title=title)
            assert word in text, f"{name}.png does not show {word!r}; it shows:\n{text[:1500]}"
    from PySide6.QtGui import QImage

    for name in EXPECTED_ON_SCREEN:
        image = QImage(str(SCREENSHOTS / f"{name}.png"))
        assert not image.isNull(), f"{name}.png missing"
        assert image.width() >= 1200 and image.height() >= 700
        # Not a blank frame: a real screen has many distinct colours.
        colours = {
            image.pixel(x, y)
            for x in range(0, image.width(), 37)
            for y in range(0, image.height(), 29)
        }
        assert len(colours) > 8, f"{name}.png looks blank"
    assert "Qt abort" not in result.stderr


def test_without_a_screen_the_app_says_so(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("only Linux decides about screens through DISPLAY/WAYLAND_DISPLAY")
    result = subprocess.run(
        [sys.executable, "-m", "app", "studio"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "No screen is available" in result.stderr
    assert "hint" in result.stderr and "gauntlet --help" in result.stderr
    assert "Traceback" not in result.stderr and "Aborted" not in result.stderr


@pytest.mark.slow
def test_smoke_test_builds_the_window_with_demo_data_and_exits_zero(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "app", "studio", "--smoke-test"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "smoke test: ok" in result.stdout
    assert "demo bounties" in result.stdout
    assert not (tmp_path / "home").exists()  # the smoke test used a temporary profile
