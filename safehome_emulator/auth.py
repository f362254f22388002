"""Bearer tokens: the hub's paired clients."""

from __future__ import annotations

from .util import new_secret


class TokenStore:
    """The hub's paired clients: token -> client name. Tokens never expire."""

    def __init__(self) -> None:
        """Start with no tokens."""
        self._tokens: dict[str, str] = {}

    def issue(self, client_name: str) -> str:
        """Create and return a new token for a client."""
        token = new_secret()
        self._tokens[token] = client_name
        return token

    def client(self, token: str | None) -> str | None:
        """Return the client name of a valid token, or None."""
        if token is None:
            return None
        return self._tokens.get(token)

    def revoke_all(self) -> int:
        """Revoke every token; return how many there were."""
        count = len(self._tokens)
        self._tokens.clear()
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
