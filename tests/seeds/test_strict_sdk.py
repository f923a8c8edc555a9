"""A user's own strict contract test (`_strict_response_validation=True`) against the emulator over loopback,
under whichever openai>=1 is installed: 3.x in `make test`, 1.x and 2.x in the nox sessions."""

from __future__ import annotations

from tests import strict_lifecycle
from tests.seeds.support import needs_v1


def strict_client(seed):
    import openai

    return openai.OpenAI(api_key=seed.key, base_url=seed.base_url, max_retries=0, _strict_response_validation=True)


@needs_v1
def test_strict_client_through_a_whole_job(seed):
    strict_lifecycle.whole_life(strict_client(seed), finish=lambda: seed.wait(3600))


@needs_v1
def test_strict_client_on_failed_and_cancelled_jobs(seed):
    strict_lifecycle.failed_and_cancelled(strict_client(seed), finish=lambda: seed.wait(3600), hold=lambda: None)
