"""Start-up imports only what every server needs: optional backends and libraries one feature uses are imported
when that feature is first used (timing itself is `make bench`'s, never a test's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mockserver import migrations

ROOT = Path(__file__).resolve().parents[2]

# Each is imported by the code that uses it: S3 and PostgreSQL blob stores, SQLAlchemy's PostgreSQL dialect
# (with a PostgreSQL engine), Alembic (only when a database needs a migration), JSON Schema (structured
# output), RE2 (fixture patterns), tiktoken (token counts), and the client report's numpy.
LAZY = ("boto3", "botocore", "psycopg", "sqlalchemy.dialects.postgresql", "alembic", "jsonschema", "re2",
        "tiktoken", "numpy", "mockserver.files.blobs_s3", "mockserver.files.blobs_pg", "mockserver.batches.runner")

_PROBE = """
import json, sys
from mockserver.app import create_app
from mockserver.settings import Settings
after_import = sorted(m for m in LAZY if m in sys.modules)
create_app(Settings(data_dir=sys.argv[1]))    # a new database: built and stamped (Alembic runs)
for m in [m for m in sys.modules if m == "alembic" or m.startswith("alembic.")]:
    del sys.modules[m]
from mockserver.db import Database
Database(Settings(data_dir=sys.argv[1]).db_url).dispose()   # up to date: nothing to migrate
print(json.dumps({"after_import": after_import, "alembic_on_restart": "alembic" in sys.modules}))
"""


def test_start_up_imports_no_optional_backend(tmp_path: Path) -> None:
    code = f"LAZY = {LAZY!r}\n{_PROBE}"
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen == {"after_import": [], "alembic_on_restart": False}


def test_the_head_read_from_file_names_is_alembics() -> None:
    assert migrations.newest_file_revision() == migrations.head()
