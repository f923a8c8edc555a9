"""Dataset preparation: CSV rows and (user, assistant) pairs to fine-tuning JSONL, UTF-8 kept as written."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["DatasetError", "chat_record", "write_jsonl", "pairs_to_jsonl", "prompt_completion_to_jsonl",
           "csv_to_jsonl"]

PathLike = str | os.PathLike


class DatasetError(ValueError):
    """The input cannot be turned into a training file (a missing column, a short row)."""


def chat_record(user: str, assistant: str, *, system: str | None = None) -> dict[str, Any]:
    """One chat example: an optional system message, then the user and assistant turns."""
    messages = [{"role": "system", "content": system}] if system is not None else []
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return {"messages": messages}


def write_jsonl(records: Iterable[Mapping[str, Any]], out_path: PathLike) -> int:
    """Write one `json.dumps(record, ensure_ascii=False)` line per record; returns the number written.

    The file appears only once complete (written beside it, then renamed), so a failing input never
    leaves half a dataset behind.
    """
    tmp = f"{os.fspath(out_path)}.tmp"
    count = 0
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return count


def pairs_to_jsonl(pairs: Iterable[tuple[str, str]], out_path: PathLike, *, system: str | None = None) -> int:
    """Chat JSONL from (user, assistant) pairs, each with the same optional system prompt."""
    return write_jsonl((chat_record(u, a, system=system) for u, a in pairs), out_path)


def prompt_completion_to_jsonl(pairs: Iterable[tuple[str, str]], out_path: PathLike) -> int:
    """`{"prompt", "completion"}` JSONL for babbage-002 / davinci-002."""
    return write_jsonl(({"prompt": p, "completion": c} for p, c in pairs), out_path)


def csv_to_jsonl(csv_path: PathLike, out_path: PathLike, *, system: str | None = None) -> int:
    """Chat JSONL from a UTF-8 CSV with `user,assistant` columns; returns the rows written.

    An optional `system` column gives each row its own system prompt and wins over `system` (an empty
    cell falls back to it). Without either, examples have no system message. A UTF-8 byte-order mark
    (as spreadsheet programs write) is ignored.
    """
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        for column in ("user", "assistant"):
            if column not in columns:
                found = ", ".join(columns) or "none"
                raise DatasetError(f"{os.fspath(csv_path)}: missing column {column!r} (columns found: {found})")
        return write_jsonl(_csv_records(reader, csv_path, system, "system" in columns), out_path)


def _csv_records(reader: csv.DictReader, csv_path: PathLike, system: str | None,
                 has_system: bool) -> Iterator[dict[str, Any]]:
    for row in reader:
        user, assistant = row["user"], row["assistant"]
        if user is None or assistant is None:
            column = "user" if user is None else "assistant"
            raise DatasetError(f"{os.fspath(csv_path)}: line {reader.line_num} has no value for column {column!r}")
        own = row.get("system") if has_system else None
        yield chat_record(user, assistant, system=own or system)
