"""OAuth 2.0 rules: client authentication, client-credentials and code grants, JWT access tokens
(RFC 9068), introspection (RFC 7662), revocation (RFC 7009) and the bearer check of every route.

Client secrets are long random values, so they are stored as a keyed fast hash (HMAC-SHA-256
under an instance pepper) rather than a slow password hash: guessing is infeasible either way,
and the grant stays in microseconds. Clients and verified tokens are cached in memory; local
changes invalidate the caches at once and a short TTL bounds staleness across processes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote

import jwt
import orjson
from cachetools import LRUCache
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import AuthenticationError, OAuthError
from ..store import repo
from ..store.models import AuthorizationCode, SigningKey

ALGORITHM = "ES256"
TOKEN_TYPE_HEADER = "at+jwt"
CODE_TTL = timedelta(minutes=10)
#: PyJWT's JWS layer, made once and reused for every token.
_JWS = jwt.PyJWS()
SessionMaker = async_sessionmaker[AsyncSession]


def new_client_id() -> str:
    return "client_" + secrets.token_hex(16)


def new_client_secret() -> str:
    return "scs_" + secrets.token_urlsafe(32)


class SecretHasher:
    """Keyed hash for client secrets and other long random credentials."""

    def __init__(self, pepper: bytes) -> None:
        self._pepper = pepper

    def hash(self, secret: str) -> str:
        return hmac.new(self._pepper, secret.encode(), hashlib.sha256).hexdigest()

    def matches(self, secret: str, expected_hash: str) -> bool:
        return hmac.compare_digest(self.hash(secret), expected_hash)


# --- signing keys -----------------------------------------------------------------------------


def generate_signing_key() -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_jwk = orjson.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    kid = hashlib.sha256(orjson.dumps(public_jwk, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    public_jwk.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
    return SigningKey(kid=kid, algorithm=ALGORITHM, private_pem=pem, public_jwk=public_jwk)


def _public_key(jwk: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    key = jwt.algorithms.ECAlgorithm.from_jwk(dict(jwk))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise TypeError("a published key must be a public key")
    return key


@dataclass(frozen=True)
class AccessClaims:
    application_id: str
    client_id: str
    jti: str
    issued_at: int
    expires_at: int
    raw: dict[str, Any]


class TokenService:
    """Signs and verifies application access tokens."""

    def __init__(
        self,
        keys: list[SigningKey],
        issuer: str,
        ttl: int,
        revoked: set[str] | None = None,
        cache_size: int = 50_000,
    ) -> None:
        active = [k for k in keys if k.active]
        if not active:
            raise ValueError("no active signing key")
        signing = active[-1]
        self.kid = signing.kid
        private = serialization.load_pem_private_key(signing.private_pem.encode(), None)
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        self._private = private
        self._headers = {"kid": self.kid, "typ": TOKEN_TYPE_HEADER}
        self._public = {k.kid: _public_key(k.public_jwk) for k in keys}
        self.jwks = {"keys": [k.public_jwk for k in keys]}
        self.issuer = issuer
        self.audience = issuer + "/v3"
        self.ttl = ttl
        self.revoked: set[str] = revoked or set()
        #: Verified tokens: a token is checked once, then looked up (its expiry and revocation
        #: are checked on every use).
        self._cache: LRUCache[str, AccessClaims] = LRUCache(maxsize=cache_size)

    def issue(self, application_id: str, client_id: str, now: float | None = None) -> tuple[str, int]:
        issued = int(now if now is not None else time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": application_id,
            "client_id": client_id,
            "iat": issued,
            "exp": issued + self.ttl,
            "jti": secrets.token_hex(16),
        }
        # The claims are strings and integers: orjson writes them as jwt.encode would, and PyJWT's
        # JWS layer signs them. jwt.encode's stdlib json costs a grant about a tenth more CPU.
        token = _JWS.encode(orjson.dumps(claims), self._private, ALGORITHM, headers=self._headers)
        return token, self.ttl

    def decode(self, token: str, now: float | None = None) -> AccessClaims:
        """Verify a token: signature, algorithm, type, ``exp``, ``iss``, ``aud`` and revocation.

        Raises ``jwt.InvalidTokenError`` (or ``LookupError`` for a revoked token)."""
        moment = now if now is not None else time.time()
        try:
            cached = self._cache[token]  # a hit costs one lookup (``get`` would make two)
        except KeyError:
            cached = self._cache[token] = self._verify(token)
        if cached.expires_at <= moment:
            self._cache.pop(token, None)
            raise jwt.ExpiredSignatureError("token expired")
        if cached.jti in self.revoked:
            raise LookupError("token revoked")
        return cached

    def _verify(self, token: str) -> AccessClaims:
        """Check a token's header, signature and claims (not its expiry against the cache)."""
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise jwt.InvalidAlgorithmError("algorithm not allowed")
        if str(header.get("typ") or "").lower() not in (TOKEN_TYPE_HEADER, "application/at+jwt"):
            raise jwt.InvalidTokenError("not an access token")
        key = self._public.get(header.get("kid", ""))
        if key is None:
            raise jwt.InvalidSignatureError("unknown signing key")
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=self.audience,
            issuer=self.issuer,
            options={"require": ["exp", "iat", "sub", "jti", "client_id"]},
            leeway=0,
        )
        return AccessClaims(
            application_id=payload["sub"],
            client_id=payload["client_id"],
            jti=payload["jti"],
            issued_at=int(payload["iat"]),
            expires_at=int(payload["exp"]),
            raw=payload,
        )

    def forget(self, token: str) -> None:
        self._cache.pop(token, None)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header, or an AuthenticationError."""
    if not authorization:
        raise AuthenticationError(
            "The Authorization header is missing. Send 'Authorization: Bearer <access token>'."
        )
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("The Authorization header must use the Bearer scheme.")
    return token


def authenticate_bearer(tokens: TokenService, authorization: str | None) -> AccessClaims:
    """The one bearer check for every API route."""
    token = bearer_token(authorization)
    try:
        return tokens.decode(token)
    except jwt.ExpiredSignatureError:
        raise AuthenticationError(
            "The access token has expired. Request a new one from the token endpoint.",
            code="UNAUTHORIZED",
        ) from None
    except LookupError:
        raise AuthenticationError("The access token has been revoked.") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise AuthenticationError("The access token is missing or invalid.") from None


# --- clients ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientRecord:
    application_id: str
    client_id: str
    #: (secret id, secret hash) of every secret that is not revoked.
    secrets: tuple[tuple[str, str], ...]
    redirect_uris: tuple[str, ...]
    loaded_at: float


def _consume(done: asyncio.Future[Any]) -> None:
    """Retrieve a background lookup's failure (the next request that needs it tries again)."""
    if not done.cancelled():
        done.exception()


