"""The SSRF guard on push endpoints, and the checks on the browser's keys."""

from __future__ import annotations

import base64
import os
import socket
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from alerts.schema import ValidationError
from core.config import DEFAULTS
from subscribers.endpoints import (
    EndpointRefused,
    allowed_hosts,
    check_auth,
    check_endpoint,
    check_p256dh,
    host_matches,
    validate_subscription,
)

DEFAULT_HOSTS: list[str] = DEFAULTS["PUSH_ALLOWED_HOSTS"]
FCM = "https://fcm.googleapis.com/fcm/send/abc123:APA91b"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def browser_keys() -> dict[str, str]:
    point = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = point.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"p256dh": b64(raw), "auth": b64(os.urandom(16))}


def dns(table: dict[str, list[str]]) -> Any:
    """A resolver answering from `table` the way getaddrinfo does; other names fail like no DNS."""

    def resolve(host: str, port: int, **_kwargs: Any) -> list[tuple[Any, ...]]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in table[host]
        ]

    return resolve


def check(url: str, hosts: list[str] | None = None, allow_private: bool = False, table: Any = None) -> str:
    return check_endpoint(
        url,
        allowed_hosts=DEFAULT_HOSTS if hosts is None else hosts,
        allow_private=allow_private,
        resolve=dns(table or {}),
    )


@pytest.mark.parametrize(
    "url",
    [
        FCM,
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
        "https://eu-1.push.services.mozilla.com/wpush/v2/gAAAAA",
        "https://wns2-db5p.notify.windows.com/w/?token=BQYAAA",
        "https://web.push.apple.com/QGuQyavXutnMH",
        "https://api.push.apple.com/3/device/abc",
        "https://fcm.googleapis.com:443/fcm/send/x",
        "https://FCM.googleapis.com./fcm/send/x",  # case and a trailing dot do not matter
    ],
)
def test_the_browser_push_services_are_accepted(url: str) -> None:
    assert check(url) == url


def test_suffix_patterns_match_subdomains_only() -> None:
    patterns = ["*.push.apple.com", "fcm.googleapis.com"]
    assert host_matches("web.push.apple.com", patterns)
    assert host_matches("a.b.push.apple.com", patterns)
    assert not host_matches("push.apple.com", patterns)
    assert not host_matches("evilpush.apple.com", patterns)
    assert not host_matches("fcm.googleapis.com.evil.example", patterns)
    assert not host_matches("x.fcm.googleapis.com", patterns)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://fcm.googleapis.com/fcm/send/x", "https"),
        ("ftp://fcm.googleapis.com/x", "https"),
        ("https://user:pw@fcm.googleapis.com/fcm/send/x", "user name"),
        ("https://fcm.googleapis.com@evil.example/x", "user name"),
        ("https://fcm.googleapis.com:99999/x", "port"),
        ("https://" + "a" * 1100, "longer than 1024"),
        ("https://fcm.googleapis.com/x y", "spaces"),
        ("https://fcm.googleapis.com/\u00e9", "non-ASCII"),
        ("https://push.example.net/x", "not a known browser push service"),
        ("https:///x", "no host"),
        ("", "required"),
    ],
)
def test_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(EndpointRefused, match=reason):
        check(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.0.0.1/x", "not an IP address"),
        ("https://203.0.113.9/x", "not an IP address"),  # even a public-looking one
        ("https://[::1]/x", "not an IP address"),
        ("https://2130706433/x", "not an IP address"),  # 127.0.0.1 spelled as one number
        ("https://0x7f.1/x", "invalid host name|not an IP address"),
        ("https://localhost/x", "localhost"),
        ("https://push.localhost/x", "localhost"),
        ("https://bad_host.example/x", "invalid host name"),
    ],
)
def test_addresses_and_localhost_are_refused_when_any_host_is_allowed(url: str, reason: str) -> None:
    with pytest.raises(EndpointRefused, match=reason):
        check(url, hosts=[], table={"push.example.net": ["93.184.215.14"]})


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.5",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address to refuse, not one to bind)
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:a00:1::1",
    ],
)
def test_names_resolving_to_private_addresses_are_refused(address: str) -> None:
    table = {"push.example.net": ["93.184.215.14", address]}  # one bad address is enough
    with pytest.raises(EndpointRefused, match="private or reserved"):
        check("https://push.example.net/x", hosts=[], table=table)


