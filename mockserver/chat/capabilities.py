"""Chat parameters a model cannot honour: the real 400s instead of silently ignoring them.

The catalog says what each base model can do (`contracts.catalog.BaseModel.reasoning`, `.audio`,
`.predicted_outputs`); a fine-tuned or checkpoint model can do what its base can. The wording is the real
API's (`Unsupported parameter: 'reasoning.effort' is not supported with this model.`, code
`unsupported_parameter`; `Unsupported value: 'reasoning_effort' does not support 'none' with this model.
Supported values are: …`, code `unsupported_value`), each with `param`.
"""

from __future__ import annotations

from typing import Any

from contracts import errors
from contracts.catalog import BaseModel

__all__ = ["CAPABILITY_PARAMS", "check_model_support"]

CAPABILITY_PARAMS = ("reasoning_effort", "verbosity", "audio", "modalities", "prediction")
_PREDICTED = "with predicted outputs"


def check_model_support(base: BaseModel, extras: dict[str, Any], *, n: int, logprobs: bool,
                        tools: bool) -> None:
    """Raise the real 400 for the first parameter in `extras` (the request's non-null CAPABILITY_PARAMS)
    that `base` cannot honour."""
    if not base.reasoning:
        for param in ("reasoning_effort", "verbosity"):
            if param in extras:
                raise errors.unsupported_parameter(param)
    if not base.audio:
        if "audio" in (extras.get("modalities") or ()):
            raise errors.unsupported_value("modalities", "audio", ("text",))
        if "audio" in extras:
            raise errors.unsupported_parameter("audio")
    if "prediction" in extras:
        if not base.predicted_outputs:
            raise errors.unsupported_parameter("prediction")
        if n > 1:
            raise errors.unsupported_value("n", n, ("1",), _PREDICTED)
        if logprobs:
            raise errors.unsupported_parameter("logprobs", _PREDICTED)
        if tools:
            raise errors.unsupported_parameter("tools", _PREDICTED)
