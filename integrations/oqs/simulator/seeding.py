"""Deterministic randomness: every derived value comes from a seed and a label, never from
Python's per-process string hashing or the clock, so that any process reads the same history."""
from __future__ import annotations

import hashlib
import random


def derive(seed: int, *parts: object) -> int:
    """A 63-bit sub-seed for (seed, *parts)."""
    text = ":".join([str(seed), *map(str, parts)]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") >> 1


def rng_for(seed: int, *parts: object) -> random.Random:
    return random.Random(derive(seed, *parts))