@dataclass
class ClientRegistry:
    """Looks up clients by id, with an in-memory cache, and authenticates them."""

    sessions: SessionMaker
    hasher: SecretHasher
    ttl: float
    _cache: dict[str, ClientRecord] = field(default_factory=dict)
    #: secret id -> when it was last used; flushed to the store in the background.
    pending_usage: dict[str, datetime] = field(default_factory=dict)

    #: client id -> the lookup running for it (one at a time per client id, however many ask).
    _loading: dict[str, asyncio.Future[ClientRecord | None]] = field(default_factory=dict)
    #: Bumped by every invalidation: a lookup that started before one is not cached.
    _epoch: int = 0

    async def lookup(self, client_id: str) -> ClientRecord | None:
        """The client's record. A record older than ``ttl`` (another process may have changed
        it) is still answered while one lookup refreshes it in the background, so the expiry
        never stalls a burst of requests; changes made here are forgotten at once."""
        record = self._cache.get(client_id)
        if record is not None:
            if time.monotonic() - record.loaded_at >= self.ttl and client_id not in self._loading:
                self._load(client_id).add_done_callback(_consume)
            return record
        return await asyncio.shield(self._load(client_id))

    def _load(self, client_id: str) -> asyncio.Future[ClientRecord | None]:
        loading = self._loading.get(client_id)
        if loading is None:
            loading = self._loading[client_id] = asyncio.ensure_future(self._fetch(client_id))
            loading.add_done_callback(lambda done: self._loaded(client_id, done))
        return loading

    def _loaded(self, client_id: str, done: asyncio.Future[ClientRecord | None]) -> None:
        if self._loading.get(client_id) is done:
            del self._loading[client_id]

    async def _fetch(self, client_id: str) -> ClientRecord | None:
        epoch = self._epoch
        async with self.sessions() as session:
            app = await repo.get_application_by_client_id(session, client_id)
        if app is None:
            if epoch == self._epoch:
                self._cache.pop(client_id, None)
            return None
        record = ClientRecord(
            application_id=app.id,
            client_id=app.client_id,
            secrets=tuple((s.id, s.secret_hash) for s in app.secrets if s.revoked_at is None),
            redirect_uris=tuple(app.redirect_uris),
            loaded_at=time.monotonic(),
        )
        if epoch == self._epoch:
            self._cache[client_id] = record
        return record

    def invalidate(self, client_id: str | None = None, session: AsyncSession | None = None) -> None:
        """Forget the client (every client when None). Given the session making the change,
        forget it again once that commits: a lookup in between would read the old rows."""
        self._forget(client_id)
        if session is not None:
            event.listen(session.sync_session, "after_commit", lambda _: self._forget(client_id), once=True)

    def _forget(self, client_id: str | None) -> None:
        self._epoch += 1
        if client_id is None:
            self._cache.clear()
            self._loading.clear()
        else:
            self._cache.pop(client_id, None)
            self._loading.pop(client_id, None)

    async def authenticate(self, client_id: str, client_secret: str) -> ClientRecord:
        record = await self.lookup(client_id) if client_id else None
        candidate = self.hasher.hash(client_secret)
        matched: str | None = None
        # Compare against every live secret so timing does not reveal which one matched.
        for secret_id, secret_hash in record.secrets if record else ():
            if hmac.compare_digest(candidate, secret_hash):
                matched = secret_id
        if record is None or matched is None:
            raise OAuthError("invalid_client", "Client authentication failed.", status=401)
        self.pending_usage[matched] = datetime.now(UTC)
        return record

    async def flush_usage(self) -> None:
        if not self.pending_usage:
            return
        used, self.pending_usage = self.pending_usage, {}
        async with self.sessions() as session, session.begin():
            await repo.mark_secrets_used(session, used)


