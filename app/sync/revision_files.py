"""One revision of a submission as files a reviewer can read: its blobs fetched from the
platform (only those the local blob cache lacks, each hash verified) and written once into a
read-only checkout folder, per submission and revision, under the user data directory.

A revision never changes, so a checkout that exists is complete and is reused: it is written
into a temporary folder next to its place and renamed into it in one step.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.atomic import write_bytes_atomic
from app.errors import UserError
from app.paths import data_dir
from app.sync.blobcache import BlobCache
from app.sync.client import PlatformClient
from app.sync.errors import GarbledResponse, PlatformError
from app.sync.store import LocalStore

DOWNLOAD_CONCURRENCY = 4  # parallel blob downloads, as for uploads
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class Checkout:
    """A revision's files on disk: `root / path` for each path of `files` ({path: sha256})."""

    submission_id: str
    number: int
    root: Path
    files: dict[str, str]

    def read(self, path: str) -> bytes:
        return (self.root / path).read_bytes()


def revision_files(store: LocalStore, submission_id: str, number: int) -> dict[str, str]:
    """The revision's manifest ({path: sha256}) from the local store, every entry checked:
    the platform's data decides where files are written, so it is never trusted blindly."""
    revision = next(
        (r for r in store.submissions.revisions(submission_id) if r.number == number), None
    )
    if revision is None:
        raise UserError(
            f"Revision {number} of submission {submission_id} is not in your local store.",
            "Sync first (the Sync button, or `gauntlet review list`), then open it again.",
        )
    files = revision.data.get("files")
    if not isinstance(files, dict):
        raise UserError(
            f"The platform sent revision {number} of {submission_id} without its file list.",
            "Sync again; if it persists, report it to the platform's administrator.",
        )
    for path, sha in files.items():
        _check_entry(submission_id, number, path, sha)
    return dict(files)


def _check_entry(submission_id: str, number: int, path: object, sha: object) -> None:
    relative = PurePosixPath(path) if isinstance(path, str) else None
    bad_path = (
        relative is None
        or not path
        or relative.is_absolute()
        or any(part in ("..", "") for part in relative.parts)
        or "\\" in path
        or ":" in path
    )
    if bad_path or not (isinstance(sha, str) and _SHA256.match(sha)):
        raise UserError(
            f"Revision {number} of {submission_id} lists an unsafe or malformed file "
            f"({path!r} → {sha!r}); nothing was written.",
            "The platform sent a bad file list. Report it to the platform's administrator.",
        )


def checkout_folder(store: LocalStore, submission_id: str, number: int) -> Path:
    """Where the checkout lives: per platform (named like its store file), submission and
    revision, so two platforms' submissions with the same id never share a folder."""
    platform = _UNSAFE_NAME.sub("_", Path(store.path).stem)
    return data_dir() / "review" / platform / _UNSAFE_NAME.sub("_", submission_id) / f"r{number}"


async def fetch_missing_blobs(
    client: PlatformClient, blobs: BlobCache, files: dict[str, str]
) -> int:
    """Download the blobs of `files` the cache lacks (or holds damaged); returns how many."""
    names = {sha: path for path, sha in sorted(files.items())}
    missing = await asyncio.to_thread(lambda: [s for s in names if blobs.read(s) is None])
    slots = asyncio.Semaphore(DOWNLOAD_CONCURRENCY)

    async def get(sha: str) -> None:
        async with slots:
            data = await client.get_bytes(f"/v1/blobs/{sha}")
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha:
            raise GarbledResponse(
                f"The platform sent damaged bytes for {names[sha]}: they hash to {actual}, "
                f"not {sha}. Nothing was saved.",
                "Try again; if it happens again, report it to the platform's administrator.",
            )
        # Written over a damaged copy (BlobCache.put keeps whatever file is there).
        await asyncio.to_thread(write_bytes_atomic, blobs.path_for(sha), data)

    try:
        async with asyncio.TaskGroup() as group:
            for sha in missing:
                group.create_task(get(sha))
    except* PlatformError as errors:
        raise errors.exceptions[0] from None
    return len(missing)


def materialise(blobs: BlobCache, files: dict[str, str], target: Path) -> Path:
    """Write `files` from the cache into `target` (read-only files), all or nothing."""
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for path, sha in sorted(files.items()):
            data = blobs.read(sha)
            if data is None:
                raise UserError(
                    f"The downloaded copy of {path} went missing before it was written.",
                    "Open the submission again; its files are downloaded once more.",
                )
            destination = staging.joinpath(*PurePosixPath(path).parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
            destination.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():  # not "someone else finished it first"
                raise
    finally:
        if staging.exists():
            remove_tree(staging)
    return target


async def fetch_checkout(
    store: LocalStore,
    client: PlatformClient,
    blobs: BlobCache,
    submission_id: str,
    number: int,
) -> Checkout:
    """The revision's read-only checkout, downloading and writing it when not there yet."""
    files = revision_files(store, submission_id, number)
    target = checkout_folder(store, submission_id, number)
    if not target.is_dir():
        await fetch_missing_blobs(client, blobs, files)
        await asyncio.to_thread(materialise, blobs, files, target)
    return Checkout(submission_id, number, target, files)


def remove_tree(root: Path) -> None:
    """Delete a checkout (its files are read-only, which stops rmtree on Windows)."""

    def make_writable(function, path, _exc) -> None:
        with contextlib.suppress(OSError):
            os.chmod(path, stat.S_IWRITE | stat.S_IREAD)
            function(path)

    if sys.version_info >= (3, 12):
        shutil.rmtree(root, onexc=make_writable)
    else:  # Python 3.11
        shutil.rmtree(root, onerror=make_writable)
