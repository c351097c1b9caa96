"""Flask extensions, created unbound and initialised in create_app()."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

IPV6_NETWORK_BITS = 64


def client_key() -> str:
    """The rate-limit key for a client: an HMAC of its address (IPv6: of its /64).

    The limiter keeps keys in its storage for a window and logs them when a limit is hit, so
    they must name nobody. One phone or household gets a whole IPv6 /64 and can rotate within it.
    """
    raw = get_remote_address()
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        network = raw
    else:
        bits = IPV6_NETWORK_BITS if address.version == 6 else 32
        network = str(ipaddress.ip_network(f"{address}/{bits}", strict=False))
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, b"signaal.rate-limit\0" + network.encode(), hashlib.sha256).hexdigest()
    return "client-" + digest[:32]


migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=client_key, default_limits=[])
