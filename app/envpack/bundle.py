"""Bundles: a deterministic, content-addressed archive of a package, and a safe unpack.

A bundle is a gzip-compressed tar whose first entry, `gauntlet-bundle.json`, lists every file
with its sha256 and size, and the digest of the whole package. Entries are sorted and their
metadata normalised (mode 0644, owner 0, time 0), so the same package always gives the same
bytes. The digest depends only on paths and contents: `package_digest(folder)` equals the
digest of its bundle, and is what the platform uses to name a submission.

Unpacking trusts nothing in the archive: it refuses absolute paths, `..`, links, devices,
duplicate names, more files or bytes than a package may hold (checked while decompressing, so
a small archive that inflates to gigabytes is stopped early), and files whose hash does not
match the manifest. It extracts into a temporary folder and moves it into place only when all
is well, so a refused bundle leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.atomic import write_bytes_atomic
from app.envpack.limits import MAX_FILE_BYTES, MAX_FILES, MAX_PACKAGE_BYTES
from app.envpack.provenance import mark_foreign
from app.envpack.source import normalize_relpath
from app.envpack.walk import Entry, package_entries
from app.errors import UserError

BUNDLE_FORMAT = "gauntlet-bundle/1"
MANIFEST_NAME = "gauntlet-bundle.json"
_CHUNK = 1024 * 1024
# tar headers and padding: at most a few KiB per file on top of the contents
_STREAM_ALLOWANCE = MAX_PACKAGE_BYTES + (MAX_FILES + 2) * 4096 + 1024 * 1024


@dataclass(frozen=True, slots=True)
class BundleInfo:
    path: Path
    digest: str
    files: dict[str, str]  # relative path -> sha256 hex
    size: int = 0  # bytes of the archive (bundle) or of all files (unbundle)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_manifest(root: str | os.PathLike[str]) -> dict[str, str]:
    """Every package file (sorted relative posix path) -> sha256 hex of its bytes.

    Symbolic links and special files are left out (the structural checks report them);
    tool droppings (.git, __pycache__...) are not part of a package.
    """
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root} is not a folder.", "Give the path of the package folder.")
    return {e.path: _sha256_file(root / e.path) for e in package_entries(root) if e.kind == "file"}


def digest_of(files: dict[str, str]) -> str:
    """The digest of a package from its file manifest: sha256 over sorted "hash  path" lines."""
    lines = "".join(f"{files[path]}  {path}\n" for path in sorted(files))
    return "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()


def package_digest(root: str | os.PathLike[str]) -> str:
    return digest_of(file_manifest(root))


# -- pack ----------------------------------------------------------------------------------


def _tarinfo(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def bundle_bytes(root: str | os.PathLike[str]) -> tuple[bytes, str, dict[str, str]]:
    """The bundle of the package at `root` as bytes, with its digest and file manifest."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root} is not a folder.", "Give the path of the package folder.")
    entries = package_entries(root)
    _refuse_unbundlable(root, entries)
    try:
        contents = {e.path: (root / e.path).read_bytes() for e in entries}
    except OSError as exc:
        raise UserError(
            f"Cannot read {exc.filename}: {exc.strerror or exc}.", "Check the file's permissions."
        ) from None
    files = {path: hashlib.sha256(data).hexdigest() for path, data in contents.items()}
    digest = digest_of(files)
    manifest = {
        "format": BUNDLE_FORMAT,
        "digest": digest,
        "files": {
            path: {"sha256": files[path], "size": len(contents[path])} for path in sorted(files)
        },
    }
    manifest_bytes = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8")
    return _tar_gz(manifest_bytes, contents), digest, files


def _refuse_unbundlable(root: Path, entries: list[Entry]) -> None:
    """Raise when the package cannot be bundled: links, no env.toml, the reserved manifest
    name, too many or too large files."""
    links = [e.path for e in entries if e.kind != "file"]
    if links:
        raise UserError(
            f'"{links[0]}" is a link or special file; a bundle holds regular files only.',
            "Replace links with real files (run `gauntlet check` to see all of them).",
            where=str(root),
        )
    if not (root / "env.toml").is_file():
        raise UserError(
            f"{root} has no env.toml, so it is not an environment package.",
            "Bundle the package folder itself (the one holding env.toml).",
        )
    if any(e.path == MANIFEST_NAME for e in entries):
        raise UserError(
            f"The package contains a file named {MANIFEST_NAME}, a name bundles reserve.",
            "Rename or remove that file.",
        )
    if len(entries) > MAX_FILES:
        raise UserError(
            f"The package has {len(entries)} files; a bundle holds at most {MAX_FILES}.",
            "Remove generated or downloaded files from the package folder.",
        )
    total = sum(e.size for e in entries)
    big = next((e for e in entries if e.size > MAX_FILE_BYTES), None)
    if big or total > MAX_PACKAGE_BYTES:
        what = f'"{big.path}" is too large' if big else "the package is too large"
        raise UserError(
            f"Cannot bundle: {what} (limits: {MAX_FILE_BYTES // 2**20} MB per file, "
            f"{MAX_PACKAGE_BYTES // 2**20} MB in all).",
            "Remove large data files from the package.",
        )


