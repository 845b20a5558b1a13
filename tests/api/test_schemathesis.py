"""Property-based run of the whole API against its own OpenAPI schema (schemathesis through WSGI).

Every operation gets up to 25 generated requests, valid and invalid, derandomized so CI runs the
same ones each time. The catalog points at the fake providers; prediction jobs are never sent
(on_commit does not fire inside the test's transaction), so nothing leaves this machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from fakeapis.freesound import CC0
from samples import packs as sample_packs
from tests.predictions.factories import DonePredictionFactory
from tests.samples.factories import make_sound

pytestmark = pytest.mark.django_db

# Loaded through the app at collection time: schemathesis' lazy `from_fixture` loader does not
# run under pytest 9. Requests go to the same WSGI app, never to a network.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def fuzz_setup(catalog_settings, user, rates) -> Iterator[None]:
    rates(predictions="100000/hour", catalog="100000/min")  # the run is about 5xx, not rate limits
    # Some objects of the user's own, so generated ids sometimes find one.
    DonePredictionFactory.create_batch(3, owner=user)
    pack = sample_packs.pack_create(owner=user, name="Fuzzed")
    sound = make_sound(1, licence_url=CC0)
    sample_packs.pack_add_sound(pack=pack, sound=sound)
    # As Django's test client does: the WSGI handler must not close the test's connection (and
    # the transaction the test runs in) at the end of each request.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_api_never_answers_5xx_and_conforms_to_its_schema(case, fuzz_setup, token):
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        excluded_checks=[
            # A schema cannot say "a real audio file" or "an id that exists": 400 and 404 are right there.
            positive_data_acceptance,
            # DRF coerces lenient input on purpose (0 for a string field, an empty query value
            # for a defaulted one); what matters is that the answer is never a crash.
            negative_data_rejection,
        ],
    )
