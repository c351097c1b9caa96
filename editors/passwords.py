"""Password hashing with argon2id, and the one rule passwords must meet."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12

# argon2-cffi's defaults follow RFC 9106; when a library upgrade raises them, hashes made
# with the old parameters are replaced at the next successful login (see needs_rehash).
_hasher = PasswordHasher()


class PasswordTooShort(ValueError):
    def __init__(self) -> None:
        super().__init__(f"The password must be at least {MIN_LENGTH} characters long.")


def check_policy(password: str) -> None:
    """Raise PasswordTooShort unless the password is long enough.

    Length is the only rule: composition rules make passwords harder to remember, not to guess.
    """
    if len(password) < MIN_LENGTH:
        raise PasswordTooShort()


def hash_password(password: str) -> str:
    check_policy(password)
    return _hasher.hash(password)


def upgraded_hash(password: str) -> str:
    """A hash with today's parameters for a password that was already accepted.

    No policy check: a login must not fail because the rules tightened after the account was made.
    """
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        # VerifyMismatchError is a VerificationError; a corrupt stored hash simply never matches.
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def verify_dummy(password: str) -> None:
    """Spend the time a real verification takes, so unknown emails answer no faster than known ones."""
    verify_password(_dummy_hash(), password)


@cache
def _dummy_hash() -> str:
    # Made on first use rather than at import, so start-up does not pay for a hash.
    return _hasher.hash("not-a-real-password-only-burns-time")
