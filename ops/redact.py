"""Scrubbing what must never reach a log: email addresses, push endpoints and other capability
URLs, and IP addresses.

The code never logs these on purpose (tests check each place that could); this is the last line
of defence for what slips through anyway, such as a library's exception text or a header echoed
in an error. It works on the formatted line, so it catches arguments and tracebacks too.

Addresses that name this machine itself (127.0.0.1, ::1, 0.0.0.0) stay: they say nothing about a
person, and an operator reading "cannot connect to 127.0.0.1:5432" needs them.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

REDACTED = "[redacted]"
EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")
# Candidates only (two colons or more); ipaddress decides, so "13:00:00" stays a time.
IPV6 = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:)[0-9A-Fa-f:.]{2,45}(?![\w:])")
# A path segment this long is a token, an id or an endpoint's key rather than a word.
TOKEN_LENGTH = 16
# Push services' hosts: every path on them is a subscription's endpoint, however short.
PUSH_HOST_SUFFIXES = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "push.services.mozilla.com",
    "notify.windows.com",
    "push.apple.com",
)


def redact(text: str) -> str:
    """`text` with every email address, endpoint or token in a URL, and IP address replaced."""
    if not text:
        return text
    text = URL.sub(_url, text)
    text = EMAIL.sub("[email]", text)
    text = IPV6.sub(_ipv6, text)
    return IPV4.sub(_ipv4, text)


def redact_path(path: str) -> str:
    """A URL path with its token-like segments replaced: /manage/<token> → /manage/[redacted]."""
    return "/".join(REDACTED if len(part) >= TOKEN_LENGTH else part for part in path.split("/"))


def _url(match: re.Match[str]) -> str:
    whole = match.group()
    raw = whole.rstrip(".,;:!?)]")  # sentence punctuation after a URL stays as it was
    tail = whole[len(raw) :]
    try:
        parts = urlsplit(raw)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return REDACTED + tail
    if _is_ip(host) and not _is_this_machine(host):
        host = "[ip]"
    elif ":" in host:
        host = f"[{host}]"  # an IPv6 address kept: bracketed, as in the URL
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port else "")  # user:password@ never kept
    if host.endswith(PUSH_HOST_SUFFIXES) and parts.path not in ("", "/"):
        return f"{origin}/{REDACTED}{tail}"
    rest = redact_path(parts.path)
    if parts.query:
        rest += f"?{REDACTED}"
    return origin + rest + tail


def _ipv4(match: re.Match[str]) -> str:
    # Whatever looks like an address goes, valid or not ("999.1.1.1" may be a typo of a real one).
    return match.group() if _is_this_machine(match.group()) else "[ip]"


def _ipv6(match: re.Match[str]) -> str:
    candidate = match.group()
    core = candidate.rstrip(".:")
    return "[ip]" + candidate[len(core) :] if _is_ip(core) and not _is_this_machine(core) else candidate


def _is_this_machine(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1, as dual-stack sockets report IPv4 peers
    return address.is_loopback or address.is_unspecified


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True
