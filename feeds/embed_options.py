"""What an embed shows, read from its query, and the snippets organisers paste into their sites.

The script widget (static/embed.js), the iframe page (/embed) and the venue screen (/screen)
take the same three parameters as the feeds: ?region= (a region code; alerts for regions in
or around it count, as everywhere), ?lang= and ?level= (the lowest level shown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape

from alerts import queries
from alerts.api_json import absolute
from alerts.models import AlertVersion
from alerts.vocabulary import Level
from core.i18n import locale_code
from regions import tree

# A name typed into the organisers' form (without script) becomes the best-matching region.
NAME_LOOKUP_LIMIT = 1
# The iframe's size in the snippet; organisers change it to fit their page.
FRAME_WIDTH, FRAME_HEIGHT = 400, 520


@dataclass(frozen=True)
class EmbedOptions:
    region: str | None
    lang: str
    level: Level

    def query(self) -> dict[str, Any]:
        """The query string that asks for exactly these options (the lowest level left out)."""
        args: dict[str, Any] = {"region": self.region} if self.region else {}
        args["lang"] = self.lang
        if self.level != Level.INFO:
            args["level"] = self.level.value
        return args

    @property
    def region_name(self) -> str:
        region = tree.get(self.region) if self.region else None
        return region.name if region is not None else (self.region or "")

    def title(self) -> str:
        """The box's title, such as "Drug alerts for Noord-Holland", in the embed's language."""
        with force_locale(self.lang):
            if self.region:
                return _("Drug alerts for %(region)s", region=self.region_name)
            return _("Drug alerts")


def parse_options(args: Mapping[str, str], *, names: bool = False) -> tuple[EmbedOptions, dict[str, str]]:
    """Options from a query, and a message per parameter that could not be used.

    A parameter in error falls back to its default, so a page can still show something. With
    `names`, a region may also be given by name ("Amsterdam"): the organisers' form works
    without script, where nobody picks codes from suggestions.
    """
    errors: dict[str, str] = {}
    region = None
    region_text = args.get("region", "").strip()
    if region_text:
        region = _region(region_text, names)
        if region is None:
            errors["region"] = _(
                "Unknown region %(region)s. Use a code such as NL-NH or a place name.", region=region_text[:40]
            )
    languages: list[str] = current_app.config["LANGUAGES"]
    lang = args.get("lang", "").strip().lower()
    if lang not in languages:
        if lang:
            errors["lang"] = _("Choose one of the languages offered.")
        lang = locale_code() if locale_code() in languages else current_app.config["DEFAULT_LANGUAGE"]
    level_text = args.get("level", "").strip().lower()
    level = Level.INFO
    if level_text in tuple(Level):
        level = Level(level_text)
    elif level_text:
        errors["level"] = _("Choose one of the levels offered.")
    return EmbedOptions(region, lang, level), errors


def _region(text: str, names: bool) -> str | None:
    if tree.is_known(text):
        return tree.normalise(text)
    if not names:
        return None
    found = tree.suggest(text, limit=NAME_LOOKUP_LIMIT)
    return found[0].code if found else None


def shown_versions(options: EmbedOptions) -> list[AlertVersion]:
    """The active alerts an embed shows, most severe first (the same as /api/v1/alerts gives it)."""
    return [
        version
        for version in queries.active_versions()
        if Level(version.level).rank >= options.level.rank
        and (options.region is None or options.region in queries.reach_of(version))
    ]


def script_snippet(options: EmbedOptions) -> str:
    """The fallback link and the script tag that replaces it with the widget.

    Without script (or when the API cannot be reached) the link stays: it opens /embed.
    """
    attributes = {
        "src": absolute(url_for("embed.script")),
        "data-region": options.region or "",
        "data-lang": options.lang,
        "data-level": options.level.value if options.level != Level.INFO else "",
    }
    written = " ".join(f'{name}="{escape(value)}"' for name, value in attributes.items() if value)
    return f'<a href="{escape(frame_url(options))}">{escape(options.title())}</a>\n<script {written} async></script>'


def iframe_snippet(options: EmbedOptions) -> str:
    return (
        f'<iframe src="{escape(frame_url(options))}" title="{escape(options.title())}" '
        f'width="{FRAME_WIDTH}" height="{FRAME_HEIGHT}" loading="lazy"></iframe>'
    )


def frame_url(options: EmbedOptions) -> str:
    return absolute(url_for("embed.frame", **options.query()))


def screen_url(options: EmbedOptions) -> str:
    return absolute(url_for("embed.screen", **options.query()))
