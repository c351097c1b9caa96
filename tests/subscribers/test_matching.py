"""The matching rule: worked examples, and the SQL statement held to the pure function."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from alerts.models import AlertArea, AlertComponent, AlertText, AlertVersion
from alerts.vocabulary import FORMS, Level, Status
from core.clock import now
from core.db import db
from subscribers.areas import set_areas
from subscribers.interests import SUBSTANCE_GROUPS, mask
from subscribers.matching import matches, matching_ids
from subscribers.models import Channel, Subscription, SubscriptionArea

AMSTERDAM = (52.37, 4.90)
ROTTERDAM = (51.92, 4.48)


def make_alert(
    areas: list[str],
    level: str = "warning",
    form: str = "tablet",
    substances: tuple[str, ...] = ("MDMA",),
    sold_as: str = "XTC",
    languages: tuple[str, ...] = ("nl", "en"),
    circle: tuple[float, float, float] | None = None,
    status: str = "actual",
) -> AlertVersion:
    """An alert version in memory: matching needs no stored alert."""
    moment = now()
    version = AlertVersion(
        number=1,
        status=Status(status),
        level=Level(level),
        form=form,
        sold_as=sold_as,
        effective=moment,
        expires=moment + timedelta(days=1),
    )
    version.texts = [AlertText(lang=lang, headline="h", push_text="p") for lang in languages]
    version.components = [AlertComponent(substance=name) for name in substances]
    version.areas = [AlertArea(code=code) for code in areas]
    if circle:
        version.circle_lat, version.circle_lon, version.circle_radius_km = circle
    return version


def subscribe(
    areas: list[str],
    circle: tuple[float, float, float] | None = None,
    commit: bool = True,
    **fields: Any,
) -> Subscription:
    values: dict[str, Any] = {"channel": Channel.PUSH, "language": "nl", "active": True, **fields}
    subscription = Subscription(public_id=secrets.token_hex(8), **values)
    set_areas(subscription, areas, circle)
    db.session.add(subscription)
    if commit:
        db.session.commit()
    return subscription


def selected(version: AlertVersion) -> set[int]:
    return set(db.session.scalars(matching_ids(version)))


@pytest.mark.parametrize(
    ("alert_area", "subscriber_area", "expected"),
    [
        ("NL", "GM0363", True),  # national alert reaches a municipality subscriber
        ("GM0363", "NL-NH", True),  # municipal alert reaches its province's subscribers
        ("GM0363", "NL", True),  # ... and its country's
        ("GM0363", "GM0363", True),
        ("GM0363", "NL-ZH", False),  # Amsterdam is not in South Holland
        ("GM0363", "GM0599", False),  # nor is it Rotterdam
        ("NL-NH", "NL-ZH", False),
        ("NL", "BE", False),
        ("ES-MD", "ES", True),
    ],
)
def test_areas_contain_each_other(app: Flask, alert_area: str, subscriber_area: str, expected: bool) -> None:
    subscription = subscribe([subscriber_area])
    alert = make_alert([alert_area])
    decision = matches(alert, subscription)
    assert decision.matched is expected, decision.reasons
    assert (subscription.id in selected(alert)) is expected


def test_circles(app: Flask) -> None:
    near_amsterdam = subscribe([], circle=(*AMSTERDAM, 5))
    near_rotterdam = subscribe([], circle=(*ROTTERDAM, 5))
    assert matches(make_alert(["GM0363"]), near_amsterdam)
    assert not matches(make_alert(["GM0363"]), near_rotterdam)
    assert matches(make_alert(["NL-ZH"]), near_rotterdam)
    alert_circle = make_alert(["BE"], circle=(52.40, 4.95, 3))  # a circle around a festival site
    assert matches(alert_circle, near_amsterdam) and not matches(alert_circle, near_rotterdam)
    assert selected(alert_circle) == {near_amsterdam.id}


def test_level_forms_substances_language_and_state(app: Flask) -> None:
    wants_warning = subscribe(["NL"], min_level_rank=Level.WARNING.rank)
    powders_only = subscribe(["NL"], forms_mask=mask(["powder"], FORMS))
    cocaine_only = subscribe(["NL"], substances_mask=mask(["cocaine"], SUBSTANCE_GROUPS))
    german_strict = subscribe(["NL"], language="de", accept_fallback=False)
    paused = subscribe(["NL"], paused=True)
    unconfirmed = subscribe(["NL"], active=False)
    everything = subscribe(["NL"])
    caution_pill = make_alert(["NL"], level="caution")
    assert selected(caution_pill) == {everything.id}
    reasons = matches(caution_pill, wants_warning).reasons
    assert reasons == ["level caution is below the subscriber's minimum warning"]
    red_pill = make_alert(["NL"], level="red_alert")
    # A red alert goes to everyone in the area, whatever forms or substances they chose.
    assert selected(red_pill) == {everything.id, wants_warning.id, powders_only.id, cocaine_only.id}
    cocaine_powder = make_alert(["NL"], form="powder", substances=("cocaine", "levamisole"), sold_as="coke")
    assert selected(cocaine_powder) == {everything.id, wants_warning.id, powders_only.id, cocaine_only.id}
    assert not matches(red_pill, german_strict) and not matches(red_pill, paused)
    assert not matches(red_pill, unconfirmed)


# --- the SQL statement agrees with the pure function --------------------------------------

CODES = ["NL", "NL-NH", "NL-ZH", "NL-UT", "NL-GE", "GM0363", "GM0599", "GM0344", "GM0268", "BE", "BE-VAN", "ES-MD"]
circles = st.one_of(
    st.none(),
    st.tuples(st.floats(50.8, 53.5), st.floats(3.4, 7.1), st.floats(0.5, 60)),
)
subscriptions = st.fixed_dictionaries(
    {
        "areas": st.lists(st.sampled_from(CODES), max_size=3, unique=True),
        "circle": circles,
        "active": st.booleans(),
        "paused": st.booleans(),
        "min_level_rank": st.integers(0, 3),
        "forms_mask": st.integers(0, 2 ** len(FORMS) - 1),
        "substances_mask": st.integers(0, 2 ** len(SUBSTANCE_GROUPS) - 1),
        "language": st.sampled_from(["nl", "en", "de"]),
        "accept_fallback": st.booleans(),
    }
)
alerts = st.fixed_dictionaries(
    {
        "areas": st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True),
        "circle": circles,
        "level": st.sampled_from([level.value for level in Level]),
        "form": st.sampled_from(FORMS),
        "substances": st.lists(st.sampled_from(["MDMA", "cocaine", "3-MMC", "DOC", "ketamine"]), max_size=3).map(tuple),
        "sold_as": st.sampled_from(["XTC", "cocaine", "2C-B", ""]),
        "languages": st.sampled_from([("nl", "en"), ("nl", "en", "de"), ("en",)]),
        "status": st.sampled_from(["actual", "actual", "actual", "test"]),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(alert=alerts, population=st.lists(subscriptions, min_size=1, max_size=15))
def test_sql_statement_agrees_with_pure_rule(
    app: Flask, alert: dict[str, Any], population: list[dict[str, Any]]
) -> None:
    db.session.execute(delete(SubscriptionArea))
    db.session.execute(delete(Subscription))
    for fields in population:
        subscribe(commit=False, **fields)
    db.session.commit()
    version = make_alert(**alert)
    stored = db.session.scalars(select(Subscription)).all()
    expected = {s.id for s in stored if matches(version, s)}
    assert selected(version) == expected
