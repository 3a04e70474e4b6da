"""Staff password hashing with Argon2id (memory-hard).

The cost comes from settings (`create_app` calls `configure` once): production keeps argon2-cffi's
defaults; the test suite uses the cheapest parameters argon2 allows, since a production hash costs
close to a second of CPU and the suite makes thousands.
"""
from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True)
class HashingCost:
    """Argon2id parameters. The defaults are argon2-cffi's (RFC 9106 low-memory: 64 MiB, t=3, p=4)."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4


PRODUCTION_COST = HashingCost()
# Below this, a stolen hash is cheap to attack (OWASP's Argon2id floor: 19 MiB with t=2).
MINIMUM_PRODUCTION_MEMORY_KIB = 19456


class _Hasher:
    """The configured hasher, and a dummy hash of the same cost for unknown login ids."""

    def __init__(self, cost: HashingCost) -> None:
        self.cost = cost
        self.hasher = PasswordHasher(time_cost=cost.time_cost, memory_cost=cost.memory_kib,
                                     parallelism=cost.parallelism)
        self._dummy: str | None = None

    @property
    def dummy_hash(self) -> str:
        # Made on first use: importing the module must not cost a production hash.
        if self._dummy is None:
            self._dummy = self.hasher.hash("not-a-real-password")
        return self._dummy


_current = _Hasher(PRODUCTION_COST)


def configure(cost: HashingCost) -> None:
    """Use these parameters for new hashes (and for deciding which old ones to rehash)."""
    global _current
    if cost != _current.cost:
        _current = _Hasher(cost)


def current_cost() -> HashingCost:
    return _current.cost


def hash_password(password: str) -> str:
    return _current.hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _current.hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_unknown(password: str) -> None:
    """Spend what a real verification spends, so timing does not reveal which login ids exist."""
    verify_password(_current.dummy_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's (a stronger default)."""
    try:
        return _current.hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
