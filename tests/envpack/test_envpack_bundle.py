"""Bundles: deterministic and content-addressed; unpacking refuses anything unsafe."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from app.envpack.bundle import (
    BUNDLE_FORMAT,
    MANIFEST_NAME,
    bundle_bytes,
    bundle_package,
    digest_of,
    file_manifest,
    package_digest,
    unbundle,
)
from app.envpack.limits import MAX_FILE_BYTES, MAX_FILES
from app.envpack.templates import create_from_template
from app.errors import UserError


def _tree(root: Path) -> dict[str, bytes]:
    """Every file of the package; `.gauntlet/` is this machine's own record (the provenance
    token) and by design never travels in a bundle."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != ".gauntlet"
    }


@pytest.mark.parametrize("template", ["qa-python", "code-tests", "qa-judge"])
def test_round_trip_is_byte_identical(tmp_path: Path, template: str) -> None:
    source = create_from_template(template, tmp_path / "src")
    (source / "environment").mkdir()
    (source / "environment" / "Dockerfile").write_text("FROM python:3.12-slim\n")
    info = bundle_package(source, tmp_path / "pack.gauntlet")
    out = unbundle(tmp_path / "pack.gauntlet", tmp_path / "out")
    assert _tree(tmp_path / "out") == _tree(source)
    assert (source / ".gauntlet" / "origin").is_file()
    assert not (tmp_path / "out" / ".gauntlet").exists()  # the origin token never travels
    assert info.digest == out.digest == package_digest(source) == package_digest(tmp_path / "out")
    assert out.files == file_manifest(source)


def test_bundles_are_deterministic(tmp_path: Path) -> None:
    a = create_from_template("qa-exact", tmp_path / "a", package_name="acme/x")
    b = create_from_template("qa-exact", tmp_path / "b", package_name="acme/x")
    os.utime(b / "tasks.jsonl", (1, 1))
    os.chmod(b / "README.md", 0o600)
    (b / "__pycache__").mkdir()
    (b / "__pycache__" / "junk.pyc").write_bytes(b"junk")
    (b / ".DS_Store").write_bytes(b"junk")
    assert bundle_bytes(a)[0] == bundle_bytes(b)[0]
    (b / "tasks.jsonl").write_text((b / "tasks.jsonl").read_text() + "\n")
    assert bundle_bytes(a)[1] != bundle_bytes(b)[1]


def test_digest_is_of_paths_and_contents(tmp_path: Path) -> None:
    files = {"a.txt": "0" * 64, "b/c.txt": "1" * 64}
    assert digest_of(files) == digest_of(dict(reversed(list(files.items()))))
    assert digest_of(files).startswith("sha256:")
    assert digest_of(files) != digest_of({"a.txt": "0" * 64, "b/d.txt": "1" * 64})


def test_bundling_refuses_links(tmp_path: Path) -> None:
    source = create_from_template("qa-exact", tmp_path / "src")
    os.symlink("/etc/passwd", source / "secrets.txt")
    with pytest.raises(UserError, match="link"):
        bundle_package(source, tmp_path / "x.gauntlet")
    assert not (tmp_path / "x.gauntlet").exists()


def test_bundle_written_inside_the_package_is_refused(tmp_path: Path) -> None:
    source = create_from_template("qa-exact", tmp_path / "src")
    with pytest.raises(UserError, match="inside the package"):
        bundle_package(source, source / "me.gauntlet")


# -- crafted hostile archives ------------------------------------------------------------------


