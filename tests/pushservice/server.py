"""A push service on loopback: checks what a real one checks, records what it got, answers on demand.

    python -m tests.pushservice.server --port 8123 [--host 127.0.0.1] [--seed S] [--count-only]

or, in a test, `PushService().start()` runs it in a thread (`stop()` ends it).

It accepts `POST /push/<id>` like a browser push service (RFC 8030): it verifies the VAPID
header (RFC 8292: ES256 JWT signed by the `k=` key, `aud` its own origin, `exp` in the
future and at most 24 h ahead, `sub` a mailto: or https: URL), requires TTL, aes128gcm,
a valid Urgency and Topic and a body of at most 4096 bytes, and answers 201. A refusal is
the status a real service gives (401, 400, 413). Subscriber keys are derived from the id
(keys.py), so a record's body can be decrypted later, with http_ece: an implementation
independent of the sender's own.

On demand, per endpoint id or for the whole origin, it answers another status instead (410,
404, 429 with Retry-After, 500, 413, 401, ...) and/or only after a delay (for timeouts):
`answer()` in-process, or `POST /_answer {"push_id", "status", "retry_after", "delay"}`.
`GET /_stats` counts requests, statuses and distinct VAPID tokens; `GET /_received?push_id=`
lists the records with their decrypted payloads; `POST /_reset` forgets them.

Throughput matters (benchmarks push thousands a second through it): a verified VAPID token
is cached, bodies are decrypted only when someone asks, and --count-only keeps no bodies.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from multidict import CIMultiDict

from subscribers.vapid import b64url_decode

from .keys import SEED, auth_secret, private_key, subscription_keys

MAX_BODY = 4096
MAX_EXP_AHEAD = 24 * 3600 + 60  # RFC 8292: at most 24 h; a minute of clock skew allowed
URGENCIES = {"very-low", "low", "normal", "high"}
TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
SUBJECT = re.compile(r"^(mailto:\S+@\S+|https://\S+)$")


@dataclass(frozen=True)
class Reply:
    status: int = 201
    retry_after: str | None = None
    delay: float = 0.0  # seconds before answering


@dataclass
class Received:
    push_id: str
    headers: CIMultiDict[str]
    body: bytes
    status: int  # what the service answered
    reason: str  # why it refused, when it did
    seed: str = SEED

    @property
    def token(self) -> str:
        """The VAPID JWT: identical across requests means signed once and reused."""
        return _auth_params(self.headers.get("Authorization", "")).get("t", "")

    def plaintext(self) -> bytes:
        key, auth = private_key(self.push_id, self.seed), auth_secret(self.push_id, self.seed)
        return bytes(http_ece.decrypt(self.body, private_key=key, auth_secret=auth, version="aes128gcm"))

    def payload(self) -> Any:
        return json.loads(self.plaintext())


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class PushService:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: str = SEED, record: bool = True) -> None:
        self.host, self.port, self.seed, self.record = host, port, seed, record
        self.replies: dict[str, Reply] = {}
        self.default = Reply()
        self.received: list[Received] = []
        self.statuses: Counter[int] = Counter()
        self._verified: dict[str, dict[str, Any]] = {}  # Authorization value → its JWT claims
        self._runner: web.ServerRunner | None = None
        self._closing: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def endpoint(self, push_id: str) -> str:
        return f"{self.origin}/push/{push_id}"

    def keys(self, push_id: str) -> tuple[str, str]:
        return subscription_keys(push_id, self.seed)

    def answer(self, push_id: str | None, status: int = 201, retry_after: str | None = None, delay: float = 0) -> None:
        """From now on answer `push_id` (None: every id without its own answer) like this."""
        reply = Reply(status, retry_after, delay)
        if push_id is None:
            self.default = reply
        else:
            self.replies[push_id] = reply

    def for_id(self, push_id: str) -> list[Received]:
        return [r for r in self.received if r.push_id == push_id]

    # --- running -----------------------------------------------------------------------

    def start(self) -> PushService:
        """Serve in a thread of its own; returns once it listens."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="pushservice", daemon=True)
        self._thread.start()
        ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._closing is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._closing.set)
            self._thread.join()

    def _run(self, ready: threading.Event) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._open())
        except BaseException as error:
            self._error = error
            ready.set()
            loop.close()
            return
        ready.set()
        loop.run_until_complete(self._until_closed())
        loop.close()

    async def serve(self) -> None:
        """Serve until SIGINT or SIGTERM (the command line)."""
        await self._open()
        assert self._closing is not None
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, self._closing.set)
        print(f"push service listening on {self.origin}", flush=True)
        await self._until_closed()

    async def _open(self) -> None:
        self._closing = asyncio.Event()
        # The low-level server: no router, no access log, for throughput.
        self._runner = web.ServerRunner(web.Server(self._handle, access_log=None), shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _until_closed(self) -> None:
        assert self._closing is not None and self._runner is not None
        await self._closing.wait()
        await self._runner.cleanup()

    # --- requests ------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        if path.startswith("/push/") and request.method == "POST":
            return await self._push(request, path[len("/push/") :])
        if path.startswith("/_"):
            return await self._control(request, path)
        return web.Response(status=404)

    async def _push(self, request: web.BaseRequest, push_id: str) -> web.StreamResponse:
        body = await request.read()
        try:
            self._check(request, len(body))
            reply, reason = self.replies.get(push_id, self.default), ""
        except Refused as refusal:
            reply, reason = Reply(refusal.status), refusal.reason
        self.statuses[reply.status] += 1
        if self.record:
            self.received.append(Received(push_id, CIMultiDict(request.headers), body, reply.status, reason, self.seed))
        if reply.delay:
            await self._wait(reply.delay)
        headers = {"Retry-After": reply.retry_after} if reply.retry_after else {}
        if reply.status == 201:
            headers["Location"] = f"/message/{sum(self.statuses.values())}"
        return web.Response(status=reply.status, headers=headers, text=reason)

    async def _wait(self, seconds: float) -> None:
        """Answer late, but at once when the service stops, so stopping never hangs."""
        assert self._closing is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def _check(self, request: web.BaseRequest, size: int) -> None:
        headers = request.headers
        claims = self._vapid(headers.get("Authorization", ""))
        if claims.get("aud") != self.origin:
            raise Refused(401, f"aud {claims.get('aud')!r} is not {self.origin}")
        exp = claims.get("exp")
        if not isinstance(exp, int) or not time.time() < exp <= time.time() + MAX_EXP_AHEAD:
            raise Refused(401, "exp must be in the future and at most 24 hours ahead")
        if not SUBJECT.match(str(claims.get("sub", ""))):
            raise Refused(401, "sub must be a mailto: or https: URL")
        if not headers.get("TTL", "").isdigit():
            raise Refused(400, "TTL header missing or not a number")
        if headers.get("Content-Encoding") != "aes128gcm":
            raise Refused(400, "Content-Encoding must be aes128gcm")
        if "Urgency" in headers and headers["Urgency"] not in URGENCIES:
            raise Refused(400, "bad Urgency")
        if "Topic" in headers and not TOPIC.match(headers["Topic"]):
            raise Refused(400, "Topic must be at most 32 URL-safe base64 characters")
        if size > MAX_BODY:
            raise Refused(413, f"body of {size} bytes is over {MAX_BODY}")

    def _vapid(self, authorization: str) -> dict[str, Any]:
        """The claims of a correctly signed `vapid t=…, k=…` header; verified once per header value."""
        claims = self._verified.get(authorization)
        if claims is None:
            claims = _verify(authorization)
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[authorization] = claims
        return claims

    async def _control(self, request: web.BaseRequest, path: str) -> web.StreamResponse:
        if path == "/_answer" and request.method == "POST":
            data = await request.json()
            status, delay = int(data.get("status", 201)), float(data.get("delay", 0))
            self.answer(data.get("push_id"), status, data.get("retry_after"), delay)
            return web.json_response({"ok": True})
        if path == "/_stats":
            statuses = {str(k): v for k, v in self.statuses.items()}
            requests = sum(self.statuses.values())
            # Distinct VAPID headers seen: how many times the senders signed.
            return web.json_response({"requests": requests, "statuses": statuses, "vapid": len(self._verified)})
        if path == "/_received":
            wanted = request.query.get("push_id")
            records = [r for r in self.received if wanted is None or r.push_id == wanted]
            return web.json_response([_describe(r) for r in records])
        if path == "/_reset" and request.method == "POST":
            self.received.clear()
            self.statuses.clear()
            self.replies.clear()
            self.default = Reply()
            return web.json_response({"ok": True})
        return web.Response(status=404)


def _auth_params(authorization: str) -> dict[str, str]:
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "vapid":
        return {}
    params = (part.strip().partition("=") for part in rest.split(","))
    return {name: value for name, _, value in params}


def _verify(authorization: str) -> dict[str, Any]:
    params = _auth_params(authorization)
    token, key = params.get("t", ""), params.get("k", "")
    if not token or not key:
        raise Refused(401, "Authorization must be 'vapid t=<JWT>, k=<public key>'")
    try:
        header, claims, signature = token.split(".")
        if json.loads(b64url_decode(header)).get("alg") != "ES256":
            raise Refused(401, "the JWT must be ES256")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        raw = b64url_decode(signature)
        if len(raw) != 64:
            raise Refused(401, "an ES256 signature is 64 bytes")
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        decoded: dict[str, Any] = json.loads(b64url_decode(claims))
    except InvalidSignature:
        raise Refused(401, "the VAPID signature does not match the k= key") from None
    except (ValueError, AttributeError):
        raise Refused(401, "the VAPID token or key is malformed") from None
    return decoded


def _describe(record: Received) -> dict[str, Any]:
    try:
        payload = record.payload() if record.status == 201 else None
    except Exception as error:  # a record that does not decrypt is itself the finding
        payload = {"error": f"cannot decrypt: {error}"}
    return {"push_id": record.push_id, "status": record.status, "headers": dict(record.headers), "payload": payload}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", default=SEED, help="must match the one the subscriber keys came from")
    parser.add_argument("--count-only", action="store_true", help="keep counts, not bodies (long benchmarks)")
    args = parser.parse_args(argv)
    asyncio.run(PushService(args.host, args.port, seed=args.seed, record=not args.count_only).serve())


if __name__ == "__main__":
    main()
