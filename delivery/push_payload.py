"""What a push says and how it is labelled: the JSON of docs/push-payload.md and the RFC 8030 headers.

The payload is in the subscriber's language (Message.text picks it, with its fallbacks). The
few words we add ourselves (level names, "Update", "Withdrawn") come from the small table
below rather than the gettext catalogue: the worker renders outside any request, and these
must stay short and exact. A language without an entry gets the English words.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from .channels import TEST_MARK, Message
from .push_crypto import OVERHEAD

# Every push body is one of these sizes, so its length tells nothing about the alert. The
# largest stays under the ~2.5 KB that every push service (Firefox's Android bridge included)
# accepts. Headlines are at most 160 characters and push texts 120, so even four-byte
# characters fit the largest: a payload that does not is a bug, and FAILs.
BODY_SIZES = (1024, 2048)
MAX_TTL_SECONDS = 28 * 24 * 3600  # push services keep messages at most about four weeks
URGENCY = {"info": "low", "caution": "normal", "warning": "high", "red_alert": "high"}
# RFC 8030 §5.4: at most 32 characters of the URL-safe base64 alphabet.
TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

WORDS: dict[str, dict[str, str]] = {
    "nl": {
        "info": "Informatie",
        "caution": "Let op",
        "warning": "Waarschuwing",
        "red_alert": "Rode alert",
        "update": "Update",
        "withdrawn": "Ingetrokken",
        "withdrawn_body": "Deze waarschuwing is ingetrokken en geldt niet meer.",
    },
    "en": {
        "info": "Information",
        "caution": "Caution",
        "warning": "Warning",
        "red_alert": "Red alert",
        "update": "Update",
        "withdrawn": "Withdrawn",
        "withdrawn_body": "This warning has been withdrawn and no longer applies.",
    },
}


class PayloadError(ValueError):
    """The message cannot be sent as a push (too large, bad topic): our bug, not the subscriber's."""


@dataclass(frozen=True)
class Prepared:
    """One message in one language, ready to encrypt: shared by every subscriber who reads it."""

    plaintext: bytes
    body_size: int
    headers: dict[str, str]


def prepare(message: Message, language: str, moment: datetime) -> Prepared:
    lang, texts = message.text(language)
    plaintext = json.dumps(payload(message, lang, texts), ensure_ascii=False, separators=(",", ":")).encode()
    return Prepared(plaintext, body_size(len(plaintext)), headers(message, moment))


def payload(message: Message, lang: str, texts: dict[str, str]) -> dict[str, str]:
    words = WORDS.get(lang, WORDS["en"])
    headline = texts.get("headline", "").strip()
    if message.kind == "cancel":
        title, body = f"{words['withdrawn']}: {headline}", words["withdrawn_body"]
    else:
        label = words.get(message.level, message.level)
        # Editors often start the headline with the level already ("Rode alert: …"): say it once.
        title = headline if headline.casefold().startswith(label.casefold()) else f"{label}: {headline}"
        if message.kind == "update":
            title = f"{words['update']}: {title}"
        body = texts.get("push_text", "").strip()
    parts = urlsplit(message.url)
    # A path keeps working whatever host name the service worker was installed from.
    url = parts.path + (f"?{parts.query}" if parts.query else "")
    return {
        "title": TEST_MARK + title if message.test else title,
        "body": body,
        "url": url or "/",
        "tag": message.topic,
        "level": message.level,
        "lang": lang,
        "kind": message.kind,
    }


def body_size(plaintext_length: int) -> int:
    for size in BODY_SIZES:
        if plaintext_length + OVERHEAD <= size:
            return size
    raise PayloadError(f"a {plaintext_length}-byte payload exceeds the largest push body ({BODY_SIZES[-1]} bytes)")


def headers(message: Message, moment: datetime) -> dict[str, str]:
    if not TOPIC.match(message.topic):
        raise PayloadError(f"topic {message.topic!r} is not 1-32 URL-safe base64 characters")
    # TTL 0 would drop the alert for anyone whose phone is off right now; it lives until expiry.
    ttl = int(min(MAX_TTL_SECONDS, max(0.0, (message.expires - moment).total_seconds())))
    return {
        "TTL": str(ttl),
        "Urgency": URGENCY.get(message.level, "normal"),
        "Topic": message.topic,
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
    }
