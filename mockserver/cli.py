"""`mockserver` / `python -m mockserver`: serve the emulator (flags mirror MOCKSERVER_* variables).

`mockserver env` prints the `export` lines that point a shell (the SDKs, curl scripts, tiktoken) at it.
"""

from __future__ import annotations

import argparse
import inspect
import os
import shlex
import socket
import sys
from pathlib import Path

from mockserver.settings import (
    ANSWER_FIDELITY,
    BLOB_STORES,
    CONTROL_PLANE,
    HTTP_PROTOCOLS,
    OVER_LIMIT,
    REPLAY_FALLBACK,
    TRANSITIONS,
    Settings,
    SettingsError,
)

__all__ = ["main", "build_parser"]

ENV_API_KEY = "sk-mockserver-local"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mockserver", description="Offline emulator of the OpenAI fine-tuning API.")
    sub = p.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="start the HTTP server (the default command)")
    for parser in (p, serve):
        _add_serve_flags(parser)
    env = sub.add_parser("env", help="print export lines for OPENAI_BASE_URL, OPENAI_API_KEY, TIKTOKEN_CACHE_DIR",
                         description='eval "$(mockserver env)" points the SDKs and tiktoken at the emulator')
    env.add_argument("--host", default=argparse.SUPPRESS, help="the server's host (default: MOCKSERVER_HOST or 127.0.0.1)")
    env.add_argument("--port", type=int, default=argparse.SUPPRESS, help="the server's port (default: MOCKSERVER_PORT or 8000)")
    env.add_argument("--api-key", default=ENV_API_KEY, help=f"the key to export (default {ENV_API_KEY})")
    migrate = sub.add_parser("migrate", help="copy every row and file byte into another, empty database "
                                             "(e.g. a SQLite data dir into PostgreSQL)")
    migrate.add_argument("--from", dest="from_url", required=True, help="source database URL (sqlite:///…/state.db)")
    migrate.add_argument("--to", dest="to_url", required=True, help="destination database URL (postgresql+psycopg://…)")
    migrate.add_argument("--from-data-dir", type=Path, default=None,
                         help="the source's data dir (default: the directory of the SQLite file)")
    migrate.add_argument("--to-blob-url", default=None, metavar="s3://BUCKET/PREFIX",
                         help="put the bytes in this S3 bucket (as the servers' --blob-url) instead of the database")
    return p


def _add_serve_flags(p: argparse.ArgumentParser) -> None:
    d = argparse.SUPPRESS
    p.add_argument("--host", default=d, help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=d, help="port (default 8000)")
    p.add_argument("--data-dir", type=Path, default=d, help="state directory (default ./.mockserver)")
    p.add_argument("--database-url", default=d, help="sqlite:///… or postgresql+psycopg://… (default: SQLite in the data dir)")
    p.add_argument("--blob-store", choices=BLOB_STORES, default=d,
                   help="where file bytes live: data-dir, or database (PostgreSQL only); auto (default) = "
                        "database with a PostgreSQL URL, else data-dir")
    p.add_argument("--blob-url", default=d, metavar="s3://BUCKET/PREFIX",
                   help="keep file bytes in an S3-compatible object store (pip install 'ft-emulator[s3]'; "
                        "endpoint and credentials from the AWS_* variables)")
    p.add_argument("--workers", type=int, default=d, help="server processes sharing the database (default 1)")
    p.add_argument("--seed", type=int, default=d, help="make ids and job randomness reproducible")
    p.add_argument("--keys-file", type=Path, default=d, help="TOML or JSON: API key → organization/project")
    p.add_argument("--require-known-keys", action="store_true", default=d, help="reject keys not in --keys-file")
    p.add_argument("--transitions", choices=TRANSITIONS, default=d, help="how jobs move (default realtime)")
    p.add_argument("--time-scale", type=float, default=d, help="simulated seconds per real second (default 18: a 10-example job takes ~20 s)")
    p.add_argument("--over-limit", choices=OVER_LIMIT, default=d, help="over-long examples fail the job or are truncated")
    p.add_argument("--require-jsonl-extension", action="store_true", default=d,
                   help="refuse fine-tune uploads whose file name does not end in .jsonl (off: the content decides)")
    p.add_argument("--control-plane", choices=CONTROL_PLANE, default=d,
                   help="who may call /_mock/* (default: loopback clients only)")
    p.add_argument("--header-timeout", type=float, default=d, metavar="SECONDS",
                   help="a request head must arrive whole within this many seconds (default 10)")
    p.add_argument("--body-timeout", type=float, default=d, metavar="SECONDS",
                   help="a request body that stalls this long ends the connection (default 30)")
    p.add_argument("--http", choices=HTTP_PROTOCOLS, default=d, help="HTTP/1.1 parser: auto (default: httptools if installed, else h11), httptools, h11; the same bytes")
    p.add_argument("--allowed-hosts", default=d, metavar="NAMES",
                   help="extra Host names answered on a loopback address, comma-separated ('*': any); "
                        "default: localhost, 127.0.0.1, [::1] only")
    p.add_argument("--answer-fidelity", choices=ANSWER_FIDELITY, default=d,
                   help="exact: a tuned model always gives the trained answer (default); epochs: models trained "
                        "for fewer epochs sometimes give a neighbouring example's answer")
    p.add_argument("--log-level", default=d, help="uvicorn log level (default info)")
    p.add_argument("--upstream", default=d, metavar="URL",
                   help="proxy every /v1 request to this API base URL (e.g. https://api.openai.com/v1) with the caller's key")
    p.add_argument("--record", type=Path, default=d, metavar="DIR",
                   help="with --upstream: write every exchange to a cassette in DIR (keys redacted)")
    p.add_argument("--replay", type=Path, default=d, metavar="DIR", help="answer /v1 requests from the cassettes in DIR")
    p.add_argument("--replay-fallback", choices=REPLAY_FALLBACK, default=d,
                   help="with --replay: requests no cassette matches get a 404 (none, the default) or the emulator's answer")
    p.add_argument("--redact-header", dest="redact_headers", default=d, metavar="NAMES",
                   help="more request/response headers to redact in cassettes, comma-separated")


