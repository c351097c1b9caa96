"""What an API token may do. A token acts only where its scopes and its editor's role both allow.

Scopes narrow a token to the job of the script holding it (a lab import needs to write drafts,
not to publish); the role still decides, at every request, what the person behind it may do,
so demoting an editor narrows their tokens at once.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from .models import Role


class Scope(enum.StrEnum):
    ALERTS_READ = "alerts:read"  # read drafts and versions in any state
    ALERTS_WRITE = "alerts:write"  # create and edit drafts, photos, submit for review
    ALERTS_PUBLISH = "alerts:publish"  # send back, approve, publish, withdraw
    DELIVERIES_READ = "deliveries:read"  # delivery statistics of an alert


_NAMES = frozenset(scope.value for scope in Scope)
# A token made without naming scopes can only read: the safe default for a forgotten flag.
DEFAULT_SCOPES = frozenset({Scope.ALERTS_READ, Scope.DELIVERIES_READ})

# The scopes a role can make use of; the editor UI offers only these.
_FOR_ROLE = {
    Role.EDITOR: frozenset({Scope.ALERTS_READ, Scope.ALERTS_WRITE, Scope.DELIVERIES_READ}),
    Role.PUBLISHER: frozenset(Scope),
    Role.ADMIN: frozenset(Scope),
}


class UnknownScope(ValueError):
    def __init__(self, names: list[str]) -> None:
        known = ", ".join(scope.value for scope in Scope)
        super().__init__(f"Unknown scope {', '.join(names)}; the scopes are: {known}.")


def scopes_for_role(role: Role) -> frozenset[Scope]:
    return _FOR_ROLE[role]


def checked_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """The scopes named, or UnknownScope naming every name that is not one."""
    names = [name.strip() for name in names if name.strip()]
    unknown = [name for name in names if name not in _NAMES]
    if unknown:
        raise UnknownScope(unknown)
    return frozenset(Scope(name) for name in names)


def parse_scopes(stored: str) -> frozenset[Scope]:
    """The scopes of a stored token; a name from a later version that this one lacks grants nothing."""
    return frozenset(Scope(name) for name in stored.split() if name in _NAMES)


def join_scopes(scopes: Iterable[Scope]) -> str:
    """The stored form: sorted, so equal sets read the same in listings."""
    return " ".join(sorted(scope.value for scope in scopes))
