"""One alert to N email subscribers through the real engine, beside a plain smtplib loop.

    .venv/bin/python -m bench.email [--subscriptions N] [--database sqlite|postgresql] [--workers K]
        [--baseline-sample M] [--batch-size B]

In order:
1. the SMTP sink (bench/smtp_sink.py: aiosmtpd) starts in a process of its own;
2. a throwaway database gets the app's schema and N confirmed email subscriptions (area NL,
   one in four in English); an alert is created, submitted and approved through alerts.lifecycle;
3. the baseline: for each of M addresses a new `smtplib.SMTP` connection and an
   `email.message.EmailMessage` built for it (text and HTML alternatives, the same headers);
4. K `flask --app app worker` processes start (MAIL_BACKEND smtp, the app's default pool of
   MAIL_POOL_SIZE kept-open connections, no rate limit, DELIVERY_BATCH_SIZE 2,000 unless
   --batch-size, DELIVERY_POLL_SECONDS 0.1 on SQLite) and go idle;
5. the alert is published (lifecycle.publish, the planner's INSERT … SELECT in it); the clock
   runs from its commit until the sink has counted N messages (polled every 20 ms);
6. checks: every message parsed by the sink (standard library, policy default) without
   defects: one per subscriber, to that address only, subject and bodies in the subscriber's
   language, multipart/alternative, one-click List-Unsubscribe (RFC 8058) with an https URL,
   a Message-ID of its own per delivery row; every row recorded sent.
"""

from __future__ import annotations

import argparse
import re
import smtplib
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from . import harness
from .processes import Controlled

TARGET = 5.0  # times the plain loop
MAIL_FROM = "Signaal <alerts@signaal.example.org>"
PUBLIC_URL = "https://signaal.example.org"
MESSAGE_ID = re.compile(r"^<delivery-\d+@signaal\.example\.org>$")


def address(sub_id: int) -> str:
    return f"s{sub_id}@example.net"


def language(sub_id: int) -> str:
    return "en" if sub_id % 4 == 0 else "nl"


class Sink(Controlled):
    def __init__(self, logs: Path) -> None:
        self.port, control = harness.free_port(), harness.free_port()
        argv = [sys.executable, "-m", "bench.smtp_sink", "--port", str(self.port), "--control-port", str(control)]
        helper = harness.Helper("smtp sink", argv, logs / "smtp.log")
        helper.wait_for_output("listening")
        super().__init__(helper, control)

    def messages(self) -> int:
        return int(self.call("GET", "/_stats")["messages"])


def verify(sink: Sink, ids: range, texts: dict[str, dict[str, str]]) -> tuple[int, int]:
    """Every message parsed and checked; each address in `ids` exactly once. (messages, sessions)."""
    stats = sink.call("GET", "/_stats")
    mails = sink.call("GET", "/_messages")
    wanted = {address(i): language(i) for i in ids}
    seen: Counter[str] = Counter()
    message_ids: Counter[str] = Counter()
    problems: Counter[str] = Counter()
    for mail in mails:
        headers = mail["headers"]
        rcpt = mail["recipients"]
        to = rcpt[0] if len(rcpt) == 1 else None
        seen[str(to)] += 1
        message_ids[headers["Message-ID"]] += 1
        lang = wanted.get(str(to))
        if lang is None:
            problems[f"envelope {rcpt} is not one subscriber"] += 1
            continue
        text = texts[lang]
        expected_text = (text["push_text"], text["instruction"], text["headline"])
        checks = {
            "To header": headers["To"] == to,
            "subject": headers["Subject"] == text["headline"],
            "multipart/alternative": mail["content_type"] == "multipart/alternative",
            "text body": mail["text"] is not None and all(t in mail["text"] for t in expected_text),
            "HTML body": mail["html"] is not None and all(t in mail["html"] for t in expected_text),
            "List-Unsubscribe": re.fullmatch(r"<https://[^>\s]+>", headers["List-Unsubscribe"] or "") is not None,
            "List-Unsubscribe-Post": headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click",
            "Message-ID": MESSAGE_ID.match(headers["Message-ID"] or "") is not None,
            "no defects": mail["defects"] == 0,
        }
        for what, ok in checks.items():
            if not ok:
                problems[what] += 1
    missing = len(wanted.keys() - seen.keys())
    twice = sum(1 for n in seen.values() if n > 1)
    shared_ids = sum(1 for n in message_ids.values() if n > 1)
    if missing or twice or shared_ids or problems or len(mails) != len(wanted):
        raise SystemExit(
            f"CHECK FAILED: {len(mails)} mails for {len(wanted)} addresses, {missing} never received, "
            f"{twice} received twice, {shared_ids} Message-IDs shared, problems {dict(problems)}"
        )
    return len(mails), int(stats["sessions"])