def main(argv: list[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    command = args.pop("command", None)
    api_key = args.pop("api_key", ENV_API_KEY)
    if command == "migrate":
        from mockserver.migrate import main as migrate

        return migrate(args)
    try:
        settings = Settings.from_env(**args)
    except SettingsError as e:
        print(f"mockserver: {e}", file=sys.stderr)
        return 2
    if command == "env":
        return print_env(settings, api_key)
    return serve(settings)


def print_env(settings: Settings, api_key: str) -> int:
    """The lines `eval "$(mockserver env)"` runs; the tiktoken cache is filled (offline) first."""
    from contracts import tiktoken_cache

    try:
        cache = tiktoken_cache.ensure()
    except tiktoken_cache.OfflineEncodingError as e:
        print(f"mockserver: {e}", file=sys.stderr)
        return 1
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    for name, value in (("OPENAI_BASE_URL", f"http://{host}:{settings.port}/v1"), ("OPENAI_API_KEY", api_key),
                        ("TIKTOKEN_CACHE_DIR", str(cache))):
        print(f"export {name}={shlex.quote(value)}")
    return 0


def serve(settings: Settings) -> int:
    import uvicorn

    from mockserver.protocols import protocol_class

    if settings.uses_data_dir:
        problem = _data_dir_problem(Path(settings.data_dir))
        if problem is not None:
            print(f"mockserver: --data-dir (MOCKSERVER_DATA_DIR): {problem}", file=sys.stderr)
            return 2
    try:
        sock = _bind(settings.host, settings.port)
    except OSError as e:
        print(f"mockserver: cannot listen on {settings.host}:{settings.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    os.environ.update(_settings_env(settings))  # worker processes rebuild the same settings from the env
    print(f"mockserver: serving http://{settings.host}:{settings.port}/v1 (state: {_redacted(settings.db_url)}, "
          f"transitions: {settings.transitions}, time scale: {settings.time_scale}){_mode(settings)}", file=sys.stderr)
    # Keep-alive longer than the SDK's httpx pool keeps an idle connection (5 s): with equal timeouts the
    # server can close a connection at the moment the client reuses it (a `Connection reset by peer`).
    common = {"host": settings.host, "port": settings.port, "log_level": settings.log_level,
              "http": protocol_class(settings.http), "timeout_keep_alive": 15}
    with sock:
        if settings.workers > 1:
            from uvicorn.supervisors import Multiprocess

            config = uvicorn.Config("mockserver.asgi:app", workers=settings.workers, **common)
            older = "target" in inspect.signature(Multiprocess).parameters   # uvicorn < 0.54 took target=
            Multiprocess(config, sockets=[sock], **({"target": uvicorn.Server(config).run} if older else {})).run()
        else:
            from mockserver.app import create_app
            from mockserver.files.blobs import BlobStoreUnavailable

            try:
                app = create_app(settings)
            except BlobStoreUnavailable as e:
                print(f"mockserver: {e}", file=sys.stderr)
                return 2
            uvicorn.Server(uvicorn.Config(app, **common)).run(sockets=[sock])
    return 0


def _data_dir_problem(data_dir: Path) -> str | None:
    """Why the server could not keep its state in `data_dir` (created if missing), or None."""
    probe = data_dir / f".write-probe-{os.getpid()}"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as e:
        return f"cannot write {data_dir}: {e.strerror or e}; choose a writable directory"
    return None


def _mode(settings: Settings) -> str:
    if settings.upstream:
        return f"; proxying /v1 to {settings.upstream}" + (f", recording to {settings.record}" if settings.record else "")
    if settings.replay:
        return f"; replaying {settings.replay} (fallback: {settings.replay_fallback})"
    return ""


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is printed (uvicorn serves on it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)          # listening now: a second server on this port fails here, not later
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def _redacted(url: str) -> str:
    """A database URL fit to print: the password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def _settings_env(settings: Settings) -> dict[str, str]:
    out = {}
    for name, value in vars(settings).items():
        if value is None or name == "extra":
            continue
        out[f"MOCKSERVER_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return out
