"""The last line of defence for log lines: what is replaced, and what is left alone."""

from __future__ import annotations

import pytest

from delivery import push_status
from ops.redact import redact, redact_path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail to jan.de-vries+alerts@example.org bounced", "mail to [email] bounced"),
        ("Peer: ('203.0.113.9', 51234)", "Peer: ('[ip]', 51234)"),
        ("from 10.0.0.1.", "from [ip]."),
        ("client 2001:db8::1 and ::ffff:192.0.2.1 and 999.1.1.1", "client [ip] and [ip] and [ip]"),
        # This machine's own addresses name no one; an operator needs them to read the log.
        (
            "connection to 127.0.0.1:5432 refused; ::1 and 0.0.0.0 too",
            "connection to 127.0.0.1:5432 refused; ::1 and 0.0.0.0 too",
        ),
        ("::ffff:127.0.0.1 and 127.0.0.2", "::ffff:127.0.0.1 and 127.0.0.2"),
        ("fe80::1%eth0 answered", "[ip]%eth0 answered"),
        # Endpoints: everything after a push service's host is the subscription's secret.
        (
            "https://fcm.googleapis.com/fcm/send/abc:APA91bHun4MxP5 failed",
            "https://fcm.googleapis.com/[redacted] failed",
        ),
        (
            "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk",
            "https://updates.push.services.mozilla.com/[redacted]",
        ),
        ("(https://web.push.apple.com/QGuQyavXutnMH6x)", "(https://web.push.apple.com/[redacted])"),
        ("https://db5p.notify.windows.com/w/?token=BQYAAAB", "https://db5p.notify.windows.com/[redacted]"),
        ("http://192.0.2.8:43211/push/s1 gave 500", "http://[ip]:43211/push/s1 gave 500"),
        ("http://[2001:db8::2]:8080/x.", "http://[ip]:8080/x."),
        ("http://127.0.0.1:43211/push/s1 gave 500", "http://127.0.0.1:43211/push/s1 gave 500"),
        ("http://[::1]:8080/x.", "http://[::1]:8080/x."),
        # Other URLs keep their origin and short path words; tokens, queries and logins go.
        (
            "link https://signaal.example.org/manage/Yx9_aaaaaaaaaaaaaaaaaaaa?x=1",
            "link https://signaal.example.org/manage/[redacted]?[redacted]",
        ),
        ("https://user:pw@smtp.example.net/a", "https://smtp.example.net/a"),
        (
            "push service https://fcm.googleapis.com: 429, 3 times",
            "push service https://fcm.googleapis.com: 429, 3 times",
        ),
        # Left alone: times, dates, versions, numbers, plain words.
        ("at 13:00:00 on 2027-01-09, version 1.2.3, 500 rows", "at 13:00:00 on 2027-01-09, version 1.2.3, 500 rows"),
        ("dead:beef:cafe is no address", "dead:beef:cafe is no address"),
        ("", ""),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_paths_lose_their_tokens_only() -> None:
    assert redact_path("/manage/abcdefghijklmnopqrstu/leave") == "/manage/[redacted]/leave"
    assert redact_path("/alerts/12/photos/3") == "/alerts/12/photos/3"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("410 from the push service: the subscription is gone (http://127.0.0.1:9)", "http_410"),
        ("429 from the push service: too many requests", "http_429"),
        ("timed out", "unreachable"),
        ("connection failed: ClientConnectorError", "unreachable"),
        ("push service paused: 429 from the push service: too many requests", "paused"),
        ("https://evil.example is not in PUSH_ALLOWED_HOSTS", "refused"),
    ],
)
def test_push_errors_get_a_short_reason_for_metrics(error: str, reason: str) -> None:
    assert push_status.reason_of(error) == reason
