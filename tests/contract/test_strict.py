"""A strict SDK client (`_strict_response_validation=True`) through a whole fine-tuning life.

Every other contract test's SDK client is strict too (see `Api` in conftest); these walk upload → job →
poll → events → checkpoints → chat → delete with nothing but SDK calls (tests/strict_lifecycle.py), so any
drift from the SDK's own types fails here first. tests/seeds/test_strict_sdk.py runs the same walk over
loopback, also under openai 1.x and 2.x (the nox sessions).
"""

from __future__ import annotations

import pytest

from tests import strict_lifecycle

pytestmark = pytest.mark.emulator_only


def test_strict_client_through_a_whole_job(api):
    strict_lifecycle.whole_life(api.client, finish=lambda: None)     # immediate transitions


def test_strict_client_on_failed_and_cancelled_jobs(api):
    strict_lifecycle.failed_and_cancelled(api.client, finish=lambda: None,
                                          hold=lambda: api.policy("manual", 1.0))
