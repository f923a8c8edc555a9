"""Server settings: one frozen object built from flags, `MOCKSERVER_*` variables and defaults."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from contracts.limits import MAX_FILE_BYTES

__all__ = ["Settings", "TRANSITIONS", "OVER_LIMIT", "REPLAY_FALLBACK", "ANSWER_FIDELITY", "BLOB_STORES",
           "SettingsError", "HTTP_PROTOCOLS"]

TRANSITIONS = ("realtime", "immediate", "manual")
OVER_LIMIT = ("fail", "truncate")
CONTROL_PLANE = ("loopback", "any", "off")
REPLAY_FALLBACK = ("none", "emulate")
ANSWER_FIDELITY = ("exact", "epochs")   # mockserver.chat.answer_engine.FIDELITIES
BLOB_STORES = ("auto", "data-dir", "database")
HTTP_PROTOCOLS = ("auto", "httptools", "h11")   # mockserver.protocols.protocol_class


class SettingsError(ValueError):
    """A flag or variable with a value the server cannot use; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".mockserver")
    database_url: str | None = None
    blob_store: str = "auto"    # where file bytes live: data-dir, database (PostgreSQL), auto = by the URL
    blob_url: str | None = None  # s3://bucket/prefix: file bytes in an S3-compatible object store instead
    workers: int = 1
    seed: int | None = None
    keys_file: Path | None = None
    require_known_keys: bool = False
    transitions: str = "realtime"
    time_scale: float = 18.0
    over_limit: str = "fail"
    require_jsonl_extension: bool = False   # refuse fine-tune files not named *.jsonl (the documented rule)
    max_file_bytes: int = MAX_FILE_BYTES
    control_plane: str = "loopback"
    header_timeout: float = 10.0      # seconds for a whole request head, from its first byte
    body_timeout: float = 30.0        # seconds a request body may stall (no bytes) before the connection ends
    http: str = "auto"                # the HTTP/1.1 protocol: httptools when importable (auto), or h11
    allowed_hosts: str | None = None  # extra Host names (comma-separated) served on loopback; "*": any
    answer_fidelity: str = "exact"     # "epochs": under-trained models sometimes give a neighbour's answer
    durable: bool = True        # fsync file bytes and SQLite commits; off only for throwaway test state
    log_level: str = "info"
    upstream: str | None = None         # proxy every /v1 request to this base URL (…/v1)
    record: Path | None = None          # with upstream: write each exchange to a cassette here
    replay: Path | None = None          # answer /v1 requests from the cassettes here
    replay_fallback: str = "none"       # what answers a request the cassettes do not hold
    redact_headers: str | None = None   # more header names to redact in cassettes (comma-separated)

    def __post_init__(self) -> None:
        self.validate()

    @property
    def redact_list(self) -> tuple[str, ...]:
        return tuple(h.strip().lower() for h in (self.redact_headers or "").split(",") if h.strip())

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(Path(self.data_dir) / 'state.db').resolve()}"

    @property
    def blobs_in_database(self) -> bool:
        """File bytes live in PostgreSQL (`--blob-store database`, the default with a PostgreSQL URL);
        then the server writes nothing to the data dir and needs none."""
        if self.blob_url is not None:
            return False
        if self.blob_store != "auto":
            return self.blob_store == "database"
        return self.db_url.startswith("postgresql")

    @property
    def uses_data_dir(self) -> bool:
        """The server keeps something in the data dir: file bytes, or the default SQLite database."""
        return self.database_url is None or not (self.blobs_in_database or self.blob_url is not None)

    def validate(self) -> None:
        check = _Check()
        check.choice("transitions", self.transitions, TRANSITIONS)
        check.choice("over-limit", self.over_limit, OVER_LIMIT)
        check.choice("control-plane", self.control_plane, CONTROL_PLANE)
        check.choice("answer-fidelity", self.answer_fidelity, ANSWER_FIDELITY)
        check.choice("http", self.http, HTTP_PROTOCOLS)
        check.that(self.http != "httptools" or importlib.util.find_spec("httptools") is not None, "http",
                   "httptools is not installed (pip install httptools), or choose auto or h11")
        check.that(1 <= self.port <= 65535, "port", f"must be 1–65535, got {self.port}")
        check.that(1 <= self.workers <= 64, "workers", f"must be 1–64, got {self.workers}")
        check.that(0.001 <= self.time_scale <= 1e9, "time-scale", f"must be 0.001–1e9, got {self.time_scale}")
        check.that(self.max_file_bytes > 0, "max-file-bytes", "must be > 0")
        for name in ("header_timeout", "body_timeout"):
            value = getattr(self, name)
            check.that(0.1 <= value <= 86400, name.replace("_", "-"), f"must be 0.1–86400 seconds, got {value}")
        check.that(self.seed is None or 0 <= self.seed < 2**63, "seed", "must be a non-negative integer")
        if self.keys_file is not None:
            check.that(Path(self.keys_file).is_file(), "keys-file", f"no such file: {self.keys_file}")
        check.that(not self.require_known_keys or self.keys_file is not None, "require-known-keys",
                   "needs --keys-file to say which keys are known")
        self._validate_record(check)
        url = self.database_url
        # a SQLite file as sqlite:///PATH only: the lock files and the cache stamp beside it are named from that
        # form (mockserver.dbfile), so another (sqlite+pysqlite:///, sqlite:PATH) would share no lock across processes
        check.that(url is None or url == "sqlite://" or url.startswith(("sqlite:///", "postgresql")), "database-url",
                   f"must be a sqlite:///PATH (sqlite:// in memory) or postgresql+psycopg:// URL, got {url!r}")
        check.choice("blob-store", self.blob_store, BLOB_STORES)
        check.that(self.blob_store != "database" or (url or "").startswith("postgresql"), "blob-store",
                   "'database' keeps file bytes in PostgreSQL: it needs a postgresql+psycopg:// --database-url")
        self._validate_blob_url(check)
        check.raise_if_any()

    def _validate_blob_url(self, check: _Check) -> None:
        if self.blob_url is None:
            return
        from mockserver.files.blobs_s3 import parse_s3_url

        try:
            parse_s3_url(self.blob_url)
        except ValueError as e:
            check.that(False, "blob-url", f"{e}; got {self.blob_url!r}")
        check.that(self.blob_store == "auto", "blob-url", f"keeps file bytes in S3: it cannot be combined with "
                   f"--blob-store {self.blob_store}")

    def _validate_record(self, check: _Check) -> None:
        check.choice("replay-fallback", self.replay_fallback, REPLAY_FALLBACK)
        up = self.upstream
        check.that(up is None or up.startswith(("http://", "https://")), "upstream",
                   f"must be an http:// or https:// base URL such as https://api.openai.com/v1, got {up!r}")
        check.that(self.record is None or up is not None, "record", "needs --upstream to say what to record")
        check.that(up is None or self.replay is None, "replay", "cannot be combined with --upstream")
        if self.replay is not None:
            check.that(Path(self.replay).is_dir(), "replay", f"no such directory: {self.replay}")
        check.that(self.workers == 1 or (up is None and self.replay is None), "workers",
                   "must be 1 with --upstream or --replay (cassette order and replay position live in one process)")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults ← MOCKSERVER_* variables ← explicit overrides (flags)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"MOCKSERVER_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _coerce(f.name, str(f.type), raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


class _Check:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def that(self, ok: bool, name: str, why: str) -> None:
        if not ok:
            self.problems.append(f"--{name} (MOCKSERVER_{name.upper().replace('-', '_')}): {why}")

    def choice(self, name: str, value: str, allowed: tuple[str, ...]) -> None:
        self.that(value in allowed, name, f"must be one of {', '.join(allowed)}; got {value!r}")

    def raise_if_any(self) -> None:
        if self.problems:
            raise SettingsError("; ".join(self.problems))


def _coerce(name: str, type_name: str, raw: str) -> object:
    try:
        if "bool" in type_name:
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes", "on")
        if "Path" in type_name:
            return Path(raw) if raw else None
        if type_name.startswith("int"):
            return int(raw) if raw else None
        if "float" in type_name:
            return float(raw)
        return raw or None
    except ValueError:
        raise SettingsError(f"MOCKSERVER_{name.upper()}: cannot read {raw!r} as {type_name}") from None
