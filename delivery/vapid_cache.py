"""VAPID Authorization headers (RFC 8292), signed once per push-service origin and reused.

A signature costs about 50 µs and is the same for every push to one origin until it expires,
so each origin's header is made once and kept until shortly before its `exp`. Push services
compare `exp` with real time, so this uses the wall clock, never core.clock (which tests
freeze at other dates).
"""

from __future__ import annotations

import time

from py_vapid import Vapid02

from subscribers.vapid import VapidKeys

# RFC 8292 allows at most 24 h; half of that leaves room for clock skew at the push service.
LIFETIME_SECONDS = 12 * 3600
RENEW_BEFORE_SECONDS = 3600


class VapidCache:
    def __init__(self, keys: VapidKeys) -> None:
        self._signer = Vapid02.from_string(keys.private_key)
        self._subject = keys.subject
        self._headers: dict[str, tuple[str, float]] = {}
        self.signatures = 0  # how many were made, for tests and statistics

    def header(self, origin: str) -> str:
        """`vapid t=<JWT>, k=<public key>` for pushes to `origin` (scheme://host[:port])."""
        cached = self._headers.get(origin)
        wall = time.time()
        if cached is not None and cached[1] - RENEW_BEFORE_SECONDS > wall:
            return cached[0]
        expires = int(wall) + LIFETIME_SECONDS
        # py_vapid copies the claims it is given; a fresh dict each time anyway, never a shared one.
        signed = self._signer.sign({"aud": origin, "exp": expires, "sub": self._subject})
        self.signatures += 1
        self._headers[origin] = (signed["Authorization"], expires)
        return signed["Authorization"]

    def forget(self, origin: str) -> None:
        """Sign anew next time (the push service refused this one)."""
        self._headers.pop(origin, None)
