"""Settings and the `mockserver` command line: flags, MOCKSERVER_* variables, clear messages."""

from __future__ import annotations

import json
import os

import pytest

from mockserver import cli
from mockserver.settings import Settings, SettingsError
from mockserver.tenancy import KeyRing, derived_tenant


def test_env_then_flags(tmp_path):
    env = {"MOCKSERVER_PORT": "9001", "MOCKSERVER_TRANSITIONS": "manual", "MOCKSERVER_TIME_SCALE": "2.5",
           "MOCKSERVER_DATA_DIR": str(tmp_path), "MOCKSERVER_REQUIRE_KNOWN_KEYS": "false"}
    s = Settings.from_env(env, port=9002)
    assert (s.port, s.transitions, s.time_scale, s.data_dir) == (9002, "manual", 2.5, tmp_path)
    assert s.db_url == f"sqlite:///{(tmp_path / 'state.db').resolve()}"


def test_require_jsonl_extension_from_flag_and_env():
    assert Settings.from_env({}).require_jsonl_extension is False
    assert Settings.from_env({"MOCKSERVER_REQUIRE_JSONL_EXTENSION": "1"}).require_jsonl_extension is True
    flags = vars(cli.build_parser().parse_args(["serve", "--require-jsonl-extension"]))
    assert flags["require_jsonl_extension"] is True


@pytest.mark.parametrize("kwargs,needle", [({"transitions": "soon"}, "--transitions"), ({"port": 0}, "--port"),
                                           ({"time_scale": 0}, "--time-scale"), ({"time_scale": 1e-300}, "--time-scale"), ({"workers": 0}, "--workers"),
                                           ({"require_known_keys": True}, "needs --keys-file"),
                                           ({"database_url": "mysql://x"}, "--database-url"),
                                           ({"database_url": "sqlite+pysqlite:////tmp/x.db"}, "--database-url"),
                                           ({"database_url": "sqlite:x.db"}, "--database-url"),
                                           ({"over_limit": "ignore"}, "--over-limit"),
                                           ({"blob_store": "s3"}, "--blob-store"),
                                           ({"blob_store": "database"}, "needs a postgresql"),
                                           ({"blob_url": "http://bucket/x"}, "--blob-url"),
                                           ({"blob_url": "s3://"}, "--blob-url"),
                                           ({"blob_url": "s3://b?endpoint=x"}, "AWS_"),
                                           ({"blob_url": "s3://b", "blob_store": "data-dir"}, "cannot be combined")])
def test_bad_settings_say_which_flag(kwargs, needle):
    with pytest.raises(SettingsError) as e:
        Settings(**kwargs)
    assert needle in str(e.value)


def test_blob_store_follows_the_database_unless_set():
    pg = "postgresql+psycopg://u:p@127.0.0.1:5432/db"
    assert not Settings().blobs_in_database
    assert Settings(database_url=pg).blobs_in_database
    assert not Settings(database_url=pg, blob_store="data-dir").blobs_in_database  # a shared data dir
    assert Settings.from_env({"MOCKSERVER_BLOB_STORE": "database"}, database_url=pg).blobs_in_database
    s3 = Settings.from_env({"MOCKSERVER_BLOB_URL": "s3://bucket/some/prefix/"}, database_url=pg)
    assert s3.blob_url == "s3://bucket/some/prefix/" and not s3.blobs_in_database and not s3.uses_data_dir
    assert Settings(blob_url="s3://bucket").uses_data_dir  # the SQLite database is still in the data dir
    from mockserver.files.blobs_s3 import parse_s3_url

    assert parse_s3_url("s3://bucket/some/prefix/") == ("bucket", "some/prefix/")
    assert parse_s3_url("s3://bucket") == ("bucket", "")
    flags = vars(cli.build_parser().parse_args(["serve", "--blob-url", "s3://b/p"]))
    assert flags["blob_url"] == "s3://b/p"


def test_bad_env_value():
    with pytest.raises(SettingsError) as e:
        Settings.from_env({"MOCKSERVER_PORT": "eighty"})
    assert "MOCKSERVER_PORT" in str(e.value)


def test_cli_reports_bad_flags(capsys):
    assert cli.main(["serve", "--time-scale", "-1"]) == 2
    assert "--time-scale" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["serve", "--transitions", "never"])


def test_keys_file_toml_and_json(tmp_path):
    toml = tmp_path / "keys.toml"
    toml.write_text('[keys."sk-alice"]\norganization_id = "org-alice"\norganization_name = "Acme Labs"\n'
                    'project_id = "proj_a"\n')
    ring = KeyRing.from_file(toml, require_known=True)
    alice = ring.authenticate("Bearer sk-alice")
    assert (alice.organization_id, alice.project_id, alice.model_slug) == ("org-alice", "proj_a", "acme-labs")
    with pytest.raises(Exception) as e:
        ring.authenticate("Bearer sk-stranger")
    assert getattr(e.value, "code", None) == "invalid_api_key"
    js = tmp_path / "keys.json"
    js.write_text(json.dumps({"sk-bob": {"organization_id": "org-bob"}}))
    assert KeyRing.from_file(js).authenticate("Bearer sk-bob").organization_id == "org-bob"


def test_derived_tenants_are_stable_and_distinct():
    a, b = derived_tenant("sk-a"), derived_tenant("sk-b")
    assert a == derived_tenant("sk-a") and a.key != b.key
    assert a.organization_id.startswith("org-") and len(a.organization_id) == 28 and a.model_slug == "personal"


def test_startup_line_hides_the_database_password():
    assert cli._redacted("postgresql+psycopg://u:s3cret@127.0.0.1:5432/db") == "postgresql+psycopg://u:***@127.0.0.1:5432/db"
    assert cli._redacted("sqlite:////tmp/x/state.db") == "sqlite:////tmp/x/state.db"


def test_port_in_use_is_one_clear_line_and_exit_1(capsys, tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["serve", "--port", str(port), "--data-dir", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert err == f"mockserver: cannot listen on 127.0.0.1:{port}: Address already in use\n"   # no banner


def test_make_run_passes_port_and_host_only_when_given():
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    def dry(*args: str, **env: str) -> str:
        out = subprocess.run(["make", "-n", "-s", "-o", ".venv/.installed", "run", *args], cwd=root,
                             capture_output=True, text=True, env={**os.environ, **env}, timeout=60)
        return out.stdout.strip()

    assert dry().split() == [".venv/bin/mockserver", "serve"]         # MOCKSERVER_HOST/PORT or defaults apply
    assert dry("PORT=9000").split()[-2:] == ["--port", "9000"]
    assert dry("HOST=0.0.0.0").split()[-2:] == ["--host", "0.0.0.0"]


def test_http_httptools_without_httptools_is_a_settings_error(monkeypatch):
    """`--http httptools` on a machine without httptools: one clear settings line, not an ImportError at serve."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "httptools" else real(name, *a))
    with pytest.raises(SettingsError) as e:
        Settings(http="httptools").validate()
    assert "--http" in str(e.value) and "httptools is not installed" in str(e.value)
    Settings(http="auto").validate()   # auto falls back to h11
