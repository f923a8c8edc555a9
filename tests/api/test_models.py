"""Models API: the catalog, fine-tuned models with colons in their ids, deletion rules."""

from __future__ import annotations

import io

import openai
import pytest

from contracts import catalog
from tests.conftest import pig_jsonl


def tuned_model(api) -> str:
    f = api.client.files.create(file=("t.jsonl", io.BytesIO(pig_jsonl())), purpose="fine-tune")
    job = api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613")
    return api.client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model


def test_catalog_is_listed(api):
    listed = {m.id: m for m in api.client.models.list()}
    assert set(catalog.CATALOG) <= set(listed)
    m = listed["gpt-3.5-turbo-0613"]
    assert (m.object, m.owned_by, m.created) == ("model", "openai", catalog.CATALOG["gpt-3.5-turbo-0613"].created)


def test_retrieve_and_delete_fine_tuned(api):
    name = tuned_model(api)
    assert name.count(":") == 4
    assert api.client.models.retrieve(name).id == name
    deleted = api.client.models.delete(name)
    assert (deleted.id, deleted.deleted) == (name, True)
    with pytest.raises(openai.NotFoundError) as e:
        api.client.models.retrieve(name)
    assert e.value.code == "model_not_found" and e.value.body["message"] == f"The model '{name}' does not exist"
    assert name not in {m.id for m in api.client.models.list()}
    with pytest.raises(openai.NotFoundError):
        api.client.models.delete(name)


def test_base_model_cannot_be_deleted(api):
    with pytest.raises(openai.PermissionDeniedError) as e:
        api.client.models.delete("gpt-4o-mini-2024-07-18")
    assert e.value.code == "model_not_deletable"


def test_unknown_model_is_404(api):
    with pytest.raises(openai.NotFoundError) as e:
        api.client.models.retrieve("foobar")
    assert (e.value.code, e.value.param) == ("model_not_found", "model")


def test_other_tenants_model_is_invisible(api):
    name = tuned_model(api)
    other = api.client_for(api.key + "-b")
    with pytest.raises(openai.NotFoundError):
        other.models.retrieve(name)
    with pytest.raises(openai.NotFoundError):
        other.models.delete(name)
    assert name not in {m.id for m in other.models.list()}
    with pytest.raises(openai.NotFoundError) as e:   # the chat path's read (models.store.resolve_callable)
        other.chat.completions.create(model=name, messages=[{"role": "user", "content": "hi"}])
    assert e.value.code == "model_not_found"