def _tar_gz(manifest_bytes: bytes, contents: dict[str, bytes]) -> bytes:
    """The manifest first, then the files in path order; no times or owners, so the same
    package always gives the same bytes."""
    raw = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        tar.addfile(_tarinfo(MANIFEST_NAME, len(manifest_bytes)), io.BytesIO(manifest_bytes))
        for path in sorted(contents):
            tar.addfile(_tarinfo(path, len(contents[path])), io.BytesIO(contents[path]))
    return raw.getvalue()


def bundle_package(root: str | os.PathLike[str], output: str | os.PathLike[str]) -> BundleInfo:
    """Write the bundle of the package at `root` to `output` (atomically)."""
    root, output = Path(root), Path(output)
    with contextlib.suppress(OSError, ValueError):
        if output.resolve().is_relative_to(root.resolve()):
            raise UserError(
                f"{output} is inside the package folder it bundles.",
                "Write the bundle somewhere else, e.g. next to the package folder.",
            )
    data, digest, files = bundle_bytes(root)
    try:
        write_bytes_atomic(output, data)
    except OSError as exc:
        raise UserError(
            f"Cannot write {output}: {exc.strerror or exc}.",
            "Check the folder exists and is writable.",
        ) from exc
    return BundleInfo(output, digest, files, len(data))


# -- unpack --------------------------------------------------------------------------------


class _BundleRefused(Exception):
    pass


