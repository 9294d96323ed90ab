"""What counts as a touchpoint: who spoke in a client channel."""

from __future__ import annotations

import pytest

from domain.records import Client
from domain.touchpoint import Speaker, speaker_of

ACME = Client(
    id=1,
    slug="acme",
    name="Acme Corp",
    cso_id="U0CSO1",
    service_lead_id="U0SL1",
    engagement_partner_id="U0EP1",
    contacts=("U0EXT1", "U0CSO2"),
)
OURS = {"U0CSO1", "U0SL1", "U0EP1", "U0CSO2", "U0OTHER"}


@pytest.mark.parametrize(
    ("user", "speaker"),
    [
        ("U0CSO1", Speaker.TEAM),
        ("U0SL1", Speaker.TEAM),
        ("U0EP1", Speaker.TEAM),
        ("U0EXT1", Speaker.CLIENT),  # a listed contact
        ("U0EXT9", Speaker.CLIENT),  # not one of us: the client's people
        ("U0CSO2", Speaker.CLIENT),  # one of us, but listed as the client's contact
        ("U0OTHER", Speaker.OTHER_INTERNAL),  # one of us, not on this client's team
    ],
)
def test_who_spoke(user: str, speaker: Speaker) -> None:
    assert speaker_of(ACME, user, OURS) is speaker
