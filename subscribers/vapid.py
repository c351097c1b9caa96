"""VAPID (RFC 8292): the key pair that identifies this server to browser push services.

Browsers bind every push subscription to the public key the page subscribed with, so a new
key pair silently orphans every existing subscription: keys are made once and kept.

Where the keys come from, first found wins:
1. VAPID_PRIVATE_KEY (and optionally VAPID_PUBLIC_KEY, checked against it) from the config
   or the environment, for deployments that keep secrets out of the file system;
2. the file VAPID_FILE (default instance/vapid.json, mode 0600) that
   `flask --app app vapid generate` writes.

Keys are written as base64url without padding: the private key as its raw 32-byte scalar
(what py_vapid's `Vapid.from_string` reads), the public key as the 65-byte uncompressed point
(what a page hands to `pushManager.subscribe({applicationServerKey})`).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, current_app
from py_vapid import Vapid

from core.clock import now

# Apple rejects a VAPID subject that is not a real mailto: or https: URL.
SUBJECT = re.compile(r"^(mailto:[^@\s]+@[^@\s]+\.[^@\s]+|https://[^/\s:@]+\.[^/\s@]+(/\S*)?)$", re.IGNORECASE)


class VapidError(RuntimeError):
    """The keys or the subject are missing or unusable; the message says what to do."""


@dataclass(frozen=True)
class VapidKeys:
    private_key: str  # base64url raw scalar; secret
    public_key: str  # base64url uncompressed point: the page's applicationServerKey
    subject: str  # mailto: or https:, the "sub" claim push services may contact

    def signer(self) -> Vapid:
        """A py_vapid signer for these keys (delivery signs once per push-service origin)."""
        return Vapid.from_string(self.private_key)

    def __repr__(self) -> str:  # never print the private key in a traceback or log line
        return f"VapidKeys(public_key={self.public_key!r}, subject={self.subject!r})"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url with or without padding; ValueError for anything else."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64url") from error


def generate_pair() -> tuple[str, str]:
    """(private, public) for a fresh P-256 key pair, both base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    return _encode_private(key), _encode_public(key.public_key())


def _encode_private(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def _encode_public(key: ec.EllipticCurvePublicKey) -> str:
    return b64url(key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def public_from_private(private_key: str) -> str:
    """The public key that belongs to a private one; VapidError when it is not a P-256 scalar."""
    try:
        raw = b64url_decode(private_key)
        if len(raw) != 32:
            raise ValueError("a raw P-256 private key is 32 bytes")
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError as error:
        raise VapidError(f"the VAPID private key is not a base64url P-256 key ({error})") from error
    return _encode_public(key.public_key())


def key_file(app: Flask) -> Path:
    return Path(app.config.get("VAPID_FILE") or Path(app.instance_path) / "vapid.json")


def write_key_file(path: Path, *, replace: bool) -> str:
    """Write a new pair to `path` (0600) and return its public key.

    The file is written under a temporary name created 0600, then renamed, so there is never
    a moment when a readable or half-written key file exists.
    """
    private, public = generate_pair()
    body = json.dumps({"private_key": private, "public_key": public, "created_at": now().isoformat()}, indent=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(body + "\n")
    if replace:
        os.replace(temporary, path)
    else:
        try:
            # link() refuses to overwrite: a file made meanwhile by another process stays.
            os.link(temporary, path)
        finally:
            temporary.unlink()
    return public


def vapid_keys(app: Flask | None = None) -> VapidKeys:
    """The keys and subject in use; VapidError saying how to fix it when there are none.

    Read on every call (a small file): a `vapid generate --force` takes effect without a
    restart, and nothing secret lingers in a cache.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    private = config.get("VAPID_PRIVATE_KEY") or None
    public = config.get("VAPID_PUBLIC_KEY") or None
    if private is None:
        if public is not None:
            raise VapidError("VAPID_PUBLIC_KEY is set without VAPID_PRIVATE_KEY; set both or neither")
        private, public = _from_file(key_file(app))
    derived = public_from_private(private)
    if public is not None and public.rstrip("=") != derived:
        raise VapidError("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY")
    return VapidKeys(private_key=private, public_key=derived, subject=vapid_subject(app))


def _from_file(path: Path) -> tuple[str, str | None]:
    try:
        data: Any = json.loads(path.read_text())
    except FileNotFoundError:
        raise VapidError(f"no VAPID keys: run `flask --app app vapid generate` (writes {path})") from None
    except (OSError, ValueError) as error:
        raise VapidError(f"cannot read VAPID keys from {path}: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("private_key"), str):
        raise VapidError(f"{path} holds no private_key")
    public = data.get("public_key")
    return data["private_key"], public if isinstance(public, str) else None


def vapid_subject(app: Flask) -> str:
    """VAPID_SUBJECT, or mailto: the SENDER address; it must be a real mailto: or https: URL."""
    subject = app.config.get("VAPID_SUBJECT") or f"mailto:{app.config.get('SENDER', '')}"
    if not SUBJECT.match(subject):
        raise VapidError(f"VAPID_SUBJECT must be a mailto: address or an https: URL, not {subject!r}")
    return str(subject)
