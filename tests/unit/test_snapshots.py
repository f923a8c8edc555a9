"""Read-only snapshots (mockserver.owned: named tuples, not model instances) hold what the models hold: a new
row's defaults are `model_construct`'s, and a row read as a snapshot has every attribute a session's read of it
has, so the wire objects made from either are equal."""

from __future__ import annotations

import pytest
from sqlmodel import select

from mockserver.files.store import file_to_wire
from mockserver.jobs.store import get_job, job_to_wire
from mockserver.owned import _attributes, new_row, snapshot
from mockserver.tables import FileRow, JobRow, ModelRow
from mockserver.testing import Emulator
from tests.conftest import pig_jsonl

REQUIRED = {
    JobRow: {"id": "ftjob-1", "tenant": "t", "organization_id": "org", "org_name": "o", "model": "m", "status": "queued",
             "training_file": "file-1", "seed": 3, "created_at": 5, "model_token": "abcdefgh"},
    FileRow: {"id": "file-1", "tenant": "t", "filename": "f", "purpose": "fine-tune", "bytes": 3, "created_at": 5,
              "status": "processed", "path": "files/file-1"},
    ModelRow: {"id": "ft:m", "tenant": "t", "created": 5, "owned_by": "org", "base_model": "m", "job_id": "ftjob-1"},
}


@pytest.mark.parametrize("table", list(REQUIRED), ids=lambda t: t.__name__)
def test_a_new_row_has_model_constructs_defaults(table) -> None:
    built, constructed = new_row(table, **REQUIRED[table]), table.model_construct(**REQUIRED[table])
    for attr, _ in _attributes(table):
        assert getattr(built, attr) == getattr(constructed, attr), attr
    mutable = [attr for attr, _ in _attributes(table) if isinstance(getattr(built, attr), list | dict)]
    again = new_row(table, **REQUIRED[table])
    assert all(getattr(again, attr) is not getattr(built, attr) for attr in mutable)   # factories called per row


def test_a_snapshot_has_what_a_session_reads() -> None:
    with Emulator(transitions="immediate") as emu:
        client = emu.client()
        f = client.files.create(file=("t.jsonl", pig_jsonl(10)), purpose="fine-tune")
        job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=f.id,
                                             metadata={"k": "v"})
        client.fine_tuning.jobs.retrieve(job.id)
        with emu.services.db.session() as s:
            orm_job = s.exec(select(JobRow).where(JobRow.id == job.id)).one()
            orm_file = s.exec(select(FileRow).where(FileRow.id == f.id)).one()
            snap_job = get_job(s, tenant=orm_job.tenant, job_id=job.id)
            snap_file = snapshot(s, FileRow, orm_file.tenant, f.id)
        for table, orm, snap in ((JobRow, orm_job, snap_job), (FileRow, orm_file, snap_file)):
            for attr, _ in _attributes(table):
                assert getattr(snap, attr) == getattr(orm, attr), attr
        assert job_to_wire(snap_job) == job_to_wire(orm_job) and snap_job.status == "succeeded"
        assert file_to_wire(snap_file) == file_to_wire(orm_file)


@pytest.mark.parametrize("value", [
    None, [], {}, {"n_epochs": 3, "learning_rate_multiplier": 1.8, "batch_size": "auto"}, [["e", 1764567000, "Créé 東京 🚀",
    "info", "message", None], ["r", 1764567001.5, 0, 0.1, 1, 30]], {"k": "\ud800"}, {"big": 2**70, "neg": -(2**64)},
    {1: "int key", "s": [0.1, 1e-05, 5e-324, 1.7976931348623157e308, -0.0]}, "\x00\x1f\u2028 quoted \" \\ text",
], ids=repr)
def test_json_columns_are_written_as_the_standard_library_reads_them(value) -> None:
    """JSON columns are written by orjson (mockserver.db._json_dumps), falling back to json.dumps: the text differs
    (compact, UTF-8), the value read back does not."""
    import json

    from mockserver.db import _json_dumps

    assert json.loads(_json_dumps(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize("value", [
    {"lr": float("nan")}, [1.0, float("inf")], {"deep": [{"x": ("a", -float("inf"))}]}, float("nan"),
    {"null": None, "nan": float("nan")},
], ids=repr)
def test_json_columns_keep_nan_and_infinities_as_json_dumps_writes_them(value) -> None:
    """orjson writes NaN and infinities as null; `_json_dumps` then writes what `json.dumps` does (NaN, Infinity), so
    no value silently becomes null: SQLite keeps it and reads back the same float (PostgreSQL's json type refuses it,
    loudly)."""
    import json

    from mockserver.db import _json_dumps

    text = _json_dumps(value)
    assert text == json.dumps(value)
    assert _non_finite_path(json.loads(text)) == _non_finite_path(value)


def _non_finite_path(value, path=()) -> list:
    """Where the non-finite floats in `value` are, and which (tuples read back as lists)."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return [(path, "nan" if value != value else value)]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite_path(v, (*path, k))]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _non_finite_path(v, (*path, i))]
    return []


def test_a_nan_in_a_json_column_reads_back_as_nan_on_sqlite(tmp_path) -> None:
    """Through the database: a Meta value holding NaN and -Infinity comes back as those floats, not as None."""
    import math

    from mockserver.db import Database
    from mockserver.tables import Meta

    db = Database(f"sqlite:///{tmp_path / 'state.db'}", durable=False)
    with db.session() as s:
        s.add(Meta(key="odd", value={"a": float("nan"), "b": [-float("inf")], "c": None}))
    with db.session() as s:
        got = s.get(Meta, "odd").value
    db.dispose()
    assert math.isnan(got["a"]) and got["b"] == [-float("inf")] and got["c"] is None
