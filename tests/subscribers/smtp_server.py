"""A real SMTP server on loopback for tests (aiosmtpd), recording what it accepts.

It can be told to refuse: `server.refuse_recipients("450 4.2.1 Mailbox busy")` answers every
RCPT TO with that reply, `server.refuse_data(...)` the end of DATA. It can fail the way
networks do: `server.drop_data(True)` cuts the connection where the DATA reply should come;
`server.hang_up_on_next_mail()` answers the next MAIL FROM with 421 and closes, as a server
does with a connection left idle too long.

smtplib waits for the DATA reply, so a message is in `server.messages` by the time send()
returns: no waiting. Each message notes the client's address and port, so `server.sessions`
counts the connections that carried mail.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    recipients: list[str]
    message: EmailMessage
    peer: tuple[str, int] | None = None

    def body(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None, f"no text/{subtype} part"
        content: str = part.get_content()  # type: ignore[attr-defined]
        return content.replace("\r\n", "\n")  # SMTP carries CRLF; compare as the templates wrote it


class _Handler:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self.drop = False
        self.hang_ups = 0
        self.lock = threading.Lock()

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.hang_ups:
            self.hang_ups -= 1
            # Closed after the reply is written: the client reads the 421, then the end.
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.4.2 Idle for too long, closing connection"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.drop:
            server.transport.abort()  # no reply at all: the client sees the connection vanish
            return "421 dropped"
        if self.data_reply:
            return self.data_reply
        message = message_from_bytes(envelope.content, policy=default)
        peer = tuple(session.peer) if session.peer else None
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, peer))  # type: ignore[arg-type]
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class SmtpServer:
    def __init__(self) -> None:
        self.handler = _Handler()
        self.host = "127.0.0.1"
        self.port = free_port()
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def refuse_recipients(self, reply: str | None) -> None:
        self.handler.rcpt_reply = reply

    def refuse_data(self, reply: str | None) -> None:
        self.handler.data_reply = reply

    def drop_data(self, drop: bool) -> None:
        self.handler.drop = drop

    def hang_up_on_next_mail(self) -> None:
        self.handler.hang_ups += 1

    @property
    def sessions(self) -> int:
        """Connections that carried at least one accepted message."""
        return len({received.peer for received in self.messages})
