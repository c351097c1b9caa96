"""The hand-written HMAC in push_crypto against the standard library's, and a round trip through http_ece."""

from __future__ import annotations

import hashlib
import hmac

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from delivery.push_crypto import Receiver, _hmac, encrypt
from tests.pushservice.keys import auth_secret, private_key, subscription_keys


@given(key=st.binary(min_size=0, max_size=64), data=st.binary(max_size=300))
def test_hmac_is_rfc_2104_hmac_sha256(key: bytes, data: bytes) -> None:
    assert _hmac(key, data) == hmac.new(key, data, hashlib.sha256).digest()


def test_a_body_decrypts_with_the_subscribers_keys_to_the_padded_plaintext() -> None:
    receiver = Receiver(*subscription_keys("42"))
    body = encrypt(b'{"title": "High dose"}', receiver, 1024)
    assert len(body) == 1024
    key: ec.EllipticCurvePrivateKey = private_key("42")
    plain = http_ece.decrypt(body, private_key=key, auth_secret=auth_secret("42"), version="aes128gcm")
    assert plain == b'{"title": "High dose"}'
