"""Agentic packages and Harbor: a Harbor dataset imports as an agentic package and exports back
byte for byte (modes included); our agentic templates export as runnable Harbor tasks; what an
agentic package cannot hold is refused by name, with nothing written."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from support.file_trees import tree_listing
from support.interop_checks import errors_of

from app.cli import main
from app.envpack.interop import export_harbor, import_harbor
from app.envpack.interop.harbor_agentic_import import AgenticImport
from app.envpack.interop.pack_io import PackHasErrors
from app.envpack.loader import load_envpack
from app.envpack.templates import create_from_template
from app.errors import UserError

TASK_TOML = """\
# a Harbor task, written by hand: comments and key order must survive
schema_version = "1.1"

[task]
name = "lab/{name}"
description = "Fix the {name} service"
authors = [{{ name = "Grace Hopper", email = "grace@example.org" }}]

[metadata]
difficulty = "medium"

[verifier]
timeout_sec = 90.0

[agent]
timeout_sec = 900.0

[environment]
build_timeout_sec = 600.0
cpus = 2
memory = "1G"
storage_mb = 4096
"""


def harbor_task(root: Path, name: str, **extra: str | bytes) -> Path:
    folder = root / name
    files: dict[str, str | bytes] = {
        "task.toml": TASK_TOML.format(name=name),
        "instruction.md": f"Make `{name}` print 42 to /app/out.txt.\n",
        "environment/Dockerfile": "FROM ubuntu:24.04\nWORKDIR /app\nCOPY app.cfg /app/\n",
        "environment/app.cfg": "answer = 41\r\n",  # CRLF kept as it is
        "solution/solve.sh": "#!/bin/bash\nset -e\nsed -i 's/41/42/' /app/app.cfg\n"
        "echo 42 > /app/out.txt\n",
        "tests/test.sh": (
            "#!/bin/bash\nmkdir -p /logs/verifier\npytest /tests/test_out.py "
            "&& echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n"
        ),
        "tests/test_out.py": "def test_out():\n    assert open('/app/out.txt').read() == '42\\n'\n",
        **extra,
    }
    for rel, content in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    (folder / "solution" / "solve.sh").chmod(0o755)
    (folder / "tests" / "test.sh").chmod(0o750)
    (folder / "tests" / "test_out.py").chmod(0o600)
    return folder


def dataset(tmp_path: Path, readme: bool = True) -> Path:
    src = tmp_path / "harbor-set"
    harbor_task(src, "fix-api")
    harbor_task(src, "fix-db", **{"tests/fixtures/empty.txt": "", "solution/notes.md": "why\n"})
    (src / "fix-db" / "environment" / "cache").mkdir()  # an empty folder comes back too
    if readme:
        (src / "README.md").write_text("# Services\n\nTwo broken services.\n")
    return src


@pytest.mark.parametrize("readme", [True, False])
def test_harbor_dataset_round_trips_byte_for_byte_with_modes(tmp_path: Path, readme) -> None:
    src = dataset(tmp_path, readme)
    imported = import_harbor(src, tmp_path / "pack")
    assert isinstance(imported, AgenticImport) and imported.task_ids == ["fix-api", "fix-db"]
    pack = load_envpack(tmp_path / "pack").pack
    assert pack.is_agentic and [t.id for t in pack.agentic_tasks] == ["fix-api", "fix-db"]
    manifest = pack.manifest
    assert (manifest.agent.timeout_s, manifest.verifier.timeout_s) == (900.0, 90.0)
    assert (manifest.sandbox.cpus, manifest.sandbox.memory_mb, manifest.sandbox.disk_mb) == (
        2.0,
        1024,
        4096,
    )
    assert manifest.verifier.mode == "shared"  # as Harbor runs it; GX168 says so
    # only the image checks (it is FROM ubuntu, not the sandbox image) are errors
    assert {f.code for f in errors_of(tmp_path / "pack")} == {"GX126"}

    names = export_harbor(tmp_path / "pack", tmp_path / "back", runtime=None)
    assert names == ["fix-api", "fix-db"]
    assert tree_listing(tmp_path / "back") == tree_listing(src)


def test_a_single_task_folder_round_trips(tmp_path: Path) -> None:
    src = harbor_task(tmp_path / "one", "fix-api")
    import_harbor(src, tmp_path / "pack", kind="agentic")
    assert (tmp_path / "pack" / "README.md").read_text().strip()  # written for the reviewer
    export_harbor(tmp_path / "pack", tmp_path / "back", runtime=None)
    assert tree_listing(tmp_path / "back") == {
        f"fix-api/{rel}" if rel else "fix-api": entry for rel, entry in tree_listing(src).items()
    } | {"fix-api": ("dir", None, 0)}


def test_auto_picks_qa_for_plain_answers_and_agentic_otherwise(tmp_path: Path) -> None:
    src = tmp_path / "plain"
    harbor_task(src, "two", **{"solution/solve.sh": "echo 2 > /app/answer.txt\n"})
    assert load_envpack(_imported(src, tmp_path / "qa")).pack.manifest.kind == "qa"
    assert load_envpack(_imported(dataset(tmp_path), tmp_path / "ag")).pack.is_agentic
    forced = tmp_path / "forced"
    import_harbor(src, forced, kind="agentic")
    assert load_envpack(forced).pack.is_agentic


def _imported(src: Path, dest: Path) -> Path:
    import_harbor(src, dest)
    return dest


STEPS_TOML = TASK_TOML.format(name="x") + "[[steps]]\nname = 'a'\n"
WINDOWS_TOML = 'schema_version = "1.1"\n[environment]\nos = "windows"\n'


@pytest.mark.parametrize(
    ("extra", "named", "says"),
    [
        ({"environment/docker-compose.yaml": "services: {}\n"}, "docker-compose.yaml", "several"),
        ({"steps/1/instruction.md": "step one\n"}, "steps", "multi-step"),
        ({"task.toml": STEPS_TOML}, "task.toml", "multi-step"),
        ({"task.toml": WINDOWS_TOML}, "task.toml", "Linux"),
        ({"task.toml": "schema_version = [\n"}, "task.toml", "cannot be read"),
    ],
)  # fmt: skip
def test_what_cannot_be_represented_is_refused_by_file(tmp_path, extra, named, says) -> None:
    src = tmp_path / "set"
    harbor_task(src, "fine")
    harbor_task(src, "odd", **extra)
    with pytest.raises(UserError, match=says) as caught:
        import_harbor(src, tmp_path / "pack", kind="agentic")
    assert 'Task "odd"' in caught.value.message
    assert caught.value.where and caught.value.where.endswith(named)
    assert caught.value.hint
    assert not (tmp_path / "pack").exists()


@pytest.mark.parametrize("missing", ["environment/Dockerfile", "solution/solve.sh"])
def test_a_task_without_dockerfile_or_oracle_is_refused(tmp_path: Path, missing: str) -> None:
    src = harbor_task(tmp_path / "set", "fix-api")
    (src / missing).unlink()
    with pytest.raises(UserError, match=f"it has no {missing}") as caught:
        import_harbor(src, tmp_path / "pack")  # auto: not a qa task either
    assert "question-answer" in caught.value.hint
    assert not (tmp_path / "pack").exists()


def test_stray_files_in_a_dataset_and_links_anywhere_are_refused(tmp_path: Path) -> None:
    src = dataset(tmp_path)
    (src / "registry.json").write_text("{}")
    with pytest.raises(UserError, match="registry.json .* neither a task folder"):
        import_harbor(src, tmp_path / "pack", kind="agentic")
    (src / "registry.json").unlink()
    (src / "fix-api" / "environment" / "secret").symlink_to("/etc/hostname")
    with pytest.raises(UserError, match="symbolic link"):
        import_harbor(src, tmp_path / "pack", kind="agentic")
    assert not (tmp_path / "pack").exists()


@pytest.mark.parametrize("name", ["agentic-data", "agentic-bugfix"])
def test_templates_export_as_harbor_tasks_that_build_outside_the_sandbox(name, tmp_path) -> None:
    pack_root = create_from_template(name, tmp_path / name)
    out = tmp_path / "harbor"
    names = export_harbor(pack_root, out, runtime=None)
    pack = load_envpack(pack_root).pack
    assert names == [t.id for t in pack.agentic_tasks]
    for task in pack.agentic_tasks:
        folder = out / task.id
        config = tomllib.loads((folder / "task.toml").read_text())
        assert config["task"]["name"].endswith(f".{task.id}")
        assert config["agent"]["timeout_sec"] == 600.0
        assert config["environment"]["storage_mb"] == 256
        dockerfile = (folder / "environment" / "Dockerfile").read_text()
        assert "ARG GAUNTLET_BASE=python:3.12-slim\n" in dockerfile
        for rel in ("solution/solve.sh", "tests/test.sh"):
            assert (folder / rel).read_bytes() == (pack_root / task.path(rel)).read_bytes()
            assert (folder / rel).stat().st_mode & stat.S_IXUSR
        assert not (folder / "environment" / "tests").exists()
    assert (out / "README.md").read_text() == (pack_root / "README.md").read_text()
    # and back: an agentic package again, clean under its own checks
    import_harbor(out, tmp_path / "again")
    assert errors_of(tmp_path / "again") == []


def test_an_agentic_package_with_errors_is_not_exported(tmp_path: Path) -> None:
    pack_root = create_from_template("agentic-data", tmp_path / "p")
    (pack_root / "tasks" / "qc-report" / "tests" / "test.sh").unlink()
    with pytest.raises(PackHasErrors, match="GX163"):
        export_harbor(pack_root, tmp_path / "out", runtime=None)
    assert not (tmp_path / "out").exists()


def test_cli_imports_and_exports_agentic_tasks(tmp_path: Path, capsys) -> None:
    src = dataset(tmp_path)
    assert main(["import", str(src), "--from", "harbor", "-o", str(tmp_path / "p")]) == 0
    assert "(2 agentic task(s))" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "p"), "--to", "harbor", "-o", str(tmp_path / "o")]) == 0
    assert "Wrote 2 Harbor task folder(s)" in capsys.readouterr().out
    assert tree_listing(tmp_path / "o") == tree_listing(src)
    code = main(
        ["import", str(src), "--from", "verifiers", "--kind", "qa", "-o", str(tmp_path / "v")]
    )
    assert code == 2 and "--kind applies to Harbor" in capsys.readouterr().err
