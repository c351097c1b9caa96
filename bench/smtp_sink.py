"""An SMTP server on loopback that keeps what it accepts, for bench/email.py, in a process of its own.

    .venv/bin/python -m bench.smtp_sink --port 2525 --control-port 2526

aiosmtpd (as tests/subscribers/smtp_server.py, which runs in the test's own process and parses
every message as it arrives) answers SMTP; a message is kept as raw bytes with its envelope,
so the sink spends as little as it can while the benchmark runs. Parsing comes afterwards,
over HTTP on the control port:

- `GET /_stats`: messages accepted, and connections (sessions) that carried them;
- `GET /_messages`: every message parsed with the standard library (policy `default`): its
  envelope, the headers a subscriber and a mail client see, and the text and HTML bodies;
- `POST /_reset`: forget everything.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP

HEADERS = ("From", "To", "Subject", "Message-ID", "Date", "List-Unsubscribe", "List-Unsubscribe-Post")


class Sink:
    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], bytes]] = []
        self.peers: set[tuple[str, int]] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        self.peers.add(tuple(session.peer))
        return "250 Message accepted"

    async def stats(self, _request: web.Request) -> web.Response:
        return web.json_response({"messages": len(self.mails), "sessions": len(self.peers)})

    async def messages(self, _request: web.Request) -> web.Response:
        return web.json_response([describe(*mail) for mail in self.mails])

    async def reset(self, _request: web.Request) -> web.Response:
        self.mails.clear()
        self.peers.clear()
        return web.json_response({"ok": True})


def describe(mail_from: str, recipients: list[str], raw: bytes) -> dict[str, Any]:
    message = message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    bodies = {}
    for subtype in ("plain", "html"):
        part = message.get_body(preferencelist=(subtype,))
        content = part.get_content() if part is not None and part.get_content_subtype() == subtype else None  # type: ignore[attr-defined]
        bodies[subtype] = content
    return {
        "mail_from": mail_from,
        "recipients": recipients,
        "content_type": message.get_content_type(),
        "headers": {name: message.get(name) and str(message.get(name)) for name in HEADERS},
        "text": bodies["plain"],
        "html": bodies["html"],
        "defects": len(message.defects),
    }


async def serve(host: str, port: int, control_port: int) -> None:
    sink = Sink()
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(sink, hostname="sink.localhost"), host, port)
    app = web.Application(client_max_size=1024)
    app.add_routes(
        [web.get("/_stats", sink.stats), web.get("/_messages", sink.messages), web.post("/_reset", sink.reset)]
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, control_port).start()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"smtp sink listening on {host}:{port}, control on http://{host}:{control_port}", flush=True)
    await stop.wait()
    smtp.close()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.control_port))


if __name__ == "__main__":
    main()
