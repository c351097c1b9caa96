"""Who gets an alert: the rule as a pure function, and the same rule as one SQL statement.

The rule, for a published alert version and a subscription:
0. the alert is an actual message (test and exercise messages go to nobody);
1. the subscription is active (email confirmed) and not paused;
2. the alert's level is at least the subscriber's minimum;
3. forms and substance groups, where the subscriber chose any, overlap the alert's —
   except for a red alert, which by definition goes to everyone in the area;
4. the alert has text in the subscriber's language, or the subscriber accepts a fallback;
5. the areas meet: one of the alert's regions contains one of the subscriber's, or the other
   way round (a national alert reaches every municipality in it; a municipal alert reaches
   those subscribed to it, its province or its country), or the two circles meet.
   A circle takes part as the finest regions its disc reaches (see regions.reach.circle_leaves).

`matches()` explains its decision; `matching_ids()` is the set-based statement for millions
of rows. A property-based test holds them to each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from alerts.models import AlertVersion
from alerts.queries import reach_of
from alerts.vocabulary import Level, Status

from .areas import CircleVector, alert_circle, circle_vectors_meet, subscription_circle
from .interests import form_bit, substance_bits
from .models import Subscription, SubscriptionArea


@dataclass
class Decision:
    matched: bool
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.matched


def matches(version: AlertVersion, subscription: Subscription) -> Decision:
    """Whether this subscription gets this alert version, with the reasons why not (or why)."""
    refusals: list[str] = []
    level = Level(version.level)
    if version.status != Status.ACTUAL:
        refusals.append(f"a {version.status} message goes to no subscriber")
    if not subscription.active or subscription.paused:
        refusals.append("the subscription is not active (unconfirmed or paused)")
    if level.rank < subscription.min_level_rank:
        refusals.append(
            f"level {level.value} is below the subscriber's minimum {list(Level)[subscription.min_level_rank]}"
        )
    if level != Level.RED_ALERT:
        if subscription.forms_mask and not subscription.forms_mask & form_bit(version):
            refusals.append(f"form {version.form} is not among the subscriber's forms")
        if subscription.substances_mask and not subscription.substances_mask & substance_bits(version):
            refusals.append("none of the alert's substances is among the subscriber's")
    languages = {t.lang for t in version.texts}
    if subscription.language not in languages and not subscription.accept_fallback:
        refusals.append(f"no text in {subscription.language} and the subscriber wants no fallback")
    area_reason = _areas_meet(version, subscription)
    if area_reason is None:
        refusals.append("the alert's areas do not reach the subscriber's")
    if refusals:
        return Decision(False, refusals)
    return Decision(True, [area_reason or ""])


def _areas_meet(version: AlertVersion, subscription: Subscription) -> str | None:
    reaching = reach_of(version)
    shared = sorted(reaching & {a.code for a in subscription.areas})
    if shared:
        return f"areas meet at {', '.join(shared[:5])}"
    ours, theirs = alert_circle(version), subscription_circle(subscription)
    if ours is not None and theirs is not None and circle_vectors_meet(ours, theirs):
        return "the alert's circle meets the subscriber's"
    return None


def matching_ids(version: AlertVersion) -> Select[tuple[int]]:
    """One statement selecting the id of every matching subscription (for INSERT … SELECT)."""
    level = Level(version.level)
    s = Subscription
    if version.status != Status.ACTUAL:
        return select(s.id).where(false())
    conditions = [
        s.active == true(),
        s.paused == False,  # noqa: E712 (SQL comparison, not Python truthiness)
        s.min_level_rank <= level.rank,
        or_(s.accept_fallback == true(), s.language.in_(sorted({t.lang for t in version.texts}))),
    ]
    if level != Level.RED_ALERT:
        conditions.append(or_(s.forms_mask == 0, s.forms_mask.op("&")(form_bit(version)) != 0))
        conditions.append(or_(s.substances_mask == 0, s.substances_mask.op("&")(substance_bits(version)) != 0))
    in_area: ColumnElement[bool] = s.id.in_(
        select(SubscriptionArea.subscription_id).where(SubscriptionArea.code.in_(sorted(reach_of(version))))
    )
    circle = alert_circle(version)
    if circle is not None:
        in_area = or_(in_area, _circle_condition(circle))
    return select(s.id).where(and_(*conditions, in_area))


def _circle_condition(circle: CircleVector) -> ColumnElement[bool]:
    """circle_vectors_meet() in SQL: the same arithmetic in the same order."""
    s = Subscription
    dot = s.circle_x * circle.x + s.circle_y * circle.y + s.circle_z * circle.z
    return and_(s.circle_x.is_not(None), dot >= circle.cos_r * s.circle_cos_r - circle.sin_r * s.circle_sin_r)