# --- token endpoint requests ------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRequest:
    params: dict[str, str]
    client_id: str | None
    client_secret: str | None


def parse_token_request(content_type: str, body: bytes, authorization: str | None) -> TokenRequest:
    """Read a token-endpoint request sent as a form, as JSON, or with HTTP Basic credentials."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    params: dict[str, str] = {}
    if media_type == "application/json":
        try:
            data = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            raise OAuthError("invalid_request", "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise OAuthError("invalid_request", "The request body must be a JSON object.")
        for name, value in data.items():
            if not isinstance(value, str):
                raise OAuthError("invalid_request", f"Parameter '{name}' must be a string.")
            params[name] = value
    elif media_type in ("application/x-www-form-urlencoded", ""):
        try:
            pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise OAuthError("invalid_request", "The request body is not valid UTF-8.") from None
        for name, value in pairs:
            if name in params:
                raise OAuthError("invalid_request", f"Parameter '{name}' is repeated.")
            params[name] = value
    else:
        raise OAuthError(
            "invalid_request",
            "Send the parameters as application/x-www-form-urlencoded or application/json.",
        )

    client_id = params.pop("client_id", None)
    client_secret = params.pop("client_secret", None)
    if authorization and authorization[:6].lower() == "basic ":
        if client_secret is not None:
            raise OAuthError("invalid_request", "Use one client authentication method, not two.")
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            basic_id, _, basic_secret = decoded.partition(":")
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "Malformed HTTP Basic credentials.", status=401) from None
        if client_id is not None and client_id != unquote(basic_id):
            raise OAuthError("invalid_request", "client_id does not match the Basic credentials.")
        client_id, client_secret = unquote(basic_id), unquote(basic_secret)
    return TokenRequest(params=params, client_id=client_id, client_secret=client_secret)


async def authenticate_client(clients: ClientRegistry, request: TokenRequest) -> ClientRecord:
    if not request.client_id or request.client_secret is None:
        raise OAuthError("invalid_client", "Client credentials are missing.", status=401)
    return await clients.authenticate(request.client_id, request.client_secret)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class OAuthService:
    """The grants, introspection and revocation, over the registry and the token service."""

    sessions: SessionMaker
    clients: ClientRegistry
    tokens: TokenService
    on_revoke: Callable[[str], Awaitable[None]] | None = None

    async def token(self, request: TokenRequest) -> dict[str, Any]:
        grant_type = request.params.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "The grant_type parameter is required.")
        if grant_type not in ("client_credentials", "authorization_code"):
            raise OAuthError(
                "unsupported_grant_type", f"The grant type '{grant_type}' is not supported."
            )
        client = await authenticate_client(self.clients, request)
        token, expires_in = self.tokens.issue(client.application_id, client.client_id)
        answer: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": expires_in,
        }
        if grant_type == "authorization_code":
            answer.update(await self._redeem_code(client, request.params))
        return answer

    async def _redeem_code(self, client: ClientRecord, params: dict[str, str]) -> dict[str, Any]:
        code = params.get("code")
        redirect_uri = params.get("redirect_uri")
        if not code or not redirect_uri:
            raise OAuthError("invalid_request", "code and redirect_uri are required.")
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            grant: AuthorizationCode | None = await repo.claim_code(session, hash_code(code), now)
            if grant is None or grant.application_id != client.application_id:
                raise OAuthError("invalid_grant", "The code is invalid or was already used.")
            expires_at = repo.aware(grant.expires_at)
            if expires_at is None or expires_at <= now:
                raise OAuthError("invalid_grant", "The code has expired.")
            if grant.redirect_uri != redirect_uri:
                raise OAuthError("invalid_grant", "redirect_uri does not match the authorization.")
            if grant.code_challenge is not None:
                verifier = params.get("code_verifier")
                if not verifier:
                    raise OAuthError("invalid_request", "code_verifier is required (PKCE).")
                if not hmac.compare_digest(pkce_challenge(verifier), grant.code_challenge):
                    raise OAuthError("invalid_grant", "code_verifier does not match.")
            return {
                "user_id": grant.user_id,
                "vehicle_ids": list(grant.vehicle_ids),
                "scope": " ".join(grant.scope),
            }

    def server_metadata(self) -> dict[str, Any]:
        """RFC 8414 metadata of this authorization server."""
        origin = self.tokens.issuer
        methods = ["client_secret_post", "client_secret_basic"]
        return {
            "issuer": origin,
            "authorization_endpoint": f"{origin}/oauth/authorize",
            "token_endpoint": f"{origin}/oauth2/token",
            "introspection_endpoint": f"{origin}/oauth2/introspect",
            "revocation_endpoint": f"{origin}/oauth2/revoke",
            "jwks_uri": f"{origin}/.well-known/jwks.json",
            "grant_types_supported": ["client_credentials", "authorization_code"],
            "response_types_supported": ["code"],
            "token_endpoint_auth_methods_supported": methods,
            "introspection_endpoint_auth_methods_supported": methods,
            "revocation_endpoint_auth_methods_supported": methods,
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
        }

    def _own_claims(self, token: str, client: ClientRecord) -> AccessClaims | None:
        try:
            claims = self.tokens.decode(token)
        except (jwt.InvalidTokenError, LookupError, ValueError, TypeError):
            return None
        return claims if claims.client_id == client.client_id else None

    async def introspect(self, request: TokenRequest) -> dict[str, Any]:
        client = await authenticate_client(self.clients, request)
        token = request.params.get("token")
        if not token:
            raise OAuthError("invalid_request", "The token parameter is required.")
        claims = self._own_claims(token, client)
        if claims is None:
            return {"active": False}
        return {
            "active": True,
            "client_id": claims.client_id,
            "sub": claims.application_id,
            "token_type": "Bearer",
            "iat": claims.issued_at,
            "exp": claims.expires_at,
            "iss": self.tokens.issuer,
            "aud": self.tokens.audience,
            "jti": claims.jti,
        }

    async def revoke(self, request: TokenRequest) -> None:
        client = await authenticate_client(self.clients, request)
        token = request.params.get("token")
        if not token:
            raise OAuthError("invalid_request", "The token parameter is required.")
        claims = self._own_claims(token, client)
        if claims is None:
            return  # RFC 7009: unknown or foreign tokens are answered 200 all the same.
        self.tokens.revoked.add(claims.jti)
        async with self.sessions() as session, session.begin():
            await repo.add_revoked_token(
                session, claims.jti, datetime.fromtimestamp(claims.expires_at, UTC)
            )
        if self.on_revoke is not None:
            await self.on_revoke(claims.jti)
