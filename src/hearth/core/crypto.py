"""Field encryption and blind indexes for identity document numbers (ADR 0004).

A keyring holds named data keys (AES-256-GCM, or SM4-GCM where the national algorithms are required) and
one blind-index key (HMAC-SHA256, or HMAC-SM3). It is read from a key file outside the database
(`HEARTH_KEY_FILE`) or from the environment (`HEARTH_ID_KEYS`, the same JSON), never from the database:

    {"current": "k2",
     "keys": {"k1": {"alg": "aes-256-gcm", "key": "<base64>"}, "k2": {"alg": "sm4-gcm", "key": "<base64>"}},
     "index": {"alg": "hmac-sha256", "key": "<base64>"}}

Each stored value is nonce (12 bytes) + ciphertext + tag, with its key id in a column beside it, so keys
rotate by re-encrypting in batches (`hearth keys rotate`). The associated data binds a value to its row,
so a ciphertext copied onto another record does not decrypt.

The blind index key never rotates with the data keys: every index would change. ID numbers have little
entropy (area code, birth date and a 3-digit sequence), so the index key is as secret as the data keys.
"""

import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

AES = "aes-256-gcm"
SM4 = "sm4-gcm"
HMAC_SHA256 = "hmac-sha256"
HMAC_SM3 = "hmac-sm3"
_KEY_BYTES = {AES: 32, SM4: 16}
_NONCE = 12
_TAG = 16


class DecryptionError(Exception):
    """A value that does not decrypt: wrong key, altered bytes, or moved to another row."""


@dataclass(frozen=True)
class DataKey:
    key_id: str
    alg: str
    key: bytes

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        if self.alg == AES:
            return nonce + AESGCM(self.key).encrypt(nonce, plaintext, aad)
        # cryptography has no one-shot AEAD class for SM4; GCM through Cipher is the same construction.
        enc = Cipher(algorithms.SM4(self.key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        return nonce + enc.update(plaintext) + enc.finalize() + enc.tag

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        nonce, body = bytes(blob[:_NONCE]), bytes(blob[_NONCE:])
        try:
            if self.alg == AES:
                return AESGCM(self.key).decrypt(nonce, body, aad)
            dec = Cipher(algorithms.SM4(self.key), modes.GCM(nonce, body[-_TAG:])).decryptor()
            dec.authenticate_additional_data(aad)
            return dec.update(body[:-_TAG]) + dec.finalize()
        except InvalidTag:
            raise DecryptionError(self.key_id) from None


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: dict[str, DataKey]
    index_alg: str
    index_key: bytes

    def encrypt(self, plaintext: str, aad: bytes) -> tuple[str, bytes]:
        """Encrypt with the current key: (key id, stored bytes)."""
        return self.current, self.keys[self.current].encrypt(plaintext.encode(), aad)

    def decrypt(self, key_id: str, blob: bytes, aad: bytes) -> str:
        key = self.keys.get(key_id)
        if key is None:
            raise DecryptionError(key_id)
        return key.decrypt(blob, aad).decode()

    def blind_index(self, purpose: str, value: str, *, length: int = 16) -> str:
        """A keyed hash for equality lookup, as hex; `purpose` separates the indexes of one value."""
        message = f"{purpose}\x1f{value}".encode()
        if self.index_alg == HMAC_SHA256:
            digest = hmac.digest(self.index_key, message, hashlib.sha256)
        else:
            mac = crypto_hmac.HMAC(self.index_key, hashes.SM3())
            mac.update(message)
            digest = mac.finalize()
        return digest[:length].hex()


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"keyring: {what} is not base64") from None


def parse_keyring(data: dict) -> Keyring:
    try:
        keys = {}
        for key_id, spec in data["keys"].items():
            alg = spec["alg"]
            if alg not in _KEY_BYTES:
                raise ImproperlyConfigured(f"keyring: key {key_id} has unknown algorithm {alg}")
            raw = _b64(spec["key"], f"key {key_id}")
            if len(raw) != _KEY_BYTES[alg]:
                raise ImproperlyConfigured(f"keyring: key {key_id} must be {_KEY_BYTES[alg]} bytes for {alg}")
            keys[key_id] = DataKey(key_id=key_id, alg=alg, key=raw)
        current = data["current"]
        if current not in keys:
            raise ImproperlyConfigured(f"keyring: current key {current} is not in keys")
        index_alg = data["index"].get("alg", HMAC_SHA256)
        if index_alg not in {HMAC_SHA256, HMAC_SM3}:
            raise ImproperlyConfigured(f"keyring: unknown index algorithm {index_alg}")
        index_key = _b64(data["index"]["key"], "index key")
        if len(index_key) < 32:
            raise ImproperlyConfigured("keyring: the index key must be at least 32 bytes")
    except KeyError as exc:
        raise ImproperlyConfigured(f"keyring: missing {exc}") from None
    return Keyring(current=current, keys=keys, index_alg=index_alg, index_key=index_key)


def new_keyring_data(alg: str = AES, index_alg: str = HMAC_SHA256) -> dict:
    return {
        "current": "k1",
        "keys": {"k1": new_key_spec(alg)},
        "index": {"alg": index_alg, "key": base64.b64encode(secrets.token_bytes(32)).decode()},
    }


def new_key_spec(alg: str) -> dict:
    return {"alg": alg, "key": base64.b64encode(secrets.token_bytes(_KEY_BYTES[alg])).decode()}


def key_file_path() -> Path | None:
    path = getattr(settings, "HEARTH_KEY_FILE", "")
    return Path(path) if path else None


def load_keyring_data() -> dict:
    inline = getattr(settings, "HEARTH_KEYRING", None)
    if inline:
        return inline
    env = os.environ.get("HEARTH_ID_KEYS")
    if env:
        return json.loads(env)
    path = key_file_path()
    if path is None:
        raise ImproperlyConfigured("No keyring: set HEARTH_KEY_FILE or HEARTH_ID_KEYS (see docs/adr/0004).")
    if not path.exists():
        if not getattr(settings, "HEARTH_KEYS_AUTOCREATE", False):
            raise ImproperlyConfigured(f"Key file {path} does not exist; create it with `hearth keys init`.")
        write_key_file(path, new_keyring_data(getattr(settings, "HEARTH_ID_CIPHER", AES)))
    return json.loads(path.read_text())


def write_key_file(path: Path, data: dict) -> None:
    """Write atomically with owner-only permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
    os.replace(tmp, path)


@functools.cache
def keyring() -> Keyring:
    return parse_keyring(load_keyring_data())


def reset_keyring_cache() -> None:
    keyring.cache_clear()
