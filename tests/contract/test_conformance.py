"""The conformance checker itself: it passes the reference's own examples and catches every kind of drift."""

from __future__ import annotations

import copy

import pytest

from contracts import conformance, wire

AVAILABLE, WHY = conformance.spec_status()
needs_spec = pytest.mark.skipif(not AVAILABLE, reason=WHY)

# The "created" job of reference §5.2 (composed from the spec and observed responses).
JOB = {"object": "fine_tuning.job", "id": "ftjob-4xQ9mT2kLp8RzWc7Ny3Vb5Ha", "model": "gpt-4o-mini-2024-07-18",
       "created_at": 1735478233, "finished_at": None, "fine_tuned_model": None, "organization_id": "org-abc123",
       "result_files": [], "status": "validating_files", "validation_file": None,
       "training_file": "file-8cfhES3s4PHGUmbtTpwjaN",
       "hyperparameters": {"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"},
       "method": {"type": "supervised", "supervised": {"hyperparameters": {
           "batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}}},
       "trained_tokens": None, "error": None, "user_provided_suffix": None,
       "seed": 952749579, "estimated_finish": None, "integrations": [], "metadata": None}
FILE = {"id": "file-Q3v8k2LmN7pRt5wXy1zA9b", "object": "file", "bytes": 1694, "created_at": 1735477670,
        "filename": "train.jsonl", "purpose": "fine-tune", "status": "processed", "status_details": None,
        "expires_at": None}


def changed(base: dict, **changes) -> dict:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is KeyError:
            out.pop(key)
        else:
            out[key] = value
    return out


def test_spec_is_available():
    if not AVAILABLE:
        pytest.skip(WHY)
    assert "FineTuningJob" in conformance.components()


def test_reference_examples_conform():
    assert conformance.check("fine_tuning.job", JOB) == []
    assert conformance.check("file", FILE) == []
    assert conformance.check("list.files", {"object": "list", "data": [FILE], "first_id": FILE["id"],
                                            "last_id": FILE["id"], "has_more": False}) == []
    assert conformance.check("error", {"error": {"message": "m", "type": "invalid_request_error", "param": None,
                                                 "code": None}}) == []


@pytest.mark.parametrize("payload,fragment", [
    (changed(JOB, surprise=1), "'surprise' is not in the schema"),
    (changed(JOB, status="created"), "'created' is not one of"),
    (changed(JOB, seed=KeyError), "'seed' is missing"),
    (changed(JOB, created_at="1735478233"), "expected integer"),
    (changed(JOB, model=None), "null, expected string"),
    (changed(JOB, hyperparameters={"n_epochs": 0}), "below the minimum 1"),
    (changed(JOB, error={"code": "x", "message": None, "param": None}), "error.message: null"),
    (changed(JOB, error={"code": None, "message": None, "param": None}), "error.code: null"),
    (changed(JOB, method={"type": "supervised", "supervised": {"hyperparameters": {"epochs": 3}}}), "'epochs'"),
], ids=["extra-key", "enum", "required", "type", "null", "minimum", "half-null-error", "all-null-error", "nested-extra"])
@needs_spec
def test_spec_check_catches(payload, fragment):
    problems = conformance.check_spec("fine_tuning.job", payload)
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize("payload", [
    changed(JOB, status="paused"),
    changed(JOB, shared_with_openai=False, usage_metrics=None),
], ids=["paused", "documented-extras"])
def test_documented_deviations_are_accepted(payload):
    assert conformance.check("fine_tuning.job", payload) == []


def test_deviations_are_scoped():
    assert conformance.check("fine_tuning.job", changed(JOB, hyperparameters=None)) != []   # strict SDK type
    dpo = changed(JOB, hyperparameters=None, method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1}}})
    assert conformance.check("fine_tuning.job", dpo) != []                               # DPO jobs too
    assert conformance.check("file", changed(FILE, status="paused")) != []
    assert set(conformance.DOCUMENTED_EXTRAS) == {"user_provided_suffix", "usage_metrics", "shared_with_openai",
                                                  "obfuscation", "store"}


def test_sdk_check_works_without_the_spec(monkeypatch, tmp_path):
    monkeypatch.setenv(conformance.SPEC_ENV, str(tmp_path / "missing.yaml"))
    conformance.components.cache_clear()
    try:
        available, why = conformance.spec_status()
        assert not available and "missing.yaml" in why and "skipped" in why
        assert conformance.check("fine_tuning.job", JOB) == []
        problems = conformance.check("fine_tuning.job", changed(JOB, status="created", seed=KeyError))
        assert problems and all(p.startswith("sdk FineTuningJob") for p in problems)
    finally:
        conformance.components.cache_clear()


@needs_spec
def test_components_come_from_the_json_cache(monkeypatch):
    conformance.components.cache_clear()
    conformance.components()   # writes the cache if it was not there
    conformance.components.cache_clear()
    monkeypatch.setattr(conformance, "_parse_yaml", lambda *a: pytest.fail("parsed the YAML again"))
    try:
        assert "OpenAIFile" in conformance.components()
    finally:
        conformance.components.cache_clear()


def test_every_shape_names_a_schema_and_an_sdk_model():
    for kind, s in wire.SHAPES.items():
        assert s.kind == kind and hasattr(s.sdk, "model_validate")
        if AVAILABLE:
            assert s.schema in conformance.components()
    assert wire.kind_of(FILE) == "file" and wire.kind_of({"id": "x", "object": "file", "deleted": True}) == \
        "file.deleted"
