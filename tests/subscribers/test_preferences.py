"""Subscriber preferences: what is accepted, what is refused with a named field."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from alerts.schema import ValidationError
from subscribers.models import Channel, Subscription
from subscribers.preferences import apply_preferences, from_form, preferences_of, validate_preferences

LANGUAGES = ["nl", "en"]
FULL = {
    "areas": ["nl-nh", "GM0363"],
    "circle": {"lat": 52.37, "lon": 4.9, "radius_km": 10},
    "min_level": "caution",
    "forms": ["tablet", "powder"],
    "substances": ["mdma"],
    "language": "en",
    "accept_fallback": False,
    "quiet_hours": {"start": "23:30", "end": "07:00", "timezone": "Europe/Amsterdam"},
    "digest": "daily",
    "digest_hour": 18,
    "digest_weekday": 4,
}


def test_round_trip() -> None:
    subscription = Subscription(channel=Channel.EMAIL, public_id="x")
    apply_preferences(subscription, validate_preferences(FULL, LANGUAGES))
    stored = preferences_of(subscription)
    assert stored == {**FULL, "areas": ["GM0363", "NL-NH"]}
    assert any(area.derived for area in subscription.areas)  # the circle reaches municipalities


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"areas": ["XX-NOPE"]}, "areas"),
        ({"areas": [], "circle": None}, "areas"),
        ({"areas": "NL"}, "areas"),
        ({"circle": {"lat": 95, "lon": 4, "radius_km": 5}}, "circle.lat"),
        ({"circle": {"lat": 52, "lon": 4, "radius_km": 5000}}, "circle.radius_km"),
        ({"min_level": "panic"}, "min_level"),
        ({"forms": ["pill"]}, "forms"),
        ({"substances": "mdma"}, "substances"),
        ({"language": "fr"}, "language"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "07:00", "end": "07:00"}}, "quiet_hours"),
        ({"quiet_hours": {"start": "06:00", "end": "23:00"}}, "quiet_hours"),  # 17 hours
        ({"quiet_hours": {"start": "23:00", "end": "07:00", "timezone": "Mars/Base"}}, "quiet_hours.timezone"),
        ({"digest": "hourly"}, "digest"),
        ({"digest_hour": 24}, "digest_hour"),
        ({"digest_weekday": True}, "digest_weekday"),
        # Only null and "" stand for "left out": false, 0, [] or {} for a word are mistakes.
        ({"min_level": False}, "min_level"),
        ({"language": 0}, "language"),
        ({"digest": []}, "digest"),
        ({"forms": {}}, "forms"),
        ({"quiet_hours": {"start": "23:00", "end": "07:00", "timezone": False}}, "quiet_hours.timezone"),
        # Numbers: whole hours, no booleans, and nothing a float cannot hold.
        ({"digest_hour": 9.5}, "digest_hour"),
        ({"digest_hour": float("inf")}, "digest_hour"),
        ({"digest_hour": 10**400}, "digest_hour"),
        ({"circle": {"lat": True, "lon": 4, "radius_km": 5}}, "circle.lat"),
        ({"circle": {"lat": 10**400, "lon": 4, "radius_km": 5}}, "circle.lat"),
        # A misspelt member is named, not dropped.
        ({"quiet_hour": {"start": "23:00", "end": "07:00"}}, "quiet_hour"),
        ({"circle": {"lat": 52, "lon": 4, "radius": 5, "radius_km": 5}}, "circle.radius"),
        ({"quiet_hours": {"start": "23:00", "end": "07:00", "zone": "UTC"}}, "quiet_hours.zone"),
    ],
)
def test_bad_preferences_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_preferences({**FULL, **change}, LANGUAGES)
    assert field in caught.value.errors


def test_null_and_empty_text_are_left_out_and_numbers_may_come_as_text() -> None:
    clean = validate_preferences(
        {**FULL, "min_level": "", "language": None, "forms": "", "digest": None, "digest_hour": "18"}, LANGUAGES
    )
    assert (clean["min_level_rank"], clean["language"], clean["forms_mask"]) == (0, "nl", 0)
    assert (clean["digest"].value, clean["digest_hour"]) == ("off", 18)


def test_form_fields_become_the_json_shape() -> None:
    form = MultiDict(
        [
            ("areas", "NL-NH, GM0363"),
            ("min_level", "warning"),
            ("forms", "tablet"),
            ("language", "nl"),
            ("quiet_start", "23:00"),
            ("quiet_end", "07:00"),
            ("timezone", "Europe/Amsterdam"),
            ("digest", "weekly"),
        ]
    )
    clean = validate_preferences(from_form(form), LANGUAGES)
    assert clean["areas"] == ["NL-NH", "GM0363"] and clean["quiet_start"] == 23 * 60
    assert clean["accept_fallback"] is False  # an unticked checkbox


def test_changing_preferences_of_a_stored_subscription_keeps_shared_regions(app: object) -> None:
    from core.db import db

    subscription = Subscription(channel=Channel.PUSH, public_id="y", endpoint="https://push.example/1")
    apply_preferences(subscription, validate_preferences({**FULL, "circle": None}, LANGUAGES))
    db.session.add(subscription)
    db.session.commit()
    apply_preferences(subscription, validate_preferences({**FULL, "areas": ["GM0363", "NL-UT"]}, LANGUAGES))
    db.session.commit()
    assert preferences_of(subscription)["areas"] == ["GM0363", "NL-UT"]
