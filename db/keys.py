"""Encryption at rest: the database key and the key file beside the database.

Every database the app makes is an SQLCipher file encrypted with a random 256-bit key (given to
SQLCipher raw, `PRAGMA key = "x'…'"`, so opening costs no key derivation). That key is kept only
wrapped (AES-256-GCM, the `cryptography` package) in a key file beside the database,
`<database>.keys`, JSON:

- the database's id, and what the sign-in window needs before anything is unlocked (the service's
  name and code, whether it is a demo, whether it has accounts): nothing about a person;
- one entry per account that has a password, indexed by an HMAC of its username (not the bare
  name), holding the salt and argon2id parameters of the account's stored password hash and the
  database key wrapped with a key derived (HKDF) from the raw argon2id output of the password with
  that salt and those parameters. That raw output is the hash part of the stored password hash, so
  the entries can be made again from the accounts table alone by whoever has the database open
  (an administrator creating or resetting an account, a user changing a password, converting a
  plain database): `sync` does that after every committed write. Signing in costs one argon2
  computation, which both unwraps the key and checks the password;
- one entry for the recovery key (shown once at set-up), whose own 160 random bits derive its
  wrapping key directly;
- wrong passwords counted per account (a wrong password cannot open the database to record it);
  the next sign-in that opens the database writes them to the accounts table and the audit trail,
  where the lockout rules apply (db/accounts.py).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

SUFFIX = ".keys"
FORMAT = "htdesk-keys-1"
SQLITE_MAGIC = b"SQLite format 3\x00"
KEY_BYTES = 32
RECOVERY_BYTES = 20          # 160 bits: 32 base32 letters, shown in eight groups of four


def key_file_of(database: Path | str) -> Path:
    return Path(str(database) + SUFFIX)


def is_encrypted_file(path: Path | str) -> bool:
    """A non-empty file that does not start with SQLite's plain header (SQLCipher encrypts page 1 too)."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return False
    return bool(head) and head != SQLITE_MAGIC


def new_database_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def pragma_key(key: bytes) -> str:
    return f"PRAGMA key = \"x'{key.hex()}'\""


# --- the recovery key ------------------------------------------------------------------------------

def new_recovery_key() -> str:
    text = base64.b32encode(secrets.token_bytes(RECOVERY_BYTES)).decode()
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def _recovery_bytes(text: str) -> bytes | None:
    """The key as typed: any case, spaces or dashes anywhere, 0/1/8 read as O/I/B."""
    cleaned = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans("018", "OIB"))
    if len(cleaned) != RECOVERY_BYTES * 8 // 5:
        return None
    try:
        return base64.b32decode(cleaned)
    except (ValueError, base64.binascii.Error):
        return None


# --- wrapping ----------------------------------------------------------------------------------------

def _kek(secret: bytes, purpose: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"htdesk database key wrap v1: " + purpose).derive(secret)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


def _wrap(kek: bytes, db_key: bytes, aad: bytes) -> dict:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    nonce = secrets.token_bytes(12)
    return {"nonce": _b64(nonce), "wrapped": _b64(AESGCM(kek).encrypt(nonce, db_key, aad))}


def _unwrap(kek: bytes, entry: dict, aad: bytes) -> bytes | None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    try:
        return AESGCM(kek).decrypt(_unb64(entry["nonce"]), _unb64(entry["wrapped"]), aad)
    except (InvalidTag, KeyError, ValueError, TypeError):
        return None


# --- argon2id: the stored password hash and the raw output ----------------------------------------------

@dataclass(frozen=True)
class HashParams:
    salt: bytes
    time_cost: int
    memory_cost: int
    parallelism: int
    hash_len: int
    version: int = 19

    def as_json(self) -> dict:
        return {"salt": _b64(self.salt), "t": self.time_cost, "m": self.memory_cost, "p": self.parallelism,
                "len": self.hash_len, "v": self.version}

    @classmethod
    def from_json(cls, d: dict) -> "HashParams":
        return cls(_unb64(d["salt"]), int(d["t"]), int(d["m"]), int(d["p"]), int(d["len"]), int(d.get("v", 19)))