def _manifest(files: dict[str, bytes]) -> bytes:
    import hashlib

    hashes = {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    return json.dumps(
        {
            "format": BUNDLE_FORMAT,
            "digest": digest_of(hashes),
            "files": {k: {"sha256": h, "size": len(files[k])} for k, h in hashes.items()},
        }
    ).encode()


def _craft(
    path: Path,
    members: list[tarfile.TarInfo | tuple[str, bytes]],
    manifest: dict[str, bytes] | None = None,
) -> Path:
    with (
        gzip.open(path, "wb") as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        if manifest is not None:
            data = _manifest(manifest)
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for member in members:
            if isinstance(member, tuple):
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(member)
    return path


def _link(name: str, target: str, kind=tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([("../evil.txt", b"x")], "outside the destination"),
        ([("a/../../evil.txt", b"x")], "outside the destination"),
        ([("/tmp/evil.txt", b"x")], "outside the destination"),
        ([_link("env.toml", "/etc/passwd")], "is a link"),
        ([_link("up", "../..")], "is a link"),
        ([_link("hard", "/etc/passwd", tarfile.LNKTYPE)], "is a link"),
        ([("env.toml", b"a"), ("env.toml", b"b")], "appears twice"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink-out", "dir-link", "hardlink", "duplicate"],
)
def test_unsafe_archives_are_refused(tmp_path: Path, members, message: str) -> None:
    bundle = _craft(tmp_path / "evil.gauntlet", members, manifest={"env.toml": b"a"})
    with pytest.raises(UserError, match=message):
        unbundle(bundle, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["evil.gauntlet"]  # no staging folder left


def test_a_size_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.gauntlet"
    size = MAX_FILE_BYTES + 1
    with gzip.open(bomb, "wb", compresslevel=9) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        data = json.dumps(
            {
                "format": BUNDLE_FORMAT,
                "digest": "sha256:" + "0" * 64,
                "files": {"data.txt": {"sha256": "0" * 64, "size": size}},
            }
        ).encode()
        info = tarfile.TarInfo(MANIFEST_NAME)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("data.txt")
        info.size = size

        class Zeros(io.RawIOBase):
            left = size

            def readable(self):
                return True

            def readinto(self, buffer):
                n = min(len(buffer), self.left)
                buffer[:n] = b"\0" * n
                self.left -= n
                return n

        tar.addfile(info, io.BufferedReader(Zeros()))
    assert bomb.stat().st_size < MAX_FILE_BYTES // 100  # tiny on disk
    with pytest.raises(UserError, match="MB"):
        unbundle(bomb, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_files_adding_up_past_the_package_limit_are_refused(tmp_path: Path) -> None:
    from app.envpack.limits import MAX_PACKAGE_BYTES

    chunk = MAX_FILE_BYTES - 1
    count = MAX_PACKAGE_BYTES // chunk + 1
    bomb = tmp_path / "wide.gauntlet"
    zeros = b"\0" * chunk
    with gzip.open(bomb, "wb", compresslevel=1) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        data = _manifest({f"part{i}.bin": zeros for i in range(count)})
        info = tarfile.TarInfo(MANIFEST_NAME)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for i in range(count):
            info = tarfile.TarInfo(f"part{i}.bin")
            info.size = chunk
            tar.addfile(info, io.BytesIO(zeros))
    with pytest.raises(UserError, match="add up to more than"):
        unbundle(bomb, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_file_count_bomb_is_refused(tmp_path: Path) -> None:
    files = {f"f{i}.txt": b"" for i in range(MAX_FILES + 5)}
    bundle = _craft(tmp_path / "many.gauntlet", [], manifest=files)
    with pytest.raises(UserError, match=f"more than {MAX_FILES} files"):
        unbundle(bundle, tmp_path / "out")


def test_an_entry_count_bomb_is_refused(tmp_path: Path) -> None:
    folders = []
    for i in range(MAX_FILES + 5):
        info = tarfile.TarInfo(f"d{i}")
        info.type = tarfile.DIRTYPE
        folders.append(info)
    bundle = _craft(tmp_path / "dirs.gauntlet", folders, manifest={"env.toml": b""})
    with pytest.raises(UserError, match="more than"):
        unbundle(bundle, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_undeclared_files_are_refused(tmp_path: Path) -> None:
    bundle = _craft(
        tmp_path / "extra.gauntlet",
        [("env.toml", b"a"), ("payload.py", b"x")],
        manifest={"env.toml": b"a"},
    )
    with pytest.raises(UserError, match="not in the list"):
        unbundle(bundle, tmp_path / "out")


def test_tampered_content_is_refused(tmp_path: Path) -> None:
    bundle = _craft(
        tmp_path / "t.gauntlet", [("env.toml", b"originaX")], manifest={"env.toml": b"original"}
    )
    with pytest.raises(UserError, match="does not match"):
        unbundle(bundle, tmp_path / "out")


@pytest.mark.parametrize(
    "content",
    [b"", b"not a bundle", gzip.compress(b"not a tar" * 100)],
    ids=["empty", "text", "gzip-not-tar"],
)
def test_garbage_is_refused_clearly(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.gauntlet"
    path.write_bytes(content)
    with pytest.raises(UserError) as caught:
        unbundle(path, tmp_path / "out")
    assert caught.value.hint


def test_truncated_bundle_is_refused(tmp_path: Path) -> None:
    source = create_from_template("qa-exact", tmp_path / "src")
    data = bundle_bytes(source)[0]
    (tmp_path / "cut.gauntlet").write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError):
        unbundle(tmp_path / "cut.gauntlet", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_archive_without_manifest_is_refused(tmp_path: Path) -> None:
    bundle = _craft(tmp_path / "plain.gauntlet", [("env.toml", b"x")])
    with pytest.raises(UserError, match="not a Gauntlet bundle"):
        unbundle(bundle, tmp_path / "out")


def test_unbundle_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    source = create_from_template("qa-exact", tmp_path / "src")
    bundle_package(source, tmp_path / "p.gauntlet")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        unbundle(tmp_path / "p.gauntlet", tmp_path / "out")
    assert (tmp_path / "out" / "mine.txt").read_text() == "mine"


def test_file_manifest_skips_droppings_and_links(tmp_path: Path) -> None:
    source = create_from_template("qa-exact", tmp_path / "src")
    (source / ".git").mkdir()
    (source / ".git" / "HEAD").write_text("ref")
    os.symlink("README.md", source / "link.md")
    manifest = file_manifest(source)
    assert set(manifest) == {
        "README.md",
        "env.toml",
        "negatives.jsonl",
        "solutions.jsonl",
        "tasks.jsonl",
    }
    assert all(len(h) == 64 for h in manifest.values())
