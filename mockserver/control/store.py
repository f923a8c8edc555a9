"""The control plane's data access: forgetting everything, or one tenant's objects (`POST /_mock/reset`)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import select

from mockserver.cache import bump
from mockserver.chat import fidelity
from mockserver.files.blobs import batch_keys, snapshot_key
from mockserver.owned import owns
from mockserver.services import Services
from mockserver.tables import (
    BatchRow,
    FileRow,
    FixtureRow,
    JobRow,
    Meta,
    ModelRow,
    ResponseRow,
    UploadPartRow,
    UploadRow,
)

__all__ = ["reset"]


def reset(svc: Services, tenant: str | None) -> int:
    """Delete every object (tenant None) or the tenant's, with their bytes; how many blobs went."""
    paths: list[str] = []
    with svc.db.session() as s:
        bump(s)  # every process drops what it cached
        if tenant is None:
            for table in (ModelRow, JobRow, UploadPartRow, UploadRow, FileRow, FixtureRow,
                          ResponseRow, BatchRow):
                s.execute(delete(table))
            s.execute(delete(Meta).where(Meta.key != "schema_version"))
        else:
            jobs = list(s.exec(select(JobRow.id).where(owns(JobRow, tenant))))
            uploads = list(s.exec(select(UploadRow.id).where(owns(UploadRow, tenant))))
            paths += s.exec(select(FileRow.path).where(owns(FileRow, tenant)))
            paths += list(s.exec(select(UploadPartRow.path).where(UploadPartRow.upload_id.in_(uploads))))
            s.execute(delete(UploadPartRow).where(UploadPartRow.upload_id.in_(uploads)))
            for batch in s.exec(select(BatchRow.id, BatchRow.out_path, BatchRow.err_path, BatchRow.segments)
                                .where(owns(BatchRow, tenant))):
                paths += batch_keys(*batch)
            for table in (ModelRow, JobRow, UploadRow, FileRow, FixtureRow, ResponseRow, BatchRow):
                s.execute(delete(table).where(owns(table, tenant)))
            paths += [snapshot_key(j) for j in jobs]
            fidelity.save(s, tenant=tenant, mode=None)
    if tenant is None:
        removed = svc.files.remove_all()
    else:
        for p in set(paths):
            svc.files.remove(p)
        removed = len(set(paths))
    svc.seed_policy()  # the clock starts again from the flags
    return removed
