"""How an alert version reads on a page: texts with language fallback, dose ratios, defaults.

These are template globals (registered by the public blueprint), so any template that has a
version can show it the way the public pages do, the editor's preview included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from regions.tree import get as get_region

from .models import AlertComponent, AlertPhoto, AlertVersion
from .schema import TEXT_LIMITS

TEXT_FIELDS = tuple(TEXT_LIMITS)
# Forms people call pills; for the others "pills" in the default disclaimer would be wrong.
PILL_FORMS = frozenset({"tablet", "capsule"})


class LocalText(NamedTuple):
    """A text and the language it is actually in (the page's, or a fallback's)."""

    text: str
    lang: str


def language_order(lang: str) -> list[str]:
    """The page's language first, then the configured ones, in configured order."""
    configured: list[str] = current_app.config["LANGUAGES"]
    return [lang, *(other for other in configured if other != lang)]


def alert_texts(version: AlertVersion, lang: str) -> dict[str, LocalText]:
    """Each text field in the page's language, or else in the first language that has it.

    Per field, not per language: a Dutch alert whose English translation lacks the
    instruction still shows the instruction (in Dutch, marked as such).
    """
    by_lang = {t.lang: t for t in version.texts}
    order = language_order(lang) + [code for code in by_lang if code not in language_order(lang)]
    found: dict[str, LocalText] = {}
    for field in TEXT_FIELDS:
        for code in order:
            text = by_lang.get(code)
            value = getattr(text, field, "") if text is not None else ""
            if value and value.strip():
                found[field] = LocalText(value.strip(), code)
                break
        else:
            found[field] = LocalText("", lang)
    if not found["disclaimer"].text:
        found["disclaimer"] = LocalText(default_disclaimer(version.form), lang)
    if not found["emergency_advice"].text:
        found["emergency_advice"] = LocalText(default_emergency_advice(), lang)
    return found


def has_fallback(texts: dict[str, LocalText], lang: str) -> bool:
    return any(item.text and item.lang != lang for item in texts.values())


def default_disclaimer(form: str) -> str:
    if form in PILL_FORMS:
        return _("Identical-looking pills can differ: the same logo and colour do not mean the same content or dose.")
    return _("Products that look identical can differ in content and dose.")


def default_emergency_advice() -> str:
    # 112 is the emergency number in every EU country, where these alerts apply.
    return _("If someone feels unwell after using, go to the first aid post or call 112. Tell them what was taken.")


def dose_ratio(component: AlertComponent, version: AlertVersion) -> float | None:
    """How many times the reference dose a component holds, when the two are comparable.

    Only the same substance in the same unit compares: 300 mg MDMA against 136 mg MDMA is
    2.2 times, but DOC against an MDMA reference, or mg/g against mg, means nothing.
    """
    reference = version.reference_amount
    if component.amount is None or not component.quantified or not reference or reference <= 0:
        return None
    if component.unit != (version.reference_unit or "mg"):
        return None
    if component.substance.strip().casefold() != version.reference_substance.strip().casefold():
        return None
    return component.amount / reference


def photo_alt(photo: AlertPhoto, lang: str) -> LocalText:
    """The photo's alt text in the page's language, another language's, or a plain description."""
    alt = photo.alt_text or {}
    for code in [*language_order(lang), *alt]:
        value = alt.get(code)
        if isinstance(value, str) and value.strip():
            return LocalText(value.strip(), code)
    if photo.side == "back":
        return LocalText(_("Photo of the back of the product"), lang)
    return LocalText(_("Photo of the product"), lang)


def linkable(url: str) -> bool:
    """Whether an editor's web link may become a link: http(s) only, as the validator demands.

    Checked again here because a row written some other way (an import, an old database)
    must not turn "javascript:..." into a link that runs when a reader clicks it.
    """
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def region_name(code: str) -> str:
    """The region's name from the region tree, or "" for a code it no longer knows."""
    region = get_region(code)
    return region.name if region is not None else ""


TEMPLATE_GLOBALS: dict[str, Callable[..., Any]] = {
    "alert_texts": alert_texts,
    "has_fallback": has_fallback,
    "dose_ratio": dose_ratio,
    "photo_alt": photo_alt,
    "region_name": region_name,
    "linkable": linkable,
}