def test_public_names_are_accepted_when_any_host_is_allowed() -> None:
    table = {"push.example.net": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]}
    assert check("https://push.example.net/x", hosts=[], table=table)


def test_unresolvable_names_trusted_only_through_the_allowlist() -> None:
    # No DNS (as on this machine): an allowlisted push service is still accepted...
    assert check(FCM, table={})
    # ...but with any host allowed, an unresolvable name cannot be judged and is refused.
    with pytest.raises(EndpointRefused, match="could not be resolved"):
        check("https://push.example.net/x", hosts=[], table={})


def test_allowlisted_names_resolving_privately_are_refused() -> None:
    with pytest.raises(EndpointRefused, match="private"):
        check(FCM, table={"fcm.googleapis.com": ["10.0.0.7"]})


def test_private_endpoints_allowed_for_tests_and_loopback_http() -> None:
    for url in ("http://127.0.0.1:8123/push/1", "http://localhost:8123/p", "http://[::1]:8123/p", "https://10.0.0.1/x"):
        assert check(url, hosts=[], allow_private=True) == url
    with pytest.raises(EndpointRefused, match="https"):
        check("http://10.0.0.1/x", hosts=[], allow_private=True)  # plain http only to loopback
    with pytest.raises(EndpointRefused, match="not a known"):
        check("https://127.0.0.1/x", allow_private=True)  # the allowlist still applies


def test_allowed_hosts_from_the_environment_as_a_string() -> None:
    assert allowed_hosts({"PUSH_ALLOWED_HOSTS": "fcm.googleapis.com, *.Push.Apple.com."}) == [
        "fcm.googleapis.com",
        "*.push.apple.com",
    ]
    assert allowed_hosts({"PUSH_ALLOWED_HOSTS": []}) == []


def test_keys_are_accepted_and_stored_unpadded() -> None:
    keys = browser_keys()
    assert check_p256dh(keys["p256dh"]) == keys["p256dh"]
    assert check_p256dh(keys["p256dh"] + "=") == keys["p256dh"]
    assert check_auth(keys["auth"]) == keys["auth"]


def _point() -> bytes:
    return base64.urlsafe_b64decode(browser_keys()["p256dh"] + "=")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b64(_point()[:33]), "65-byte"),
        (b64(b"\x02" + _point()[1:33]), "65-byte"),  # the compressed form
        (b64(_point()[:-1] + bytes([_point()[-1] ^ 1])), "not a point on the P-256 curve"),
        (b64(b"\x04" + bytes(64)), "not a point on the P-256 curve"),
        ("abc+/def", "base64url"),
        ("", "required"),
        (None, "required"),
    ],
)
def test_bad_p256dh(value: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_p256dh(value)


@pytest.mark.parametrize(("value", "message"), [(b64(os.urandom(15)), "16 bytes, not 15"), (None, "required")])
def test_bad_auth(value: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_auth(value)


def test_validate_subscription_names_every_bad_field() -> None:
    config = {"PUSH_ALLOWED_HOSTS": DEFAULT_HOSTS, "PUSH_ALLOW_PRIVATE_ENDPOINTS": False}
    good = {"endpoint": FCM, "keys": browser_keys()}
    info = validate_subscription(good, config)
    assert info.endpoint == FCM and info.p256dh == good["keys"]["p256dh"]
    with pytest.raises(ValidationError) as caught:
        validate_subscription({"endpoint": "http://x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}, config)
    assert set(caught.value.errors) == {"subscription.endpoint", "subscription.keys.p256dh", "subscription.keys.auth"}
    with pytest.raises(ValidationError) as caught:
        validate_subscription({"endpoint": FCM}, config)
    assert set(caught.value.errors) == {"subscription.keys"}
    with pytest.raises(ValidationError) as caught:
        validate_subscription("nope", config)
    assert set(caught.value.errors) == {"subscription"}
