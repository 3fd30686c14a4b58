"""Collecting blobs no revision names: uploads that were never used, or whose submission
went away. Blobs are kept in the database, so unused ones would otherwise grow it forever.

A blob is collected only when neither its first upload nor anyone's latest upload of it is
younger than the grace period: an author between uploading files and pushing the revision
that names them keeps them. (Should one still be collected, the client uploads it again when
the push answers `missing-blobs`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from app.platform.clock import utcnow
from app.platform.models import Blob, BlobUpload, RevisionBlob

_BATCH = 500  # blobs deleted per statement (keeps IN lists small)


@dataclass(frozen=True, slots=True)
class Collected:
    blobs: int
    bytes: int


def collect_unreferenced_blobs(session: Session, *, grace_s: float) -> Collected:
    cutoff = utcnow() - timedelta(seconds=grace_s)
    rows = session.execute(
        select(Blob.sha256, Blob.size).where(
            Blob.created_at < cutoff,
            ~exists().where(RevisionBlob.sha256 == Blob.sha256),
            ~exists().where(BlobUpload.sha256 == Blob.sha256, BlobUpload.uploaded_at >= cutoff),
        )
    ).all()
    shas = [sha for sha, _ in rows]
    sizes: list[int] = []
    for start in range(0, len(shas), _BATCH):
        chunk = shas[start : start + _BATCH]
        # Re-checked in the DELETE itself: a revision naming one may have arrived meanwhile.
        unused = ~exists().where(RevisionBlob.sha256 == Blob.sha256)
        session.execute(
            delete(BlobUpload)
            .where(BlobUpload.sha256.in_(chunk), BlobUpload.uploaded_at < cutoff)
            .where(~exists().where(RevisionBlob.sha256 == BlobUpload.sha256))
            .execution_options(synchronize_session=False)
        )
        sizes += session.scalars(
            delete(Blob)
            .where(Blob.sha256.in_(chunk), unused)
            .where(~exists().where(BlobUpload.sha256 == Blob.sha256))
            .returning(Blob.size)
            .execution_options(synchronize_session=False)
        ).all()
    return Collected(blobs=len(sizes), bytes=sum(int(size) for size in sizes))
