"""Bearer tokens: the hub's paired clients, kept as hashes (in `state_dir` when set)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
import tempfile

from .util import new_secret

CLIENTS_FILE = "paired-clients.json"


def _digest(token: str) -> str:
    """Return what the hub keeps of a token: its SHA-256 (a token is 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """The hub's paired clients: token hash -> client name. Tokens never expire.

    With a folder, the clients survive a restart of the hub (as a real hub's would); the
    file holds only hashes, so reading it gives no usable token.
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        """Start with the clients kept in `folder`, or with none."""
        self._path = Path(folder, CLIENTS_FILE) if folder is not None else None
        self._clients: dict[str, str] = self._load()

    def _load(self) -> dict[str, str]:
        if self._path is None or not self._path.exists():
            return {}
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
            clients = {str(key): str(name) for key, name in data["clients"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"cannot read the paired clients in {self._path}: {err}") from err
        return clients

    def _save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"clients": self._clients}, indent=1)
        fd, temp = tempfile.mkstemp(dir=self._path.parent, prefix=".clients-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
            os.chmod(temp, 0o600)
            os.replace(temp, self._path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def issue(self, client_name: str) -> str:
        """Create and return a new token for a client."""
        token = new_secret()
        self._clients[_digest(token)] = client_name
        self._save()
        return token

    def client(self, token: str | None) -> str | None:
        """Return the client name of a valid token, or None."""
        if token is None:
            return None
        return self._clients.get(_digest(token))

    def __len__(self) -> int:
        """How many clients are paired."""
        return len(self._clients)

    def revoke_all(self) -> int:
        """Revoke every token; return how many there were."""
        count = len(self._clients)
        self._clients.clear()
        self._save()
        return count


def bearer_token(header: str | None) -> str | None:
    """Extract the token from an `Authorization: Bearer <token>` header."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token
