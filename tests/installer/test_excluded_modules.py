"""The installer leaves modules out (installer/bundle_excludes.py: Qt modules the app does not use,
development tools, litellm's AWS providers and proxy). If the app ever imported one at run time,
the frozen app would fail with ImportError where the source checkout works. So: run the app's
real work from this checkout, in a fresh interpreter, and fail if any excluded module ended up
imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.fake_llm import ScriptedLLMServer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "installer"))
from bundle_excludes import EXCLUDED_MODULES  # noqa: E402

# What the app does in a session: build the window and visit every screen (the smoke test),
# create, check and verify a package, start the embedded platform, import every module of
# app/ (sub-commands are found at run time), and load litellm as the red team does.
SCRIPT = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys, tempfile
    from pathlib import Path

    import app
    from app.cli import main

    for info in pkgutil.walk_packages(app.__path__, "app."):
        if ".migrations" not in info.name:  # Alembic runs those from their files
            importlib.import_module(info.name)
    codes = {"smoke": main(["studio", "--smoke-test"])}
    folder = Path(tempfile.mkdtemp()) / "pkg"
    codes["new"] = main(["new", str(folder), "--template", "qa-numeric"])
    codes["check"] = main(["check", str(folder)])
    codes["verify"] = main(["verify", str(folder), "--backend", "process"])
    codes["bounties"] = main(["bounties"])
    from app.llm import complete  # the red team's and the judge's way to a model
    reply = complete([{"role": "user", "content": "hi"}], model="openai/scripted",
                     api_base=sys.argv[1], api_key="test")
    codes["llm"] = 0 if reply.text == "hello" else 1
    print(json.dumps({"codes": codes, "modules": sorted(sys.modules)}))
    """
)


@pytest.mark.slow
def test_no_excluded_module_is_imported_at_run_time(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QT_QPA_PLATFORM": "offscreen",
        "GAUNTLET_HOME": str(tmp_path / "home"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    with ScriptedLLMServer(["hello"]) as llm:
        completed = subprocess.run(
            [sys.executable, "-c", SCRIPT, llm.url],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=600,
        )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["codes"] == {
        "smoke": 0,
        "new": 0,
        "check": 0,
        "verify": 0,
        "bounties": 0,
        "llm": 0,
    }, completed.stderr[-3000:]
    imported = [
        name
        for name in result["modules"]
        if any(name == m or name.startswith(m + ".") for m in EXCLUDED_MODULES)
    ]
    assert not imported, (
        f"excluded from the installer bundle but imported at run time: {imported}; "
        "remove them from installer/bundle_excludes.py or stop importing them"
    )
