"""Models list/retrieve/delete shapes, and the error envelope for auth, unknown routes and unknown ids."""

from __future__ import annotations

import openai
import pytest

from tests.contract.support import conforms, error_of


def test_models_list_and_retrieve(api):
    status, listing = api.raw_json("GET", "/v1/models")
    assert status == 200
    conforms("list.models", listing)
    ids = {m["id"] for m in listing["data"]}
    assert {"gpt-4o-mini", "gpt-3.5-turbo"} <= ids
    status, model = api.raw_json("GET", "/v1/models/gpt-4o-mini")
    assert status == 200
    conforms("model", model)
    assert (model["id"], model["object"]) == ("gpt-4o-mini", "model")
    assert api.client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"


def test_unknown_model_is_404(api):
    err = error_of(api.raw_json("GET", "/v1/models/gpt-does-not-exist"), 404)
    assert err["type"] == "invalid_request_error"
    with pytest.raises(openai.NotFoundError):
        api.client.models.retrieve("gpt-does-not-exist")


@pytest.mark.emulator_only
def test_unknown_model_code_and_base_model_delete(api):
    err = error_of(api.raw_json("GET", "/v1/models/gpt-does-not-exist"), 404)
    assert err["code"] == "model_not_found"
    status, body = api.raw_json("DELETE", "/v1/models/gpt-4o-mini")
    assert status in (403, 404)
    conforms("error", body)


def test_missing_and_bad_keys_are_401(api):
    err = error_of(api.raw_json("GET", "/v1/models", key=None), 401)
    assert err["type"] == "invalid_request_error" and err["code"] is None
    assert err["message"].startswith("You didn't provide an API key.")
    err = error_of(api.raw_json("GET", "/v1/models", key="not-a-key-at-all-0000"), 401)
    assert err["code"] == "invalid_api_key" and err["message"].startswith("Incorrect API key provided: ")
    assert "not-a-key-at-all-0000" not in err["message"]   # the key is masked


def test_unknown_route_is_an_error_envelope(api):
    status, body = api.raw_json("GET", "/v1/fine_tuning/nothing-here")
    assert 400 <= status < 500
    conforms("error", body)


def test_unknown_job_is_404(api):
    err = error_of(api.raw_json("GET", "/v1/fine_tuning/jobs/ftjob-doesnotexist00000000000"), 404)
    assert err["type"] == "invalid_request_error"
    if api.emulator:   # the real body is UNVERIFIED (reference §2.4); ours names the path parameter
        assert err["param"] == "fine_tuning_job_id"
