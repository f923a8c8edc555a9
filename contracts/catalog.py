"""The model catalog: every fact about base models (limits, encodings, aliases) lives here."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BaseModel", "CATALOG", "ALIASES", "resolve", "lookup", "base_of", "encoding_for", "fine_tunable"]


@dataclass(frozen=True, slots=True)
class BaseModel:
    """A model OpenAI serves; `training_limit` is None when it cannot be fine-tuned."""

    id: str
    created: int
    owned_by: str
    encoding: str
    context_window: int
    max_output_tokens: int
    training_limit: int | None = None
    api: str = "chat"  # "chat" or "completions" (babbage-002 / davinci-002)
    # What the chat endpoint accepts beyond text (none of these models reasons or speaks: `reasoning_effort`,
    # `verbosity`, `audio` and audio `modalities` are 400s); predicted outputs: gpt-4o and gpt-4.1 families.
    reasoning: bool = False
    audio: bool = False
    predicted_outputs: bool = False

    @property
    def fine_tunable(self) -> bool:
        return self.training_limit is not None


_M = BaseModel
CATALOG: dict[str, BaseModel] = {m.id: m for m in (
    # Fine-tunable snapshots (training-example token limits from the fine-tuning guide, reference §7.3).
    _M("gpt-3.5-turbo-0613", 1686587434, "openai", "cl100k_base", 4096, 4096, 4096),
    _M("gpt-3.5-turbo-1106", 1698959748, "system", "cl100k_base", 16385, 4096, 16385),
    _M("gpt-3.5-turbo-0125", 1706048358, "system", "cl100k_base", 16385, 4096, 16385),
    _M("gpt-4-0613", 1686588896, "openai", "cl100k_base", 8192, 8192, 8192),
    _M("gpt-4o-mini-2024-07-18", 1721172717, "system", "o200k_base", 128000, 16384, 65536, predicted_outputs=True),
    _M("gpt-4o-2024-08-06", 1722814719, "system", "o200k_base", 128000, 16384, 65536, predicted_outputs=True),
    _M("gpt-4.1-2025-04-14", 1744315746, "system", "o200k_base", 1047576, 32768, 65536, predicted_outputs=True),
    _M("gpt-4.1-mini-2025-04-14", 1744317547, "system", "o200k_base", 1047576, 32768, 65536, predicted_outputs=True),
    _M("gpt-4.1-nano-2025-04-14", 1744321025, "system", "o200k_base", 1047576, 32768, 32768, predicted_outputs=True),
    _M("babbage-002", 1692634615, "system", "cl100k_base", 16384, 16384, 16384, api="completions"),
    _M("davinci-002", 1692634301, "system", "cl100k_base", 16384, 16384, 16384, api="completions"),
    # Aliases are models too (listed, callable in chat); fine-tuning resolves them through ALIASES.
    _M("gpt-3.5-turbo", 1677610602, "openai", "cl100k_base", 16385, 4096),
    _M("gpt-4", 1687882411, "openai", "cl100k_base", 8192, 8192),
    _M("gpt-4o-mini", 1721172741, "system", "o200k_base", 128000, 16384, predicted_outputs=True),
    _M("gpt-4o", 1715367049, "system", "o200k_base", 128000, 16384, predicted_outputs=True),
    _M("gpt-4.1", 1744316542, "system", "o200k_base", 1047576, 32768, predicted_outputs=True),
    _M("gpt-4.1-mini", 1744318173, "system", "o200k_base", 1047576, 32768, predicted_outputs=True),
    _M("gpt-4.1-nano", 1744321707, "system", "o200k_base", 1047576, 32768, predicted_outputs=True),
)}

# Alias → the snapshot a fine-tuning job trains (and reports as `model`).
# gpt-3.5-turbo → 0125: the snapshot OpenAI has recommended for fine-tuning since early 2024.
ALIASES: dict[str, str] = {
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    "gpt-4": "gpt-4-0613",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
}


def resolve(model: str) -> str:
    """The snapshot id an alias stands for (identity for snapshots and unknown names)."""
    return ALIASES.get(model, model)


def lookup(model: str) -> BaseModel | None:
    """Catalog entry for a base model id or alias, without resolving aliases."""
    return CATALOG.get(model)


def base_of(model: str) -> str:
    """Base snapshot of any model name: `ft:gpt-4o-mini-2024-07-18:org::abc:ckpt-step-3` → the snapshot."""
    if model.startswith("ft:"):
        parts = model.split(":")
        return parts[1] if len(parts) > 1 else model
    return resolve(model)


def encoding_for(model: str) -> str:
    """tiktoken encoding of any model name, `ft:` names included (via their base snapshot)."""
    entry = CATALOG.get(base_of(model)) or CATALOG.get(model)
    if entry is not None:
        return entry.encoding
    name = base_of(model)
    return "o200k_base" if name.startswith(("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4")) else "cl100k_base"


def fine_tunable(model: str) -> BaseModel | None:
    """The snapshot entry a job on `model` trains, or None if it cannot be fine-tuned."""
    entry = CATALOG.get(resolve(model))
    return entry if entry is not None and entry.fine_tunable else None
