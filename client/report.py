"""Dataset report: the cookbook data-prep recipe's figures plus the emulator's verdict, in one streaming pass.

The figures are those of the OpenAI cookbook's "Data preparation and analysis for chat model
fine-tuning" recipe (format_errors, missing system/user counts, distributions whose "p5"/"p95" are numpy
quantiles 0.1 and 0.9, the n_epochs rule, billing), computed with the model's encoding (the recipe's
cl100k_base for gpt-3.5/gpt-4). The verdict (`errors`, `would_fail`) is `contracts.dataset.validation`'s, the
same checks a job runs, so no rule is restated here.

Where the recipe itself would crash, it is read the way it effectively must be:
- a line that is not JSON counts as `data_type` (the recipe cannot even load the file);
- `messages` that is not a list counts as `missing_messages_list`; a message that is not an object
  counts once as `message_missing_key` and is not assistant;
- the distributions (and missing system/user counts) cover the examples whose `messages` is a list of
  objects, the only ones the recipe's second loop survives; the rest are counted in `skipped_examples`;
- only string values are tokenized (`tokens.count_messages_recipe(..., strings_only=True)`, the one recipe
  function, with the exact counter `tokens.counter`, so special-token text counts as text), a missing role is no role, and
  `name` adds its 1 token whatever its value.
The recipe is for chat files; for prompt/completion and DPO files `format_errors` is empty, the message
statistics are None and the token figures come from the server's per-example counts.
"""

from __future__ import annotations

import array
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

try:
    import numpy as np
except ImportError as e:  # the `report` extra
    raise ImportError("the data-prep report needs numpy: pip install 'ft-emulator[report]'") from e

from contracts import catalog, tokens
from contracts.dataset import validation
from contracts.limits import default_epochs

__all__ = ["Report", "build_report", "RECIPE_ERROR_KEYS"]

RECIPE_ERROR_KEYS = ("data_type", "missing_messages_list", "message_missing_key", "message_unrecognized_key",
                     "unrecognized_role", "missing_content", "example_missing_assistant_message")
_DISTRIBUTIONS = (("messages_per_example", "num_messages_per_example"),
                  ("tokens_per_example", "num_total_tokens_per_example"),
                  ("assistant_tokens_per_example", "num_assistant_tokens_per_example"))


@dataclass(slots=True)
class Report:
    """The recipe's figures for one file, and what a fine-tuning job on it would say."""

    num_examples: int
    format_errors: dict[str, int]
    missing_system: int
    missing_user: int
    messages_per_example: dict[str, float] | None
    tokens_per_example: dict[str, float] | None
    assistant_tokens_per_example: dict[str, float] | None
    token_limit: int
    over_limit: int
    n_epochs: int
    billing_tokens: int
    estimated_trained_tokens: int
    errors: list[dict[str, Any]]
    would_fail: bool
    model: str
    method: str
    format: str | None
    skipped_examples: int = 0
    warnings: list[str] = field(default_factory=list)
    first_example: list[Any] | None = None
    more_over_limit: int = 0
    over_limit_policy: str = "fail"      # the server's --over-limit the verdict assumes

    def to_dict(self) -> dict[str, Any]:
        keys = ("num_examples", "format_errors", "missing_system", "missing_user", "messages_per_example",
                "tokens_per_example", "assistant_tokens_per_example", "token_limit", "over_limit", "n_epochs",
                "billing_tokens", "estimated_trained_tokens", "errors", "would_fail", "model", "method",
                "format", "skipped_examples", "warnings")
        return {k: getattr(self, k) for k in keys}

    def render_text(self) -> str:
        """The recipe's printed report, followed by the server-side verdict."""
        out = [f"Num examples: {self.num_examples}"]
        if self.first_example is not None:
            out += ["First example:", *(str(m) for m in self.first_example)]
        if self.format_errors:
            out += ["Found errors:", *(f"{k}: {v}" for k, v in self.format_errors.items())]
        else:
            out.append("No errors found")
        out += [f"Num examples missing system message: {self.missing_system}",
                f"Num examples missing user message: {self.missing_user}"]
        for attr, title in _DISTRIBUTIONS:
            d = getattr(self, attr)
            if d is not None:
                out += [f"\n#### Distribution of {title}:", f"min / max: {d['min']}, {d['max']}",
                        f"mean / median: {d['mean']}, {d['median']}", f"p5 / p95: {d['p5']}, {d['p95']}"]
        out += [f"\n{self._over_limit_line()}",
                f"Dataset has ~{self.billing_tokens} tokens that will be charged for during training",
                f"By default, you'll train for {self.n_epochs} epochs on this dataset",
                f"By default, you'll be charged for ~{self.estimated_trained_tokens} tokens",
                "See pricing page to estimate total costs", ""]
        return "\n".join(out + self._verdict_lines()) + "\n"

    def _over_limit_line(self) -> str:
        """The recipe's over-limit line, saying only what the server does under its --over-limit policy."""
        if self.over_limit_policy == "truncate":   # the recipe's own sentence is true here
            return (f"{self.over_limit} examples may be over the {self.token_limit} token limit, "
                    "they will be truncated during fine-tuning")
        line = f"{self.over_limit} examples are over the {self.token_limit} token limit"
        return line + (" (a fine-tuning job fails on them: the server's --over-limit fail)" if self.over_limit else "")

    def _verdict_lines(self) -> list[str]:
        head = f"Server-side validation for {self.model} (method={self.method}):"
        if not self.would_fail:
            lines = [head, "  OK: a fine-tuning job would accept this file."]
        else:
            lines = [head, "  A fine-tuning job would fail:"]
            for e in self.errors:
                where = f"example {e['line']}: " if e["line"] is not None else ""
                lines.append(f"  - {where}[{e['code']}] {e['message']}")
            if self.more_over_limit:
                lines.append(f"  - ... and {self.more_over_limit} more example(s) over the token limit")
        return lines + [f"  warning: {w}" for w in self.warnings]


