"""Reflected XSS: a payload in any query parameter, path segment or form field of any route
comes back escaped, or not at all.

The query parameters are read from the source (every `args.get("...")`), the routes from
app.url_map and the forms from the pages themselves, so new ones are attacked as they appear.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from werkzeug.test import TestResponse

from tests.alerts.test_editor_ui import Browser

from .attacks import POLYGLOT, Form, forms_of, html_problems, xml_problems
from .site import World, query_parameters, rules

# Form fields whose change logs the browser out or deletes what the walk still needs.
LEAVE_ALONE = re.compile(r"/(logout|leave|unsubscribe/)")


def reflection_problems(response: TestResponse) -> list[str]:
    """A 500, or the payload back as markup, script, a redirect target or a broken document."""
    if response.status_code == 500:
        return ["answered 500"]
    problems = []
    location = response.headers.get("Location", "")
    if location.lower().lstrip().startswith(("javascript:", "//", "http:", "https:")) or "<" in location:
        problems.append(f"redirects to {location!r}")
    body = response.get_data()
    if response.mimetype == "text/html":
        problems += html_problems(body)
        problems += [f"raw {part!r}" for part in (b"<script>alert(1)", b"<img src=x") if part in body]
    elif response.mimetype.endswith(("/xml", "+xml")) and response.status_code == 200:
        problems += xml_problems(body)
    response.close()
    return problems


def test_the_parameter_list_is_read_from_the_code() -> None:
    names = query_parameters()
    assert {"next", "lang", "q", "region", "level", "state", "version", "widget_lang"} <= set(names)


def test_every_query_parameter_of_every_get_route(world: World) -> None:
    chief, names = world.chief(), query_parameters()
    failures = []
    for rule, _method in rules(world.app, {"GET"}):
        path = world.path(rule)
        for query in ({name: POLYGLOT for name in names}, *({name: POLYGLOT} for name in names)):
            response = chief.client.get(path, query_string=query)
            failures += [f"GET {path} {sorted(query)}: {p}" for p in reflection_problems(response)]
    assert failures == [], "\n".join(failures[:40])


def test_every_path_segment_that_takes_text(world: World) -> None:
    chief = world.chief()
    failures = []
    for rule, method in rules(world.app, {"GET", "POST", "PUT", "PATCH", "DELETE"}):
        text_arguments = [name for name in rule.arguments if type(rule._converters[name]).__name__ in TEXT_CONVERTERS]
        for name in text_arguments:
            path = world.path(rule, **{name: POLYGLOT})
            response = chief.client.open(path, method=method)
            failures += [f"{method} {path}: {p}" for p in reflection_problems(response)]
    for path in ("/" + quote(POLYGLOT, safe=""), "/editor/" + quote(POLYGLOT), "/api/v1/" + quote(POLYGLOT)):
        failures += [f"GET {path}: {p}" for p in reflection_problems(chief.client.get(path))]
    assert failures == [], "\n".join(failures)


TEXT_CONVERTERS = {"UnicodeConverter", "PathConverter"}


def test_every_form_field_of_every_page(world: World) -> None:
    """Each form on each page, every field but the CSRF token filled with the payload."""
    chief = world.chief()
    anonymous = Browser.__new__(Browser)  # the login page's form is only shown to visitors
    anonymous.app, anonymous.client = world.app, world.app.test_client()
    forms: dict[tuple[str, str], tuple[Browser, Form]] = {}
    for browser in (chief, anonymous):
        for alert_id in (world.published.id, world.draft.id):
            for rule, _method in rules(world.app, {"GET"}):
                path = world.path(rule, **({"alert_id": alert_id} if "alert_id" in rule.arguments else {}))
                response = browser.get(path)
                if response.mimetype == "text/html":
                    for form in forms_of(response.data, path):
                        if form.text_fields() and not LEAVE_ALONE.search(form.action):
                            forms.setdefault((form.method, form.action), (browser, form))
                response.close()
    assert {"/editor/alerts/new", "/subscribe/email", "/editor/login"} <= {action for _m, action in forms}
    failures = []
    for (method, action), (browser, form) in sorted(forms.items(), key=lambda item: item[0]):
        filled = {name: POLYGLOT for name in form.text_fields()}
        if method == "GET":
            response = browser.client.get(action, query_string=filled)
        else:
            response = browser.client.post(action, data={**filled, "csrf_token": form.csrf_token})
        failures += [f"{method} {action}: {p}" for p in reflection_problems(response)]
    assert failures == [], "\n".join(failures)
