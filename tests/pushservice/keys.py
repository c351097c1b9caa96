"""Subscriber keys derived from the push id and a seed both sides know.

A test (or a benchmark in another process) makes a subscription whose endpoint is
`/push/<id>` with `subscription_keys(id)`; the service derives the same private key from the
id when it needs to decrypt, so nothing has to be registered beforehand and nothing secret
crosses a process boundary. Test keys only: anyone who knows the seed can read the pushes.
"""

from __future__ import annotations

import functools
import hashlib

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from subscribers.vapid import b64url

SEED = "signaal-loopback-push"
# The order of P-256: private scalars lie in [1, N - 1].
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@functools.lru_cache(maxsize=4096)
def private_key(push_id: str, seed: str = SEED) -> ec.EllipticCurvePrivateKey:
    digest = hashlib.sha256(f"{seed}:key:{push_id}".encode()).digest()
    return ec.derive_private_key(int.from_bytes(digest, "big") % (N - 1) + 1, ec.SECP256R1())


def auth_secret(push_id: str, seed: str = SEED) -> bytes:
    return hashlib.sha256(f"{seed}:auth:{push_id}".encode()).digest()[:16]


def subscription_keys(push_id: str, seed: str = SEED) -> tuple[str, str]:
    """(p256dh, auth) as a browser's PushSubscription.toJSON() gives them: base64url."""
    public = private_key(push_id, seed).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64url(public), b64url(auth_secret(push_id, seed))
