"""The per-batch package snapshot: the sandbox can read it, other users of the machine cannot,
and it holds exactly the package (what the package walk ignores is never copied)."""

from __future__ import annotations

import os
import stat

from app.sandbox.snapshot import package_snapshot


def _package(root):
    (root / "data").mkdir(parents=True)
    (root / "env.toml").write_text('format = "gauntlet/1"\n')
    (root / "data" / "tasks.jsonl").write_text("{}\n")
    for ignored in ("node_modules/left-pad", ".venv/lib", ".git/objects", "__pycache__"):
        (root / ignored).mkdir(parents=True)
        (root / ignored / "secret.txt").write_text("should never reach the sandbox\n")
    (root / "link-to-home").symlink_to(os.path.expanduser("~"))
    os.chmod(root / "data", 0o700)  # the author's own modes do not matter to the sandbox
    return root


def test_the_package_snapshot_is_private_to_this_user_and_readable_inside(tmp_path):
    package = _package(tmp_path / "pack")
    with package_snapshot(package) as copy:
        holder = copy.parent
        assert stat.S_IMODE(holder.stat().st_mode) == 0o700  # other users cannot walk into it
        assert stat.S_IMODE((copy / "data").stat().st_mode) == 0o755
        assert stat.S_IMODE((copy / "data" / "tasks.jsonl").stat().st_mode) == 0o644
    assert not holder.exists()  # removed after the batch


def test_the_package_snapshot_skips_what_the_package_walk_ignores_and_links(tmp_path):
    package = _package(tmp_path / "pack")
    with package_snapshot(package) as copy:
        copied = sorted(
            str(p.relative_to(copy)) for p in copy.rglob("*") if not p.is_dir() or p.is_symlink()
        )
    assert copied == ["data/tasks.jsonl", "env.toml"]
