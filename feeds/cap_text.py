"""The words of one CAP <info> block: event, headline, description and instruction in one language.

An aggregator shows an <info> block on its own, so its description carries what the public
page shows around the editor's text: the lab result, what the product looks like, the samples
and why it is an alert. Those facts are labelled with the same translated strings the public
page uses, so the Dutch block reads Dutch throughout. Call `info_words` inside
`flask_babel.force_locale(lang)`; it reads only the texts of that one language.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext

from alerts.labels import label
from alerts.models import AlertComponent, AlertText, AlertVersion
from alerts.presentation import PILL_FORMS, default_disclaimer, default_emergency_advice, dose_ratio
from alerts.vocabulary import MsgType
from core.i18n import format_day, format_number

# CAP's <event> names the kind of hazard, and aggregators group and title alerts by it. It is
# a fixed term per language rather than a gettext string: the Dutch catalogue is checked for
# completeness (tests/test_i18n.py) and this module does not own it. Other languages get
# the English term.
EVENT = {"nl": "Drugswaarschuwing", "en": "Drug checking alert"}
DEFAULT_EVENT = EVENT["en"]


@dataclass(frozen=True)
class InfoWords:
    event: str
    headline: str
    description: str
    instruction: str


def info_words(version: AlertVersion, text: AlertText) -> InfoWords:
    cancel = version.msg_type == MsgType.CANCEL
    headline = _("Withdrawn: %(headline)s", headline=text.headline) if cancel else text.headline
    parts = _withdrawal(version) if cancel else []
    parts += [
        text.description.strip() or text.push_text.strip(),
        _lab_result(version),
        _looks(version),
        _samples(version),
        _reasons(version),
        text.disclaimer.strip() or default_disclaimer(version.form),
    ]
    emergency = text.emergency_advice.strip() or default_emergency_advice()
    if cancel:
        # The advice of the alert no longer applies, but look-alikes may still be around.
        advice = [_("Products like this one may still be around. When in doubt, have yours tested."), emergency]
    else:
        advice = [text.instruction.strip(), emergency]
    return InfoWords(
        event=EVENT.get(text.lang, DEFAULT_EVENT),
        headline=headline,
        description=_paragraphs(parts),
        instruction=_paragraphs(advice),
    )


def _withdrawal(version: AlertVersion) -> list[str]:
    parts = [_("This alert has been withdrawn and no longer applies.")]
    if version.withdrawal_reason:
        parts.append(_("Reason: %(reason)s", reason=label("withdrawal_reason", version.withdrawal_reason)))
    if version.withdrawal_note.strip():
        parts.append(version.withdrawal_note.strip())
    return parts


def _lab_result(version: AlertVersion) -> str:
    if not version.components:
        return ""
    found = "; ".join(_component(c, version) for c in version.components)
    return f"{_('Lab result')}: {found}"


def _component(component: AlertComponent, version: AlertVersion) -> str:
    if component.quantified and component.amount is not None:
        words = f"{format_number(component.amount)} {component.unit} {component.substance}"
    else:
        words = f"{component.substance} ({_('found, amount not measured')})"
    ratio = dose_ratio(component, version)
    if ratio is not None:
        reference = f"{format_number(version.reference_amount)} {version.reference_unit}"
        words += " — " + _("%(ratio)s× the reference of %(reference)s", ratio=format_number(ratio), reference=reference)
    if not component.expected:
        words += f" ({_('unexpected')})"
    return words


def _looks(version: AlertVersion) -> str:
    facts = [label("form", version.form)]
    if version.sold_as:
        facts.append(f"{_('Sold as')}: {version.sold_as}")
    logo = ": ".join(part for part in (version.logo_name, version.logo_description) if part)
    if logo:
        facts.append(f"{_('Logo')}: {logo}")
    if version.colours:
        facts.append(f"{_('Colours')}: {', '.join(version.colours)}")
    if version.shape:
        facts.append(f"{_('Shape')}: {version.shape}")
    if version.back_side:
        facts.append(f"{_('Back side')}: {version.back_side}")
    if version.size_mm:
        facts.append(f"{_('Size')}: {version.size_mm} mm")
    if version.weight_mg is not None:
        facts.append(f"{_('Weight')}: {format_number(version.weight_mg)} mg")
    if version.form in PILL_FORMS and version.bilayer:
        facts.append(_("Two layers"))
    return f"{_('What it looks like')}: {'; '.join(facts)}"


def _samples(version: AlertVersion) -> str:
    facts = []
    if version.sample_count:
        facts.append(ngettext("%(num)d sample", "%(num)d samples", version.sample_count))
    if version.first_seen:
        facts.append(f"{_('First seen')}: {format_day(version.first_seen)}")
    if version.last_seen:
        facts.append(f"{_('Last seen')}: {format_day(version.last_seen)}")
    if version.test_sites:
        facts.append(f"{_('Test sites')}: {', '.join(version.test_sites)}")
    return f"{_('Samples')}: {'; '.join(facts)}" if facts else ""


def _reasons(version: AlertVersion) -> str:
    if not version.risk_reasons:
        return ""
    return f"{_('Why this alert')}: {', '.join(label('risk_reason', r) for r in version.risk_reasons)}"


def _paragraphs(parts: list[str]) -> str:
    return "\n\n".join(part for part in parts if part)
