"""RFC 8291 message encryption for web push: aes128gcm, one record, a fresh ECDH key per message.

Written against `cryptography` and hashlib instead of going through pywebpush or http_ece:
those build several HKDF objects and parse keys on every call, and encryption is most of a
push's CPU cost (see /work/shared/guide/delivery.md). HKDF with a single output block is two
HMACs (RFC 5869), so it is spelled out here, and so is HMAC itself (RFC 2104): with OpenSSL 3
`hmac.new()` and even the one-shot `hmac.digest()` cost about 2.3 µs each, two SHA-256 calls
on pre-padded keys about 1.4 µs, and a push takes five HMACs.

The body is padded to a size the caller chooses, so its length says nothing about the text.
"""

from __future__ import annotations

import os
import struct
from hashlib import sha256

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from subscribers.vapid import b64url_decode

# salt (16) + record size (4) + key id length (1) + our public key (65), then the AES-GCM tag.
HEADER_BYTES = 16 + 4 + 1 + 65
TAG_BYTES = 16
OVERHEAD = HEADER_BYTES + TAG_BYTES + 1  # and the 0x02 delimiter that ends the last record
RECORD_SIZE = 4096  # RFC 8291: push services accept at least 4096 bytes; one record holds it all
_CURVE = ec.SECP256R1()
_KEY_LABEL = b"Content-Encoding: aes128gcm\x00\x01"
_NONCE_LABEL = b"Content-Encoding: nonce\x00\x01"


class InvalidKeys(ValueError):
    """The subscription's stored p256dh or auth cannot be used to encrypt."""


class Receiver:
    """A subscriber's browser keys, parsed once: p256dh is its ECDH public key, auth a 16-byte secret."""

    __slots__ = ("auth", "key", "raw")

    def __init__(self, p256dh: str | None, auth: str | None) -> None:
        try:
            self.raw = b64url_decode(p256dh or "")
            self.auth = b64url_decode(auth or "")
        except ValueError:
            raise InvalidKeys("unusable push keys: not base64url") from None
        if len(self.auth) != 16:
            raise InvalidKeys(f"unusable push keys: the auth secret is {len(self.auth)} bytes, not 16")
        if len(self.raw) != 65 or self.raw[0] != 4:
            raise InvalidKeys("unusable push keys: p256dh is not an uncompressed P-256 point")
        try:
            self.key = ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, self.raw)
        except ValueError:
            raise InvalidKeys("unusable push keys: p256dh is not a point on P-256") from None


def encrypt(plaintext: bytes, receiver: Receiver, body_size: int) -> bytes:
    """The request body for `plaintext`, exactly `body_size` bytes long (padding fills the rest)."""
    padding = body_size - OVERHEAD - len(plaintext)
    if padding < 0:
        raise ValueError(f"{len(plaintext)} bytes do not fit a {body_size}-byte push body")
    if body_size - HEADER_BYTES > RECORD_SIZE:
        raise ValueError(f"a push body holds one record of at most {RECORD_SIZE} bytes")
    ours = ec.generate_private_key(_CURVE)
    our_public = ours.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    shared = ours.exchange(ec.ECDH(), receiver.key)
    # RFC 8291 §3.3-3.4: mix the auth secret and both public keys into the input keying material.
    ikm = _hmac(_hmac(receiver.auth, shared), b"WebPush: info\x00" + receiver.raw + our_public + b"\x01")
    salt = os.urandom(16)
    prk = _hmac(salt, ikm)
    key, nonce = _hmac(prk, _KEY_LABEL)[:16], _hmac(prk, _NONCE_LABEL)[:12]
    record = plaintext + b"\x02" + bytes(padding)
    header = salt + struct.pack("!IB", RECORD_SIZE, len(our_public)) + our_public
    return header + AESGCM(key).encrypt(nonce, record, None)


# RFC 2104's inner and outer pads, applied to a key with bytes.translate (a C loop).
_BLOCK = 64  # SHA-256's block size; our keys (16 and 32 bytes) are never longer
_INNER = bytes(byte ^ 0x36 for byte in range(256))
_OUTER = bytes(byte ^ 0x5C for byte in range(256))


def _hmac(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA-256 of `data` (tests/delivery/test_push_crypto.py holds it to the standard library's)."""
    assert len(key) <= _BLOCK
    padded = key.ljust(_BLOCK, b"\x00")
    return sha256(padded.translate(_OUTER) + sha256(padded.translate(_INNER) + data).digest()).digest()
