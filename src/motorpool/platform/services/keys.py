"""The token signing keys: sealed at rest, rotated on request.

A signing key's private half is stored encrypted (Fernet: AES-128-CBC with HMAC-SHA-256) under a
key-encryption key that is not in the database: ``MOTORPOOL_KEY_ENCRYPTION_KEY``, or else a file
readable by its owner only in the data folder, made on first use. Whoever copies the database
alone cannot mint tokens. Keys stored in clear by earlier versions are sealed at start.

Rotation makes a new key the one that signs; the old keys stay in the JWKS and keep verifying
the tokens they signed until those expire."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..settings import Settings
from ..store import repo
from ..store.models import SigningKey
from .oauth import TokenService, Unseal, generate_signing_key

KEK_FILE = "key-encryption.key"
CLEAR_PEM = "-----BEGIN"


class SealedKeyError(RuntimeError):
    """The stored signing keys cannot be opened with the key-encryption key given."""


@dataclass(frozen=True, slots=True)
class KeyRecord:
    kid: str
    algorithm: str
    active: bool
    created_at: datetime


def private_folder(folder: Path) -> Path:
    """Create ``folder`` (and its parents) and make it owner-only."""
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        folder.chmod(0o700)
    return folder


def key_encryption_key(settings: Settings) -> Fernet:
    """The key-encryption key: from the settings, else from its owner-only file (made once)."""
    given = settings.key_encryption_key
    if given is not None:
        # Any long random string will do: SHA-256 turns it into the 32 bytes Fernet takes.
        digest = hashlib.sha256(given.get_secret_value().encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))
    path = private_folder(settings.data_dir) / KEK_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Fernet(path.read_bytes().strip())
    with os.fdopen(descriptor, "wb") as file:
        file.write(Fernet.generate_key() + b"\n")
    return Fernet(path.read_bytes().strip())


def seal(fernet: Fernet, pem: str) -> str:
    return fernet.encrypt(pem.encode()).decode()


def opener(fernet: Fernet) -> Unseal:
    """How the token service reads a stored private key (clear PEMs of earlier versions too)."""

    def unseal(stored: str) -> str:
        if stored.startswith(CLEAR_PEM):
            return stored
        try:
            return fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise SealedKeyError(
                "The signing keys in the database were sealed with another key-encryption key. "
                "Set MOTORPOOL_KEY_ENCRYPTION_KEY (or put the key file in the data folder) as "
                "it was when they were made."
            ) from None

    return unseal


def _sealed_new_key(fernet: Fernet) -> SigningKey:
    key = generate_signing_key()
    key.private_pem = seal(fernet, key.private_pem)
    return key


async def load_keys(session: AsyncSession, fernet: Fernet) -> list[SigningKey]:
    """The signing keys, oldest first: the first one made on an empty database, clear ones of
    earlier versions sealed now."""
    keys = list(await repo.list_signing_keys(session))
    if not keys:
        key = _sealed_new_key(fernet)
        await repo.add_signing_key(session, key)
        return [key]
    unseal = opener(fernet)
    for key in keys:
        if key.private_pem.startswith(CLEAR_PEM):
            key.private_pem = seal(fernet, key.private_pem)
        else:
            unseal(key.private_pem)  # fail at start, clearly, with the wrong key-encryption key
    return keys


def key_record(key: SigningKey) -> KeyRecord:
    return KeyRecord(key.kid, key.algorithm, key.active, repo.aware(key.created_at))


@dataclass
class SigningKeys:
    """Listing and rotating the signing keys of a running platform."""

    sessions: async_sessionmaker[AsyncSession]
    tokens: TokenService
    fernet: Fernet

    async def list(self) -> list[KeyRecord]:
        async with self.sessions() as session:
            return [key_record(k) for k in await repo.list_signing_keys(session)]

    async def rotate(self) -> KeyRecord:
        """A new signing key; the others stop signing but keep verifying."""
        async with self.sessions() as session, session.begin():
            key = _sealed_new_key(self.fernet)
            await repo.replace_active_signing_key(session, key)
            keys = list(await repo.list_signing_keys(session))
        self.tokens.use_keys(keys)
        return key_record(key)

    async def refresh(self) -> None:
        """Pick up a rotation made by another process (polled in the background)."""
        async with self.sessions() as session:
            kids = await repo.signing_key_ids(session)
            if kids != self.tokens.kids:
                self.tokens.use_keys(list(await repo.list_signing_keys(session)))
