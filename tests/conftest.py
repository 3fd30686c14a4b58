"""Suite-wide test setup: every test run gets its own app profile, never the user's; nothing a
test starts may outlive it (support/leak_guard.py); a crash leaves its stacks in a log file."""

from __future__ import annotations

import faulthandler
import os

import pytest

pytest_plugins = ["support.leak_guard"]

# ./run-tests runs pytest with `-p no:faulthandler` and names a log here, so the stacks of a
# crash (a segfault in Qt, say) land in test-artifacts/ next to the junit report.
_faulthandler_log = os.environ.get("GAUNTLET_FAULTHANDLER_LOG")
if _faulthandler_log and not faulthandler.is_enabled():
    faulthandler.enable(open(_faulthandler_log, "a", buffering=1), all_threads=True)  # noqa: SIM115

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# litellm must never try to fetch its price table from the internet during tests.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture(autouse=True, scope="session")
def _local_platform_launcher():
    """What `gauntlet` and the app do at start: hand sync the embedded platform's starter."""
    from app.cli import install_local_platform

    install_local_platform()


@pytest.fixture(autouse=True, scope="session")
def _isolated_profile(tmp_path_factory: pytest.TempPathFactory):
    """Point app.paths at a throwaway GAUNTLET_HOME so tests never touch real user data."""
    previous = os.environ.get("GAUNTLET_HOME")
    os.environ["GAUNTLET_HOME"] = str(tmp_path_factory.mktemp("gauntlet-home"))
    yield
    if previous is None:
        os.environ.pop("GAUNTLET_HOME", None)
    else:
        os.environ["GAUNTLET_HOME"] = previous