class _LimitedReader(io.RawIOBase):
    """Reads the decompressed stream, refusing to inflate past what a package may hold."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.stream.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise _BundleRefused(
                f"it inflates to more than {self.limit // 2**20} MB (a compression bomb?)"
            )
        buffer[: len(data)] = data
        return len(data)


def unbundle(bundle: str | os.PathLike[str], dest: str | os.PathLike[str]) -> BundleInfo:
    """Safely unpack `bundle` into `dest` (which must not exist or be an empty folder)."""
    bundle, dest = Path(bundle), Path(dest)
    if not bundle.is_file():
        raise UserError(
            f"{bundle} does not exist or is not a file.", "Give the path of a .gauntlet bundle."
        )
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UserError(
            f"{dest} already exists and is not empty.",
            "Unbundle into a new folder, or empty this one first.",
        )
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.unbundle-", dir=dest.parent))
    except OSError as exc:
        raise UserError(
            f"Cannot create {dest}: {exc.strerror or exc}.", "Check the folder is writable."
        ) from None
    try:
        files, digest, size = _extract(bundle, staging)
        try:
            if dest.exists():
                dest.rmdir()
            os.replace(staging, dest)
        except OSError as exc:
            raise UserError(
                f"Cannot create {dest}: {exc.strerror or exc}.", "Check the folder is writable."
            ) from None
    except _BundleRefused as exc:
        raise UserError(
            f"Refused to unpack {bundle.name}: {exc}.",
            "Only unpack bundles made by `gauntlet bundle`; ask the sender for a fresh copy.",
            where=str(bundle),
        ) from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    mark_foreign(dest)  # a bundle is someone else's package until proven otherwise
    return BundleInfo(dest, digest, files, size)


def _extract(bundle: Path, staging: Path) -> tuple[dict[str, str], str, int]:
    try:
        with bundle.open("rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            limited = io.BufferedReader(_LimitedReader(gz, _STREAM_ALLOWANCE), buffer_size=_CHUNK)
            with tarfile.open(fileobj=limited, mode="r|") as tar:
                return _extract_members(tar, staging)
    except _BundleRefused:
        raise
    except (
        tarfile.TarError,
        EOFError,
        zlib.error,
        gzip.BadGzipFile,
        OSError,
        ValueError,
        UnicodeError,
    ) as exc:
        raise _BundleRefused(
            f"it is not a readable Gauntlet bundle ({type(exc).__name__}: {exc})"
        ) from None


def _extract_members(tar: tarfile.TarFile, staging: Path) -> tuple[dict[str, str], str, int]:
    """Write each member the manifest (the first member) declares; (path -> sha256, digest,
    total bytes) once every file matches the manifest."""
    manifest: dict | None = None
    written: dict[str, str] = {}
    total = 0
    for count, member in enumerate(tar, 1):
        if count > MAX_FILES + 1:
            raise _BundleRefused(f"it holds more than {MAX_FILES} files")
        if manifest is None:
            if member.name != MANIFEST_NAME or not member.isfile():
                raise _BundleRefused(
                    f"it does not start with {MANIFEST_NAME}, so it is not a Gauntlet bundle"
                )
            manifest = _read_manifest(tar, member)
            if len(manifest["files"]) > MAX_FILES:
                raise _BundleRefused(f"it lists more than {MAX_FILES} files")
            continue
        rel = _member_path(member, manifest, written)
        if rel is None:
            continue  # a folder: created as its files land
        total += member.size
        if total > MAX_PACKAGE_BYTES:
            raise _BundleRefused(f"its files add up to more than {MAX_PACKAGE_BYTES // 2**20} MB")
        written[rel] = _write_member(tar, member, staging / rel, staging)
    if manifest is None:
        raise _BundleRefused("it is empty")
    return written, _verified_digest(manifest, written), total


def _member_path(member: tarfile.TarInfo, manifest: dict, written: dict[str, str]) -> str | None:
    """The package path a member lands at (None for a folder), once it is a regular file the
    manifest declares with this size, inside the destination, written once and not too large."""
    name = member.name
    if member.isdir():
        if normalize_relpath(name) is None:
            raise _BundleRefused(f'the folder "{name}" would land outside the destination')
        return None
    if member.issym() or member.islnk():
        raise _BundleRefused(
            f'"{name}" is a link (to "{member.linkname}"); bundles hold regular files only'
        )
    if not member.isfile() or member.issparse():
        raise _BundleRefused(f'"{name}" is not a regular file')
    rel = normalize_relpath(name)
    if rel is None:
        raise _BundleRefused(f'the path "{name}" would land outside the destination')
    if rel in written or rel == MANIFEST_NAME:
        raise _BundleRefused(f'"{rel}" appears twice')
    listed = manifest["files"].get(rel)
    if listed is None:
        raise _BundleRefused(f'"{rel}" is not in the list of files the bundle declares')
    if listed.get("size") != member.size:
        raise _BundleRefused(f'"{rel}" does not have the size the bundle declares')
    if member.size > MAX_FILE_BYTES:
        raise _BundleRefused(
            f'"{rel}" is {member.size // 2**20} MB; '
            f"a package file may hold {MAX_FILE_BYTES // 2**20} MB"
        )
    return rel


def _verified_digest(manifest: dict, written: dict[str, str]) -> str:
    """The package digest, once the files written are exactly those declared, with their
    recorded sha256 and digest."""
    expected = {path: entry["sha256"] for path, entry in manifest["files"].items()}
    missing = sorted(set(expected) - set(written))
    extra = sorted(set(written) - set(expected))
    if missing or extra:
        raise _BundleRefused(
            f'its file list does not match its contents ("{(missing or extra)[0]}")'
        )
    damaged = [path for path in sorted(expected) if expected[path] != written[path]]
    if damaged:
        raise _BundleRefused(
            f'"{damaged[0]}" does not match its recorded '
            "sha256 (the bundle is damaged or was altered)"
        )
    digest = digest_of(written)
    if manifest.get("digest") != digest:
        raise _BundleRefused("its recorded digest does not match its contents")
    return digest


def _read_manifest(tar: tarfile.TarFile, member: tarfile.TarInfo) -> dict:
    if member.size > 8 * 2**20:
        raise _BundleRefused(f"{MANIFEST_NAME} is implausibly large")
    handle = tar.extractfile(member)
    try:
        data = json.loads(handle.read().decode("utf-8")) if handle else None
    except (ValueError, UnicodeDecodeError):
        data = None
    files = data.get("files") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("format") != BUNDLE_FORMAT
        or not isinstance(files, dict)
        or not all(isinstance(v, dict) and isinstance(v.get("sha256"), str) for v in files.values())
    ):
        raise _BundleRefused(f"{MANIFEST_NAME} is not a {BUNDLE_FORMAT} manifest")
    return data


def _write_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, staging: Path
) -> str:
    # the parent folders are created by us, inside staging; nothing in the archive can be a link
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.parent.resolve().is_relative_to(staging.resolve()):
        raise _BundleRefused(f'"{member.name}" would land outside the destination')
    handle = tar.extractfile(member)
    digest = hashlib.sha256()
    remaining = member.size
    with open(target, "xb") as out:
        while remaining > 0 and handle is not None:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                raise _BundleRefused(f'"{member.name}" is cut short (the bundle is truncated)')
            remaining -= len(chunk)
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()
