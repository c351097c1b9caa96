"""Alert content for attacks: every string leaf of the content shape, and which are free text."""

from __future__ import annotations

from typing import Any

from alerts.schema import ValidationError, validate_content
from tests.alert_payloads import audi_payload

from .attacks import MARKUP

LeafPath = tuple[str | int, ...]


def leaves(value: Any, path: LeafPath = ()) -> list[LeafPath]:
    """The path of every string in the content shape."""
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in leaves(item, (*path, index))]
    return []


def field_name(path: LeafPath) -> str:
    """The name validate_content reports a leaf under: texts.nl.headline, components[0].substance."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name


def with_leaves(content: dict[str, Any], paths: list[LeafPath], *values: str) -> dict[str, Any]:
    """`content` with the leaves at `paths` set to `values`, in turn (so each lands in several)."""
    for index, path in enumerate(paths):
        holder: Any = content
        for part in path[:-1]:
            holder = holder[part]
        holder[path[-1]] = values[index % len(values)]
    return content


def full_content() -> dict[str, Any]:
    """A valid content with every optional text filled in, so each text field has a leaf."""
    payload = audi_payload()
    payload.update(web_link="https://example.org/a", contact="lab", area_description="NL")
    for texts in payload["texts"].values():
        texts.update({key: key for key in ("description", "instruction", "emergency_advice", "disclaimer")})
    payload["product"].update(sold_as="XTC")
    return payload


def free_text_paths(app_config: Any) -> list[LeafPath]:
    """Leaves where the validator accepts any text: those it refuses markup in as "plain text"."""
    content = full_content()
    paths = leaves(content)
    try:
        validate_content(with_leaves(content, paths, MARKUP[0]), app_config["LANGUAGES"], [])
    except ValidationError as error:
        return [path for path in paths if "plain text" in error.errors.get(field_name(path), "")]
    raise AssertionError("markup in every leaf was accepted")