class _Recipe:
    """Seed 001's two loops, fed one example at a time by the validator's hook."""

    def __init__(self, encoding: str) -> None:
        self.count = tokens.counter(encoding)
        self.errors: defaultdict[str, int] = defaultdict(int)
        self.missing_system = self.missing_user = self.skipped = 0
        self.n_messages, self.convo_lens, self.assistant_lens, self.server_lens = (
            array.array("q"), array.array("q"), array.array("q"), array.array("q"))
        self.first: list[Any] | None = None

    def __call__(self, n: int, ex: Any, server_tokens: int) -> None:
        if server_tokens >= 0:
            self.server_lens.append(server_tokens)
        self._format_errors(ex)
        messages = ex.get("messages") if isinstance(ex, dict) else None
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            self.skipped += 1
            return
        if n == 1:
            self.first = messages
        roles = [m.get("role") for m in messages]
        self.missing_system += "system" not in roles
        self.missing_user += "user" not in roles
        self.n_messages.append(len(messages))
        self.convo_lens.append(tokens.count_messages_recipe(self.count, messages, strings_only=True))
        self.assistant_lens.append(sum(self.count(m["content"]) for m in messages
                                       if m.get("role") == "assistant" and isinstance(m.get("content"), str)))

    def _format_errors(self, ex: Any) -> None:
        errors = self.errors
        if not isinstance(ex, dict):
            errors["data_type"] += 1
            return
        messages = ex.get("messages", None)
        if not messages or not isinstance(messages, list):
            errors["missing_messages_list"] += 1
            return
        for message in messages:
            if not isinstance(message, dict):
                errors["message_missing_key"] += 1
                continue
            for key, failed in _MESSAGE_CHECKS:
                if failed(message):
                    errors[key] += 1
        if not any(isinstance(m, dict) and m.get("role", None) == "assistant" for m in messages):
            errors["example_missing_assistant_message"] += 1


# The cookbook's per-message format checks, in its order: (counter, whether a message fails it).
_MESSAGE_CHECKS: tuple[tuple[str, Callable[[dict], bool]], ...] = (
    ("message_missing_key", lambda m: "role" not in m or "content" not in m),
    ("message_unrecognized_key", lambda m: any(k not in ("role", "content", "name") for k in m)),
    ("unrecognized_role", lambda m: m.get("role") not in ("system", "user", "assistant")),
    ("missing_content", lambda m: not m.get("content") or not isinstance(m.get("content"), str)),
)


def _distribution(values: array.array) -> dict[str, float] | None:
    """min/max/mean/median and the recipe's "p5"/"p95" (quantiles 0.1 and 0.9) as plain Python numbers."""
    if not values:
        return None
    a = np.frombuffer(values, dtype=np.int64)
    return {"min": int(a.min()), "max": int(a.max()), "mean": float(np.mean(a)), "median": float(np.median(a)),
            "p5": float(np.quantile(a, 0.1)), "p95": float(np.quantile(a, 0.9))}


def build_report(path: str | os.PathLike, *, model: str = "gpt-3.5-turbo-0613", method: str = "supervised",
                 over_limit: str = "fail") -> Report:
    """Read `path` once: the recipe's figures for `model`, and the errors a job on it would fail with."""
    snapshot = catalog.fine_tunable(catalog.base_of(model))
    if snapshot is None:
        raise ValueError(f"model {model!r} cannot be fine-tuned")
    recipe = _Recipe(snapshot.encoding)
    result = validation.validate_file(path, model=model, method=method, file_id=os.path.basename(path),
                                      over_limit=over_limit, scan_all=True, on_example=recipe)
    limit = snapshot.training_limit or 0
    chat = result.format in (None, "chat")
    lens = recipe.convo_lens if chat else recipe.server_lens
    billing = int(np.minimum(np.frombuffer(lens, dtype=np.int64), limit).sum()) if lens else 0
    n_epochs = default_epochs(result.n_examples)
    errors = [{"line": n, "code": e.code, "message": e.message} for n, e in result.problems]
    return Report(
        num_examples=result.n_examples,
        format_errors={k: v for k, v in recipe.errors.items() if v > 0} if chat else {},
        missing_system=recipe.missing_system if chat else 0, missing_user=recipe.missing_user if chat else 0,
        messages_per_example=_distribution(recipe.n_messages) if chat else None,
        tokens_per_example=_distribution(lens),
        assistant_tokens_per_example=_distribution(recipe.assistant_lens) if chat else None,
        token_limit=limit, over_limit=sum(1 for t in lens if t > limit), n_epochs=n_epochs,
        billing_tokens=billing, estimated_trained_tokens=n_epochs * billing, errors=errors,
        would_fail=result.error is not None, model=snapshot.id, method=method, format=result.format,
        skipped_examples=recipe.skipped if chat else 0, warnings=result.warnings,
        first_example=recipe.first if chat else None,
        more_over_limit=result.n_over_limit - len(result.over_limit) if over_limit == "fail" else 0,
        over_limit_policy=over_limit)
