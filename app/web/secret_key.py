"""Refuse a SECRET_KEY too weak to sign session cookies: anyone who guesses it can forge any session.

Length alone is not enough (``aaaaaaaaaaaaaaaa`` has 16 characters and no secret in it), so the key's
entropy is estimated: its length times the Shannon entropy of its characters, capped by how well it
compresses (a repeated pattern has little). A random key of 32+ bytes, as the message suggests, scores
well above the bar; a word, a pattern or a short key does not.
"""
from __future__ import annotations

import math
import zlib
from collections import Counter

from app.config import DEFAULT_SECRET_KEY

MIN_BITS = 72  # a random 16-byte key scores ~95-130, 32 bytes 200+; "aaaaaaaaaaaaaaaa" 0, "dev-not-secret" 44
PLACEHOLDERS = (DEFAULT_SECRET_KEY, "change-me", "changeme", "secret")
HOW = ("generate one with `openssl rand -base64 48` or "
       "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` (scripts/run.sh writes one to "
       "var/secret_key), or set FLASK_DEBUG=1 for local development")


class InsecureSecretKey(RuntimeError):
    """Outside debug and test mode, a guessable SECRET_KEY would let anyone forge sessions."""


def estimated_bits(key: str) -> int:
    """A conservative guess at the key's entropy in bits (never more than a random key's)."""
    if not key:
        return 0
    data = key.encode()
    counts = Counter(data)
    per_byte = -sum(n / len(data) * math.log2(n / len(data)) for n in counts.values())
    compressed = 8 * max(0, len(zlib.compress(data, 9)) - 11)  # zlib adds about 11 bytes of framing
    return int(min(per_byte * len(data), compressed))


def check(key: str | None) -> None:
    """Raise InsecureSecretKey, saying why and what to do, unless ``key`` is strong enough."""
    key = key or ""
    if key in PLACEHOLDERS:
        raise InsecureSecretKey(f"SECRET_KEY is missing or a placeholder: {HOW}")
    bits = estimated_bits(key)
    if bits < MIN_BITS:
        raise InsecureSecretKey(
            f"SECRET_KEY is too weak to sign sessions: about {bits} bits of entropy (estimated from its "
            f"{len(key)} characters), at least {MIN_BITS} needed: {HOW}")
