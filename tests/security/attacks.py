"""Attack payloads and the checks that prove they stayed data: shared by the tests in tests/security.

`MARKUP` payloads are HTML; validation must refuse them wherever an editor or subscriber
writes text, and every page, feed and mail must escape them if they reach a row some other
way. `PLAIN` payloads are not HTML as far as the validator can tell (attribute breakers,
`javascript:`, template syntax, an unclosed tag): they are stored, so the output layer alone
must keep them inert. Each carries a marker ("xss1" ...) that never occurs in a clean page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from typing import Any
from xml.etree import ElementTree as ET

import sqlalchemy as sa

from core.db import db

MARKUP = (
    '<script>alert("xss1")</script>',
    '"><img src=x onerror=alert("xss2")>',
    "</title><script>alert('xss3')</script>",
    '<svg/onload=alert("xss4")>',
    "<a href=\"javascript:alert('xss5')\">x</a>",
    "<iframe srcdoc=\"&lt;script&gt;alert('xss6')&lt;/script&gt;\"></iframe>",
)
PLAIN = (
    '" onmouseover="alert(\'xss7\')" x="',
    "' onfocus='alert(8)' data-xss8='",
    "javascript:alert('xss9')",
    "{{7*7}} ${7*7} {%xss10%}",
    "<img src=x onerror=alert('xss11')//",
    "&lt;b&gt;xss12&lt;/b&gt;&#60;i&#62;",
    "xss13 ]]> a < b > c",
)
# Every PLAIN payload fits the shortest free-text field (product.size_mm, 40 characters).
MARKERS = tuple(f"xss{n}" for n in range(1, 14))
# One string carrying every trick at once, for places that echo what they are given (queries):
# markup, template syntax, a script URL, and SQL's quotes, comments and LIKE wildcards.
POLYGLOT = "xss0\"'><script>alert(1)</script><img src=x onerror=alert(1)>{{7*7}}javascript:alert(1)//' OR 1=1 -- %_\\"

URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "srcset", "poster", "data", "xlink:href", "cite"})
# Elements that never appear in our pages except from an attacker.
FOREIGN_ELEMENTS = frozenset({"iframe", "object", "embed", "base", "frame", "frameset", "applet", "svg", "math"})


class MarkupAudit(HTMLParser):
    """Everything in an HTML document that would run script or was made from a payload."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script":
            self._script = True
            source = named.get("src") or ""
            if not source.startswith("/") or source.startswith("//"):
                self.problems.append(f"<script> that is not one of our files: {named}")
        if tag in FOREIGN_ELEMENTS:
            self.problems.append(f"<{tag}> element")
        if tag == "meta" and (named.get("http-equiv") or "").lower() == "refresh" and "url" in str(named).lower():
            self.problems.append(f"<meta http-equiv=refresh> that goes elsewhere: {named}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}= handler on <{tag}>")
            if any(marker in name for marker in MARKERS):
                self.problems.append(f"attribute {name!r} made from a payload on <{tag}>")
            if name in URL_ATTRIBUTES and value and _scripted_url(value):
                self.problems.append(f"{name}={value!r} on <{tag}>")
        if any(marker in tag for marker in MARKERS):
            self.problems.append(f"element <{tag}> made from a payload")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._script = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = False

    def handle_data(self, data: str) -> None:
        if self._script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]!r}")
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        if any(marker in data for marker in MARKERS):
            self.problems.append("a payload opened an HTML comment")


def _scripted_url(value: str) -> bool:
    squeezed = "".join(value.split()).lower()
    return squeezed.startswith(("javascript:", "vbscript:", "data:text/html"))


def html_problems(document: str | bytes, shown: Iterable[str] = ()) -> list[str]:
    """What in `document` could run; plus each of `shown` that is not there as plain text."""
    text = document.decode() if isinstance(document, bytes) else document
    audit = MarkupAudit()
    audit.feed(text)
    audit.close()
    visible = "".join(audit.text)
    return audit.problems + [f"not shown as text: {value!r}" for value in shown if value not in visible]


def xml_problems(document: bytes, shown: Iterable[str] = ()) -> list[str]:
    """An XML document must parse, hold no element made from a payload, and carry `shown` as text.

    RSS descriptions are HTML in text (readers render it), so they get the HTML audit too.
    """
    root = ET.fromstring(document)  # noqa: S314 -- our own output, parsed to inspect it
    problems, texts = [], []
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1]
        if name in FOREIGN_ELEMENTS | {"script", "img", "style", "a", "html", "body"}:
            problems.append(f"<{name}> element in the feed")
        for key, value in element.attrib.items():
            if key.startswith("on") or any(marker in key for marker in MARKERS) or _scripted_url(value):
                problems.append(f"attribute {key}={value!r} on <{name}>")
        texts.extend(value for value in (element.text, element.tail) if value)
        if element.tag == "description" and element.text:  # RSS's, not CAP's (namespaced, plain text)
            problems.extend(html_problems(element.text))
    joined = "".join(texts)
    return problems + [f"not in the XML as text: {value!r}" for value in shown if value not in joined]


def json_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def json_problems(body: bytes, shown: Iterable[str] = ()) -> list[str]:
    """JSON carries texts as strings, which no browser runs; they must arrive exactly as written."""
    strings = list(json_strings(json.loads(body)))
    return [f"not a JSON string value: {value!r}" for value in shown if not any(value in s for s in strings)]


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two snapshots are equal only if nothing was written.

    api_tokens.last_used_at is left out: a valid token is stamped before its request is judged.
    """
    db.session.expire_all()
    tables = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if (table.name, c.name) != ("api_tokens", "last_used_at")]
        rows = db.session.execute(sa.select(*columns)).all()
        tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    db.session.rollback()
    return tables


def changed_tables(before: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    after = snapshot()
    return [name for name in before if before[name] != after.get(name)]


class Form:
    """One <form> of a page: where it goes and the fields a browser would send."""

    def __init__(self, action: str, method: str) -> None:
        self.action, self.method = action, method
        self.fields: dict[str, str] = {}  # name -> input type ("text", "hidden", "textarea", "select", ...)
        self.csrf_token = ""  # the value the page put in it, valid for the session that got the page

    def text_fields(self) -> list[str]:
        return [name for name, kind in self.fields.items() if kind in TEXT_INPUTS and name != "csrf_token"]


TEXT_INPUTS = frozenset({"text", "textarea", "search", "email", "url", "tel", "number", "hidden", "select", ""})


class FormParser(HTMLParser):
    def __init__(self, page_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form = Form(named.get("action") or self.page_path, (named.get("method") or "get").upper())
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select") and named.get("name"):
            kind = "textarea" if tag == "textarea" else "select" if tag == "select" else named.get("type", "text")
            self._form.fields.setdefault(named["name"], kind.lower())
            if named["name"] == "csrf_token":
                self._form.csrf_token = named.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def forms_of(page: bytes, page_path: str) -> list[Form]:
    parser = FormParser(page_path)
    parser.feed(page.decode())
    return parser.forms
