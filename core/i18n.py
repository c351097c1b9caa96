"""Language choice: an explicit switch (cookie) wins, then Accept-Language."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import get_locale

LANG_COOKIE = "lang"


def select_locale() -> str | None:
    languages: list[str] = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LANGUAGE"]


def install_template_helpers(app: Flask) -> None:
    @app.context_processor
    def _locale() -> dict[str, object]:
        return {"current_locale": lambda: str(get_locale() or app.config["DEFAULT_LANGUAGE"])}