@dataclass
class Baseline:
    count: int
    seconds: float
    cpu: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def baseline(sink: Sink, sample: int, texts: dict[str, dict[str, str]], alert_id: int) -> Baseline:
    """A naive sender: a new SMTP connection and a new EmailMessage for every mail."""
    link = f"{PUBLIC_URL}/alerts/{alert_id}"
    bodies = {
        lang: (
            f"{t['headline']}\n\n{t['push_text']}\n\n{t['instruction']}\n\n{link}\n\n--\n"
            f"{PUBLIC_URL}/manage/{{token}}\n{PUBLIC_URL}/unsubscribe/{{token}}\n",
            f"<!doctype html><html><body><h1>{t['headline']}</h1><p>{t['push_text']}</p>"
            f"<p>{t['instruction']}</p><p><a href='{link}'>{link}</a></p><hr>"
            f"<a href='{PUBLIC_URL}/manage/{{token}}'>manage</a> "
            f"<a href='{PUBLIC_URL}/unsubscribe/{{token}}'>unsubscribe</a></body></html>",
        )
        for lang, t in texts.items()
    }
    started, cpu = time.perf_counter(), time.process_time()
    for sub_id in range(1, sample + 1):
        lang, token = language(sub_id), f"{sub_id:032x}"
        text, html = bodies[lang]
        message = EmailMessage()
        message["From"] = MAIL_FROM
        message["To"] = address(sub_id)
        message["Subject"] = texts[lang]["headline"]
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="signaal.example.org")
        message["List-Unsubscribe"] = f"<{PUBLIC_URL}/unsubscribe/{token}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(text.format(token=token))
        message.add_alternative(html.format(token=token), subtype="html")
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
            smtp.send_message(message)
    return Baseline(sample, time.perf_counter() - started, time.process_time() - cpu)


def rows(count: int) -> Any:
    for sub_id in range(1, count + 1):
        yield harness.subscription_row(sub_id, language(sub_id), channel="email", email=address(sub_id))


def run(args: argparse.Namespace) -> None:
    n, k = args.subscriptions, args.workers
    if k > 1 and args.database == "sqlite":
        raise SystemExit("SQLite has one worker: use --database postgresql for more")
    with tempfile.TemporaryDirectory(prefix="signaal-bench-email-") as tmp_name:
        tmp = Path(tmp_name)
        sink = Sink(tmp)
        settings = {
            "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": sink.port,
            "SMTP_TLS": "none",
            "MAIL_FROM": MAIL_FROM,
            "PUBLIC_URL": PUBLIC_URL,
            "MAIL_RATE_PER_SECOND": 0,
            "DELIVERY_BATCH_SIZE": args.batch_size,
            **({"MAIL_POOL_SIZE": args.pool_size} if args.pool_size else {}),
            # Idle workers on SQLite find new rows by polling (PostgreSQL wakes them with NOTIFY).
            "DELIVERY_POLL_SECONDS": args.poll or (0.1 if args.database == "sqlite" else 2),
        }
        try:
            with harness.bench_app(args.database, tmp, settings) as app:
                harness.banner(
                    f"email: {n:,} subscriptions, {args.database} ({harness.database_version()}), "
                    f"{k} worker process(es), DELIVERY_BATCH_SIZE {args.batch_size}, "
                    f"MAIL_POOL_SIZE {app.config['MAIL_POOL_SIZE']}"
                )
                started = time.perf_counter()
                harness.insert_subscriptions(rows(n))
                staged = harness.stage_alert()
                alert_id = staged.alert.id
                setup = time.perf_counter() - started
                print(f"set-up: {n:,} subscriptions inserted and the alert approved in {setup:.1f} s (not measured)")

                print(f"baseline: new smtplib connection + EmailMessage per mail, {args.baseline_sample:,} mails; "
                      f"{harness.load()}")  # fmt: skip
                base = baseline(sink, args.baseline_sample, staged.texts, alert_id)
                got = sink.call("GET", "/_stats")
                sink.call("POST", "/_reset")
                if got != {"messages": base.count, "sessions": base.count}:
                    raise SystemExit(f"CHECK FAILED: the baseline's {base.count} mails arrived as {got}")
                print(
                    f"baseline: {base.count:,} mails in {base.seconds:.2f} s = {base.rate:,.0f}/s "
                    f"(CPU {base.cpu / base.count * 1e6:,.0f} µs a mail), one connection each; {harness.load()}"
                )

                measured = harness.deliver(staged, n, k, tmp, sink.helper, sink.messages)
                counts = harness.row_counts(measured.version_id)
                print(f"checking: rows {counts}; parsing every message …")
                try:
                    mails, sessions = verify(sink, range(1, n + 1), staged.texts)
                    if counts != {"sent": n}:
                        raise SystemExit(f"CHECK FAILED: rows {counts}")
                except SystemExit:
                    print(measured.describe())
                    print(measured.worker_output())
                    raise
                print(f"checked: {mails:,} mails over {sessions} SMTP connections, one per subscriber, all as expected")
                print(measured.describe())
                ratio = measured.rate / base.rate
                print(
                    f"RESULT email {args.database} workers={k} N={n:,} batch={args.batch_size}: "
                    f"{measured.rate:,.0f} mails/s ({measured.last:.2f} s publish commit → last receipt), "
                    f"baseline {base.rate:,.0f}/s over {base.count:,}, ratio {ratio:.1f}x "
                    f"(target {TARGET:.0f}x: {'met' if ratio >= TARGET else 'MISSED'}), "
                    f"peak RSS {max(measured.workers.peak_kib) / 1024:.0f} MiB; {measured.load_after}",
                    flush=True,
                )
        finally:
            sink.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--baseline-sample", type=int, default=1_000)
    parser.add_argument("--batch-size", type=int, default=2000, help="DELIVERY_BATCH_SIZE for the workers (app: 500)")
    parser.add_argument("--pool-size", type=int, default=None, help="MAIL_POOL_SIZE for the workers (default: app)")
    parser.add_argument(
        "--poll", type=float, default=None, help="DELIVERY_POLL_SECONDS (default 0.1 on SQLite, 2 on PostgreSQL)"
    )
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