def _unb64_loose(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def split_hash(encoded: str) -> tuple[HashParams, bytes] | None:
    """The salt, parameters and raw output of an argon2id hash string, or None for another kind."""
    try:
        _, kind, version, costs, salt, raw = encoded.split("$")
        if kind != "argon2id":
            return None
        c = dict(part.split("=") for part in costs.split(","))
        raw_bytes = _unb64_loose(raw)
        return HashParams(_unb64_loose(salt), int(c["t"]), int(c["m"]), int(c["p"]), len(raw_bytes),
                          int(version.split("=")[1])), raw_bytes
    except (ValueError, KeyError, AttributeError):
        return None


def derive_raw(password: str, params: HashParams) -> bytes:
    from argon2.low_level import Type, hash_secret_raw
    return hash_secret_raw((password or "").encode(), params.salt, params.time_cost, params.memory_cost,
                           params.parallelism, params.hash_len, Type.ID, params.version)


# --- the key file ----------------------------------------------------------------------------------------

class KeyFileError(Exception):
    """The key file is missing or cannot be read (the caller says so in plain words)."""


class KeyFile:
    def __init__(self, path: Path, data: dict):
        self.path = Path(path)
        self.data = data

    @classmethod
    def new(cls, database: Path | str) -> "KeyFile":
        return cls(key_file_of(database), {"format": FORMAT, "database_id": secrets.token_hex(16),
                                           "service": {"name": "", "code": ""}, "demo": False,
                                           "has_accounts": False, "accounts": {}, "recovery": None,
                                           "failed": {}, "unknown_failed": 0})

    @classmethod
    def load(cls, database: Path | str) -> "KeyFile":
        path = key_file_of(database)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyFileError(f"The key file {path} is missing") from None
        except (OSError, ValueError) as exc:
            raise KeyFileError(f"The key file {path} cannot be read ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("accounts"), dict):
            raise KeyFileError(f"The key file {path} is not a key file of Health Trainer Desk")
        return cls(path, data)

    def save(self, path: Path | None = None) -> Path:
        """Written whole under a temporary name (owner-only), synced, and renamed into place."""
        target = Path(path or self.path)
        tmp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(3)}.tmp")
        text = json.dumps(self.data, indent=1, sort_keys=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return target

    def copy_to(self, database: Path | str) -> Path:
        return KeyFile(key_file_of(database), json.loads(json.dumps(self.data))).save()

    # what the sign-in window may know
    @property
    def database_id(self) -> str:
        return self.data["database_id"]

    @property
    def service_name(self) -> str:
        return self.data.get("service", {}).get("name", "")

    @property
    def service_code(self) -> str:
        return self.data.get("service", {}).get("code", "")

    @property
    def demo(self) -> bool:
        return bool(self.data.get("demo"))

    @property
    def has_accounts(self) -> bool:
        return bool(self.data.get("has_accounts"))

    def account_index(self, username: str) -> str:
        return hmac.new(self.database_id.encode(), (username or "").strip().encode(), hashlib.sha256).hexdigest()

    def _aad(self, index: str) -> bytes:
        return f"{self.database_id}:{index}".encode()

    # unwrapping
    def unwrap_password(self, username: str, password: str) -> tuple[bytes | None, bytes | None]:
        """(database key, raw argon2 output) for a right username and password, else (None, None).
        One argon2 computation either way: an unknown username costs the same as a known one."""
        index = self.account_index(username)
        entry = self.data["accounts"].get(index)
        if entry is None:
            # The parameters every account's hash is brought to at its next sign-in (db/accounts.py).
            derive_raw(password, _default_params())
            return None, None
        raw = derive_raw(password, HashParams.from_json(entry["hash"]))
        key = _unwrap(_kek(raw, b"account"), entry, self._aad(index))
        return (key, raw) if key is not None else (None, None)

    def unwrap_recovery(self, recovery_key: str) -> bytes | None:
        secret, entry = _recovery_bytes(recovery_key), self.data.get("recovery")
        if secret is None or not entry:
            return None
        return _unwrap(_kek(secret, b"recovery"), entry, self._aad("recovery"))

    def set_recovery(self, db_key: bytes, recovery_key: str) -> None:
        secret = _recovery_bytes(recovery_key)
        self.data["recovery"] = _wrap(_kek(secret, b"recovery"), db_key, self._aad("recovery"))

    # wrong passwords, kept until the database is next opened
    def record_failure(self, username: str) -> None:
        index = self.account_index(username)
        if index in self.data["accounts"]:
            count, _ = self.data["failed"].get(index, (0, None))
            self.data["failed"][index] = (count + 1, datetime.now().isoformat(timespec="seconds"))
        else:
            self.data["unknown_failed"] = min(int(self.data.get("unknown_failed", 0)) + 1, 1_000_000)

    def failures(self) -> tuple[dict[str, int], int]:
        return {i: int(c) for i, (c, _) in self.data.get("failed", {}).items()}, int(self.data.get("unknown_failed", 0))

    def clear_failures(self, indexes=None) -> None:
        if indexes is None:
            self.data["failed"], self.data["unknown_failed"] = {}, 0
        else:
            for i in indexes:
                self.data["failed"].pop(i, None)

    # made again from the database
    def sync(self, db_key: bytes, accounts: list[tuple[str, str | None]], service: tuple[str, str],
             demo: bool) -> bool:
        """Bring the entries and the public facts in line with the accounts table (username, stored
        password hash); returns whether anything changed. An entry is re-wrapped only when its hash
        changed (a new password gets a new salt)."""
        before = json.dumps(self.data, sort_keys=True)
        wanted = {}
        for username, stored in accounts:
            split = split_hash(stored) if stored else None
            if split is None:
                continue
            params, raw = split
            index = self.account_index(username)
            old = self.data["accounts"].get(index)
            if old and old.get("hash") == params.as_json():
                wanted[index] = old
            else:
                wanted[index] = {"hash": params.as_json(), **_wrap(_kek(raw, b"account"), db_key, self._aad(index))}
        self.data["accounts"] = wanted
        self.data["failed"] = {i: v for i, v in self.data.get("failed", {}).items() if i in wanted}
        self.data["service"] = {"name": service[0], "code": service[1]}
        self.data["demo"] = bool(demo)
        self.data["has_accounts"] = bool(accounts)
        return json.dumps(self.data, sort_keys=True) != before


def _default_params() -> HashParams:
    from . import accounts
    p = accounts._hasher._parameters
    return HashParams(secrets.token_bytes(p.salt_len), p.time_cost, p.memory_cost, p.parallelism, p.hash_len)


def sync_from_db(db, db_key: bytes, keyfile: KeyFile) -> bool:
    """keyfile.sync with the accounts and the service's public facts read from the open database."""
    conn = db.conn
    rows = conn.execute("SELECT username, password_hash FROM accounts ORDER BY id").fetchall()
    service = conn.execute("SELECT group_concat(name, ', '), group_concat(code, ', ') FROM "
                           "(SELECT name, code FROM services ORDER BY code)").fetchone()
    demo = conn.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()
    return keyfile.sync(db_key, rows, (service[0] or "", service[1] or ""), bool(demo and demo[0] == "1"))


def account_index_known(keyfile: KeyFile, username: str) -> bool:
    return keyfile.account_index(username) in keyfile.data["accounts"]
