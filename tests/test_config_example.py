"""config.example.toml documents every setting, and nothing that does not exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from core.config import DEFAULTS

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
# Defaults Flask itself applies with a fixed value we do not want operators to change.
NOT_FOR_OPERATORS = {"SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE"}


def test_every_key_is_documented_and_parses() -> None:
    text = EXAMPLE.read_text()
    tomllib.loads(text)  # it must be valid TOML as shipped
    mentioned = set(re.findall(r"^#?\s*([A-Z][A-Z_]+)\s*=", text, flags=re.M))
    assert set(DEFAULTS) - NOT_FOR_OPERATORS <= mentioned
    assert mentioned <= set(DEFAULTS)
