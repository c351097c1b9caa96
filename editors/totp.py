"""The optional second factor: time-based one-time codes (RFC 6238) from an authenticator app.

The per-editor secret has to live in the database. It is stored sealed with AES-GCM under a
key derived from SECRET_KEY (HKDF), bound to the editor's id, so a database dump alone does
not give the codes away. Rotating SECRET_KEY therefore makes every enrolment unreadable:
those editors need `flask editors reset-totp EMAIL` and a new enrolment.

The time comes from core.clock, so tests can set it; a code is accepted once (the step
counter of the last accepted code is kept) and one step (30 s) of clock drift either way.
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import re

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from core import clock

from .models import Editor, Role

log = logging.getLogger(__name__)

STEP_SECONDS = 30
DIGITS = 6
# Codes of the step before and after now count too: phones' clocks drift.
DRIFT_STEPS = 1
SEALED_PREFIX = "v1:"
_HKDF_INFO = b"signaal editor totp secret v1"
_NONCE_BYTES = 12
_CODE = re.compile(rf"\d{{{DIGITS}}}")


def may_enrol(editor: Editor) -> bool:
    """Publishers and admins can switch the second factor on; it guards the power to publish."""
    return editor.role.allows(Role.PUBLISHER)


def must_enrol(editor: Editor) -> bool:
    """Whether this editor may do nothing before enrolling (REQUIRE_TOTP_FOR_PUBLISHERS)."""
    return bool(current_app.config["REQUIRE_TOTP_FOR_PUBLISHERS"]) and may_enrol(editor) and not editor.has_totp


# --- enrolment ----------------------------------------------------------------------------


def start_enrolment(editor: Editor) -> None:
    """Give `editor` a new, not yet active secret (replacing an unconfirmed one). The caller commits."""
    if editor.has_totp:
        raise ValueError("the second factor is already on; switch it off first")
    editor.totp_secret = _seal(editor.id, pyotp.random_base32())
    editor.totp_last_step = None


def pending_secret(editor: Editor) -> str | None:
    """The secret of an enrolment waiting for its first code, for showing to its owner."""
    if editor.has_totp or editor.totp_secret is None:
        return None
    return _open(editor)


def confirm_enrolment(editor: Editor, code: str) -> bool:
    """Switch the second factor on if `code` fits the pending secret. The caller commits."""
    if pending_secret(editor) is None or not check_code(editor, code):
        return False
    editor.totp_enabled_at = clock.now()
    return True


def switch_off(editor: Editor) -> None:
    """Forget the secret entirely (disable, or an admin's reset). The caller commits."""
    editor.totp_secret = None
    editor.totp_enabled_at = None
    editor.totp_last_step = None


def provisioning_uri(editor: Editor, secret: str) -> str:
    # The name the authenticator app shows beside the codes.
    issuer: str = current_app.config["SENDER_NAME"]
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=editor.email, issuer_name=issuer
    )


def qr_data_uri(uri: str) -> str:
    """The otpauth URI as an SVG QR code in a data: URI (img-src allows data:, nothing leaves the site)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, dark="#000", light="#fff"))


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- checking codes -----------------------------------------------------------------------


def check_code(editor: Editor, code: str) -> bool:
    """Whether `code` is a current code of `editor` not used before; remembers its step if so.

    The caller commits (and counts a failure toward the lockout when this says no).
    """
    code = re.sub(r"\s", "", code)
    if not _CODE.fullmatch(code) or editor.totp_secret is None:
        return False
    secret = _open(editor)
    if secret is None:
        return False
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now_step = int(clock.now().timestamp()) // STEP_SECONDS
    last = editor.totp_last_step if editor.totp_last_step is not None else -1
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        # A step at or before the last accepted one is a replay, even of a different valid code.
        if step > last and hmac.compare_digest(totp.generate_otp(step), code):
            editor.totp_last_step = step
            return True
    return False


# --- sealing ------------------------------------------------------------------------------


def _key() -> bytes:
    secret_key: str = current_app.config["SECRET_KEY"]
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return hkdf.derive(secret_key.encode())


def _seal(editor_id: int, secret: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key()).encrypt(nonce, secret.encode(), _bound_to(editor_id))
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def _open(editor: Editor) -> str | None:
    stored = editor.totp_secret or ""
    try:
        raw = base64.urlsafe_b64decode(stored.removeprefix(SEALED_PREFIX))
        return AESGCM(_key()).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _bound_to(editor.id)).decode()
    except (InvalidTag, ValueError):
        # The id only, never the secret or the address: enough for an operator to reset it.
        log.warning("editor %s: second-factor secret unreadable (SECRET_KEY changed?); reset it", editor.id)
        return None


def _bound_to(editor_id: int) -> bytes:
    # A sealed secret copied onto another editor's row does not open there.
    return f"editor:{editor_id}".encode()
