"""Keys the database never holds: the Ed25519 key that signs chain heads, and the key of the
entries' request MAC (docs/ledger.md §7, "Heads no one can forge").

* **Head signing key** — ``LEDGER_SIGNING_KEY`` (the 32-byte raw private key, base64) or
  ``LEDGER_SIGNING_KEY_FILE`` (a file holding that base64 text). Its *key id* is the first 16
  hex digits of the SHA-256 of the raw public key; every signed head stores it, so a rotated key
  still verifies the heads it signed as long as its public key stays listed in
  ``LEDGER_VERIFY_KEYS`` (``keyid:base64-public-key``, comma separated). Without a configured
  key, a DEBUG process makes one in ``var/ledger-signing.key`` (development and the demo); a
  production process refuses to seal.
* **Request MAC key** — ``LEDGER_MAC_KEY``, by default derived from ``SECRET_KEY``. An entry's
  ``request_hash`` is an HMAC of its request under this key, so a row written or altered by
  someone holding only a database login does not carry a valid MAC: the sealer refuses to seal
  it and the verifiers report it.
* **High-water mark** — the sealer writes the last head it signed to a file outside the
  database (``LEDGER_HEAD_DIR``, one file per database and chain); a chain whose tail and signed
  heads were both deleted still falls short of it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

HEAD_PREFIX = "trovon-head"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as e:
        raise ImproperlyConfigured(f"{what} is not valid base64") from e


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_text(public: Ed25519PublicKey) -> str:
    """``keyid:base64`` — the form ``LEDGER_VERIFY_KEYS`` lists."""
    return f"{key_id(public)}:{_b64(public.public_bytes(Encoding.Raw, PublicFormat.Raw))}"


def signing_key_generate() -> str:
    """A new private key as the base64 text ``LEDGER_SIGNING_KEY`` takes."""
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    key = Ed25519PrivateKey.generate()
    return _b64(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def _key_text() -> str:
    text = getattr(settings, "LEDGER_SIGNING_KEY", "")
    if text:
        return text
    path = getattr(settings, "LEDGER_SIGNING_KEY_FILE", "")
    if path:
        return Path(path).read_text().strip()
    if getattr(settings, "LEDGER_DEV_KEY", False) or settings.DEBUG:
        dev = Path(settings.BASE_DIR) / "var" / "ledger-signing.key"
        if not dev.exists():
            dev.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(dev, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(signing_key_generate())
        return dev.read_text().strip()
    raise ImproperlyConfigured(
        "LEDGER_SIGNING_KEY or LEDGER_SIGNING_KEY_FILE must be set to seal the ledger"
    )


@lru_cache(maxsize=4)
def _private_key(text: str) -> Ed25519PrivateKey:
    raw = _unb64(text, "LEDGER_SIGNING_KEY")
    if len(raw) != 32:
        raise ImproperlyConfigured("LEDGER_SIGNING_KEY must be 32 bytes (base64)")
    return Ed25519PrivateKey.from_private_bytes(raw)


def signing_key() -> Ed25519PrivateKey:
    return _private_key(_key_text())


def trusted_keys() -> dict[str, Ed25519PublicKey]:
    """The public keys heads may be signed with: the current key's and the retired ones'."""
    keys: dict[str, Ed25519PublicKey] = {}
    for item in getattr(settings, "LEDGER_VERIFY_KEYS", []) or []:
        kid, _, text = item.strip().partition(":")
        public = Ed25519PublicKey.from_public_bytes(_unb64(text, "LEDGER_VERIFY_KEYS"))
        if key_id(public) != kid:
            raise ImproperlyConfigured(f"LEDGER_VERIFY_KEYS: key id {kid} does not match its key")
        keys[kid] = public
    try:
        public = signing_key().public_key()
    except ImproperlyConfigured:
        return keys
    keys[key_id(public)] = public
    return keys


@dataclass(frozen=True)
class SignedHead:
    """A chain head as published: which chain, its link number and hash, when, by which key."""

    chain: str
    seq: int
    link_hash: str
    signed_at: datetime
    key_id: str
    signature: str

    def message(self) -> bytes:
        return head_message(self.chain, self.seq, self.link_hash, self.signed_at)

    def line(self) -> str:
        """One line an auditor keeps (and ``verify_ledger --published`` reads back)."""
        return (
            f"{HEAD_PREFIX} {self.chain} {self.seq} {self.link_hash} "
            f"{self.signed_at.isoformat()} {self.key_id} {self.signature}"
        )


def head_message(chain: str, seq: int, link_hash: str, signed_at: datetime) -> bytes:
    return f"{HEAD_PREFIX}|{chain}|{seq}|{link_hash}|{signed_at.isoformat()}".encode()


def head_sign(chain: str, seq: int, link_hash: str, signed_at: datetime) -> SignedHead:
    key = signing_key()
    signature = key.sign(head_message(chain, seq, link_hash, signed_at))
    return SignedHead(chain, seq, link_hash, signed_at, key_id(key.public_key()), _b64(signature))


def head_signature_valid(head: SignedHead, keys: dict[str, Ed25519PublicKey]) -> bool:
    public = keys.get(head.key_id)
    if public is None:
        return False
    try:
        public.verify(base64.b64decode(head.signature), head.message())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


_LINE = re.compile(
    rf"{HEAD_PREFIX}\s+(?P<chain>[a-z]+)\s+(?P<seq>\d+)\s+(?P<hash>[0-9a-f]{{64}})"
    r"\s+(?P<at>\S+)\s+(?P<kid>[0-9a-f]{16})\s+(?P<sig>[A-Za-z0-9+/=]+)"
)


def heads_parse(text: str) -> list[SignedHead]:
    """Every head line found in `text` (a heads.txt, a pasted e-mail); other lines ignored."""
    heads = []
    for m in _LINE.finditer(text):
        try:
            at = datetime.fromisoformat(m["at"])
        except ValueError:
            continue
        heads.append(SignedHead(m["chain"], int(m["seq"]), m["hash"], at, m["kid"], m["sig"]))
    return heads


# The high-water mark outside the database --------------------------------------------------


def _mark_path(chain: str) -> Path | None:
    folder = getattr(settings, "LEDGER_HEAD_DIR", "")
    if not folder:
        return None
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(connection.settings_dict["NAME"]))[-80:]
    return Path(folder) / f"{name}.{chain}.head"


def high_water_write(head: SignedHead) -> None:
    path = _mark_path(head.chain)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(head.line() + "\n")
    tmp.replace(path)


def high_water_read(chain: str) -> SignedHead | None:
    path = _mark_path(chain)
    if path is None or not path.exists():
        return None
    heads = heads_parse(path.read_text())
    return heads[0] if heads else None


# The request MAC ---------------------------------------------------------------------------


def _mac_key() -> bytes:
    return _mac_key_of(getattr(settings, "LEDGER_MAC_KEY", ""), settings.SECRET_KEY)


@lru_cache(maxsize=4)
def _mac_key_of(key: str, secret: str) -> bytes:
    # Derived once per key, not once per entry (a 20,000-entry batch hashes 20,000 requests).
    if key:
        return key.encode()
    return hmac.new(secret.encode(), b"trovon-ledger-request", "sha256").digest()


def request_mac(payload: object) -> str:
    """HMAC-SHA-256 of the canonical JSON of `payload` under the request MAC key."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return hmac.digest(_mac_key(), body, "sha256").hex()
