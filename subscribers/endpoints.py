"""What a browser push subscription may look like before we store it (and later POST to it).

A push endpoint is a URL the visitor hands us and the delivery worker later sends requests
to: without checks it is a server-side request forgery hole (POSTs to 127.0.0.1:6379, to the
cloud metadata service, to the intranet). So an endpoint must be:

- https on the standard port (443), at most 1024 characters, with no user:password@ part;
- on a host matching PUSH_ALLOWED_HOSTS: exact names ("fcm.googleapis.com") or suffix
  patterns ("*.push.apple.com" matches any name ending in ".push.apple.com", not the bare
  name). An empty list allows any host;
- not an IP literal (also no disguised one such as "2130706433" or "0x7f.1"), not localhost,
  and not a name that resolves to a private, loopback, link-local, reserved, multicast or
  otherwise non-global address (every address getaddrinfo returns is checked).

When a name cannot be resolved (no DNS, as on an isolated machine, or a transient failure),
it is accepted if it matched an explicit allowlist entry, since the allowlist only names the
public push services, and refused when the allowlist is empty, since resolution is then the
only guard. This check runs at subscribe time only: DNS can change afterwards, so the
delivery worker must check the address it actually connects to as well.

PUSH_ALLOW_PRIVATE_ENDPOINTS = true lifts the address and port checks (IP literals,
localhost, private addresses and any port are accepted, and nothing is resolved) and also
allows plain http to loopback hosts: for tests and benchmarks with a push service on
127.0.0.1. Never in production.

Keys: p256dh is the browser's ECDH public key, a 65-byte uncompressed P-256 point that must
lie on the curve; auth is its 16-byte secret. Both base64url (RFC 8291).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from alerts.schema import ValidationError

from .vapid import b64url, b64url_decode

MAX_ENDPOINT_LENGTH = 1024
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# A last label that is all digits or hex is an IPv4 address in another spelling for getaddrinfo.
NUMERIC_LABEL = re.compile(r"^(\d+|0x[0-9a-f]*)$")
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
ENDPOINT_FIELD = "subscription.endpoint"
P256DH_FIELD = "subscription.keys.p256dh"
AUTH_FIELD = "subscription.keys.auth"

Resolver = Callable[..., list[tuple[Any, ...]]]


class PushSubscriptionInfo(NamedTuple):
    endpoint: str
    p256dh: str  # base64url, unpadded
    auth: str  # base64url, unpadded


class EndpointRefused(ValueError):
    """The endpoint is not one we will send to; the message says why, for the subscriber."""


def validate_subscription(payload: Any, config: dict[str, Any] | Any) -> PushSubscriptionInfo:
    """A browser's PushSubscription.toJSON(), checked; ValidationError naming every bad field."""
    if not isinstance(payload, dict):
        raise ValidationError({"subscription": "must be an object with endpoint and keys (PushSubscription.toJSON())"})
    errors: dict[str, str] = {}
    endpoint = ""
    try:
        endpoint = check_endpoint(
            payload.get("endpoint"),
            allowed_hosts=allowed_hosts(config),
            allow_private=bool(config.get("PUSH_ALLOW_PRIVATE_ENDPOINTS")),
        )
    except EndpointRefused as error:
        errors[ENDPOINT_FIELD] = str(error)
    keys = payload.get("keys")
    p256dh = auth = ""
    if not isinstance(keys, dict):
        errors["subscription.keys"] = "must be an object with p256dh and auth"
    else:
        try:
            p256dh = check_p256dh(keys.get("p256dh"))
        except ValueError as error:
            errors[P256DH_FIELD] = str(error)
        try:
            auth = check_auth(keys.get("auth"))
        except ValueError as error:
            errors[AUTH_FIELD] = str(error)
    if errors:
        raise ValidationError(errors)
    return PushSubscriptionInfo(endpoint, p256dh, auth)


def allowed_hosts(config: dict[str, Any] | Any) -> list[str]:
    """PUSH_ALLOWED_HOSTS as a list; a string from the environment may separate with commas."""
    value = config.get("PUSH_ALLOWED_HOSTS") or []
    if isinstance(value, str):
        value = value.split(",")
    return [pattern.strip().lower().rstrip(".") for pattern in value if pattern.strip()]


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def check_endpoint(
    url: Any, *, allowed_hosts: list[str], allow_private: bool, resolve: Resolver = socket.getaddrinfo
) -> str:
    """The endpoint unchanged if we may send to it; EndpointRefused saying why not."""
    if not isinstance(url, str) or not url:
        raise EndpointRefused("required: the push service URL the browser gave")
    if len(url) > MAX_ENDPOINT_LENGTH:
        raise EndpointRefused(f"longer than {MAX_ENDPOINT_LENGTH} characters")
    if not url.isascii() or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise EndpointRefused("contains spaces, control or non-ASCII characters")
    try:
        parts = urlsplit(url)
    except ValueError:  # "https://[::1/": an unclosed bracket
        raise EndpointRefused("is not a URL") from None
    try:
        port = parts.port
    except ValueError:
        raise EndpointRefused("has an invalid port") from None
    if "@" in parts.netloc:
        raise EndpointRefused("must not contain a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise EndpointRefused("has no host")
    literal = _ip_literal(host)
    loopback = host == "localhost" or host.endswith(".localhost") or (literal is not None and literal.is_loopback)
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_private and loopback):
        raise EndpointRefused("must be an https URL")
    if literal is None and not all(LABEL.match(label) for label in host.split(".")):
        raise EndpointRefused("has an invalid host name")
    if allowed_hosts and not host_matches(host, allowed_hosts):
        raise EndpointRefused(f"host {host} is not a known browser push service")
    if allow_private:
        return url
    if port not in (None, 443):
        # Push services listen on 443 only; another port is a way to reach some other service.
        raise EndpointRefused("must use the https port, 443")
    if literal is not None or NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        raise EndpointRefused("must name a host, not an IP address")
    if loopback:
        raise EndpointRefused("must not point to this machine (localhost)")
    try:
        infos = resolve(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        # See the module docstring: an explicit allowlist entry is trusted when DNS is down.
        if allowed_hosts:
            return url
        raise EndpointRefused(f"host {host} could not be resolved") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not _public(address):
            raise EndpointRefused(f"host {host} resolves to a private or reserved address")
    return url


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:10.0.0.1, 2002:0a00:0001:: (6to4) and 64:ff9b::10.0.0.1 (NAT64) reach an
        # IPv4 address: judge that address.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _public(embedded)
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def check_p256dh(value: Any) -> str:
    raw = _decode(value, "the browser's public key")
    if len(raw) != 65 or raw[0] != 4:
        raise ValueError(f"must be a 65-byte uncompressed P-256 point, not {len(raw)} bytes")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise ValueError("is not a point on the P-256 curve") from None
    return b64url(raw)


def check_auth(value: Any) -> str:
    raw = _decode(value, "the browser's auth secret")
    if len(raw) != 16:
        raise ValueError(f"must be 16 bytes, not {len(raw)}")
    return b64url(raw)


def _decode(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise ValueError(f"required: {what}, base64url")
    if len(value) > 200:
        raise ValueError("far too long")
    try:
        return b64url_decode(value)
    except ValueError:
        raise ValueError("is not base64url") from None
