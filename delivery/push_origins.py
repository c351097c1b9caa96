"""Per push service (origin): where we may send, one pooled HTTP session, and how hard we push.

Each origin gets its own aiohttp session and connection pool, a cap on requests in flight
that halves on a 429 and grows back by one per window of successes, and a pause (after a
429 until its Retry-After, after a 401/403 while an operator fixes our VAPID keys).

Endpoints were checked when stored (subscribers/endpoints.py), but DNS can change since and
settings can narrow: the scheme, host and IP literals are checked again here, and the
resolver refuses to connect to private or reserved addresses.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from datetime import datetime
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from subscribers.endpoints import _public as public_address
from subscribers.endpoints import host_matches


class BadEndpoint(ValueError):
    """We will not send to this endpoint (any more); the message names no more than its origin."""


def origin_of(endpoint: str | None, *, allowed_hosts: list[str], allow_private: bool) -> str:
    """`scheme://host[:port]` of a push endpoint we may send to; BadEndpoint otherwise."""
    parts = urlsplit(endpoint or "")
    try:
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        raise BadEndpoint("the endpoint has an invalid port") from None
    if not host or "@" in parts.netloc:
        raise BadEndpoint("the endpoint has no usable host")
    literal = _literal(host)
    loopback = host == "localhost" or (literal is not None and literal.is_loopback)
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_private and loopback):
        raise BadEndpoint(f"{parts.scheme or 'no'} scheme: only https endpoints are sent to")
    origin = f"{parts.scheme}://" + (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    if allowed_hosts and not host_matches(host, allowed_hosts):
        raise BadEndpoint(f"{origin} is not in PUSH_ALLOWED_HOSTS")
    if not allow_private and (literal is not None or loopback or host.endswith(".localhost")):
        raise BadEndpoint(f"{origin}: IP addresses and this machine are refused as endpoints")
    return origin


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class PublicResolver(AbstractResolver):
    """Resolves as usual, then keeps only public addresses, so a name cannot be pointed inwards."""

    def __init__(self) -> None:
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        public = [r for r in found if public_address(ipaddress.ip_address(r["host"].split("%", 1)[0]))]
        if not public:
            raise OSError(f"{host} resolves only to private or reserved addresses")
        return public

    async def close(self) -> None:
        await self._inner.close()


class Origin:
    """One push service: its session, its in-flight cap and its pause."""

    def __init__(self, name: str, session: aiohttp.ClientSession, cap: int) -> None:
        self.name, self.session, self.cap = name, session, cap
        self.limit = cap  # current cap: lowered by 429s, restored by successes
        self.in_flight = 0
        self.paused_until: datetime | None = None
        self.pause_reason = ""
        self._successes = 0

    def paused(self, moment: datetime) -> bool:
        return self.paused_until is not None and self.paused_until > moment

    def pause(self, until: datetime, reason: str) -> None:
        if self.paused_until is None or until > self.paused_until:
            self.paused_until, self.pause_reason = until, reason

    def slow_down(self) -> None:
        self.limit, self._successes = max(1, self.limit // 2), 0

    def succeeded(self) -> None:
        if self.limit < self.cap:
            self._successes += 1
            if self._successes >= self.limit:  # one more request at once per window of successes
                self.limit, self._successes = self.limit + 1, 0


def make_session(
    *, cap: int, connect_timeout: float, read_timeout: float, ssl_context: ssl.SSLContext, private: bool
) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=cap,
        limit_per_host=cap,
        ssl=ssl_context,
        keepalive_timeout=60,
        ttl_dns_cache=300,
        resolver=None if private else PublicResolver(),
    )
    timeout = aiohttp.ClientTimeout(
        total=connect_timeout + read_timeout,
        connect=connect_timeout,
        sock_connect=connect_timeout,
        sock_read=read_timeout,
    )
    # No cookies, no environment proxies (and webpush never follows redirects): a push service gets exactly our request.
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
    )
