"""Chat parameters the model cannot honour are the real 400s (unsupported_parameter / unsupported_value)."""

from __future__ import annotations

import openai
import pytest

MSG = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("model,extra,param,code,message", [
    ("gpt-4o-mini", {"reasoning_effort": "low"}, "reasoning_effort", "unsupported_parameter",
     "Unsupported parameter: 'reasoning_effort' is not supported with this model."),
    ("gpt-3.5-turbo", {"verbosity": "low"}, "verbosity", "unsupported_parameter",
     "Unsupported parameter: 'verbosity' is not supported with this model."),
    ("gpt-4o-mini", {"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}}, "modalities",
     "unsupported_value", "Unsupported value: 'modalities' does not support 'audio' with this model. "
                          "Supported values are: 'text'."),
    ("gpt-4o-mini", {"audio": {"voice": "alloy", "format": "wav"}}, "audio", "unsupported_parameter",
     "Unsupported parameter: 'audio' is not supported with this model."),
    ("gpt-3.5-turbo", {"prediction": {"type": "content", "content": "x"}}, "prediction", "unsupported_parameter",
     "Unsupported parameter: 'prediction' is not supported with this model."),
    ("gpt-4o-mini", {"prediction": {"type": "content", "content": "x"}, "n": 2}, "n", "unsupported_value",
     "Unsupported value: 'n' does not support '2' with predicted outputs. Supported values are: '1'."),
    ("gpt-4o", {"prediction": {"type": "content", "content": "x"}, "logprobs": True}, "logprobs",
     "unsupported_parameter", "Unsupported parameter: 'logprobs' is not supported with predicted outputs."),
], ids=["reasoning_effort", "verbosity", "audio-modality", "audio", "prediction-model", "prediction-n",
        "prediction-logprobs"])
def test_parameters_the_model_cannot_honour(api, model, extra, param, code, message):
    with pytest.raises(openai.BadRequestError) as e:
        api.client.chat.completions.create(model=model, messages=MSG, **extra)
    assert (e.value.status_code, e.value.param, e.value.code, e.value.body["message"]) == (400, param, code, message)
    assert e.value.type == "invalid_request_error"


def test_what_the_model_can_do_still_answers(api):
    ok = api.client.chat.completions.create(model="gpt-4o-mini", messages=MSG, modalities=["text"],
                                            prediction={"type": "content", "content": "hello"})
    assert ok.choices[0].message.content
