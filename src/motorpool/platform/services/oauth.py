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
from ..store import notify, repo
from ..store.models import AuthorizationCode, RefreshToken, SigningKey

ALGORITHM = "ES256"
TOKEN_TYPE_HEADER = "at+jwt"
CODE_TTL = timedelta(minutes=10)
REFRESH_TTL = timedelta(days=60)
#: How long a used refresh token is still accepted (a retry whose first answer was lost).
REFRESH_REUSE_GRACE = timedelta(minutes=1)
GRANT_TYPES = ("client_credentials", "authorization_code", "refresh_token")
#: PyJWT's JWS layer, made once and reused for every token.
_JWS = jwt.PyJWS()
SessionMaker = async_sessionmaker[AsyncSession]


def new_client_id() -> str:
    return "client_" + secrets.token_hex(16)


def new_client_secret() -> str:
    return "scs_" + secrets.token_urlsafe(32)


def new_refresh_token() -> str:
    return "rt_" + secrets.token_urlsafe(32)


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
    """A verified access token: an application token, or a user token (``user_id`` set)."""

    application_id: str
    client_id: str
    jti: str
    issued_at: int
    expires_at: int
    raw: dict[str, Any]
    #: The user a user token speaks for; None for an application token.
    user_id: str | None = None
    #: The permissions the owner granted when the user token was issued.
    scope: tuple[str, ...] = ()


#: Turns a stored private key into its PEM (see ``services.keys``: keys are sealed at rest).
Unseal = Callable[[str], str]


class TokenService:
    """Signs and verifies access tokens (RFC 9068 JWTs).

    Two kinds: an application token (client credentials; ``sub`` is the application) and a user
    token (a Connect code or a refresh token; ``sub`` is the user, with the ``application_id`` and
    the granted ``scope``). A user token's audience names the v2 API as well as v3."""

    def __init__(
        self,
        keys: list[SigningKey],
        issuer: str,
        ttl: int,
        revoked: set[str] | None = None,
        cache_size: int = 50_000,
        user_ttl: int = 7200,
        unseal: Unseal | None = None,
    ) -> None:
        self._unseal: Unseal = unseal or (lambda stored: stored)
        self.use_keys(keys)
        self.issuer = issuer
        self.audience = issuer + "/v3"
        self.user_audience = [issuer + "/v2.0", self.audience]
        self.ttl = ttl
        self.user_ttl = user_ttl
        self.revoked: set[str] = revoked or set()
        #: Verified tokens: a token is checked once, then looked up (its expiry and revocation
        #: are checked on every use).
        self._cache: LRUCache[str, AccessClaims] = LRUCache(maxsize=cache_size)

    def use_keys(self, keys: list[SigningKey]) -> None:
        """Sign with the newest active key; verify with every key (rotation keeps the old ones)."""
        active = [k for k in keys if k.active]
        if not active:
            raise ValueError("no active signing key")
        signing = active[-1]
        private = serialization.load_pem_private_key(self._unseal(signing.private_pem).encode(), None)
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        self._public = {k.kid: _public_key(k.public_jwk) for k in keys}
        self.jwks = {"keys": [k.public_jwk for k in keys]}
        self.kids = [k.kid for k in keys]
        self._private = private
        self.kid = signing.kid
        self._headers = {"kid": self.kid, "typ": TOKEN_TYPE_HEADER}

    def issue(self, application_id: str, client_id: str, now: float | None = None) -> tuple[str, int]:
        """An application token: ``(token, expires_in)``."""
        claims = {"aud": self.audience, "sub": application_id, "client_id": client_id}
        token, _jti = self._sign(claims, self.ttl, now)
        return token, self.ttl

    def issue_user(
        self,
        application_id: str,
        client_id: str,
        user_id: str,
        scope: list[str],
        now: float | None = None,
    ) -> tuple[str, int, str]:
        """A user token: ``(token, expires_in, jti)``."""
        claims = {
            "aud": self.user_audience,
            "sub": user_id,
            "application_id": application_id,
            "client_id": client_id,
            "scope": " ".join(scope),
        }
        token, jti = self._sign(claims, self.user_ttl, now)
        return token, self.user_ttl, jti

    def _sign(self, claims: dict[str, Any], ttl: int, now: float | None) -> tuple[str, str]:
        issued = int(now if now is not None else time.time())
        jti = secrets.token_hex(16)
        claims = {"iss": self.issuer, **claims, "iat": issued, "exp": issued + ttl, "jti": jti}
        # The claims are strings and integers: orjson writes them as jwt.encode would, and PyJWT's
        # JWS layer signs them. jwt.encode's stdlib json costs a grant about a tenth more CPU.
        token = _JWS.encode(orjson.dumps(claims), self._private, ALGORITHM, headers=self._headers)
        return token, jti

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
        # A user token names its application beside its subject, the user.
        application_id = payload.get("application_id")
        return AccessClaims(
            application_id=application_id or payload["sub"],
            client_id=payload["client_id"],
            jti=payload["jti"],
            issued_at=int(payload["iat"]),
            expires_at=int(payload["exp"]),
            raw=payload,
            user_id=payload["sub"] if application_id else None,
            scope=tuple(str(payload.get("scope") or "").split()),
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
            # Other processes forget it too, as soon as the change commits.
            notify.announce(session, "client", client_id or "*")

    def forget(self, client_id: str | None) -> None:
        """Forget the client (every client when None): another process changed it."""
        self._forget(client_id)

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
        if grant_type not in GRANT_TYPES:
            raise OAuthError(
                "unsupported_grant_type", f"The grant type '{grant_type}' is not supported."
            )
        client = await authenticate_client(self.clients, request)
        if grant_type == "authorization_code":
            return await self._redeem_code(client, request.params)
        if grant_type == "refresh_token":
            return await self._refresh(client, request.params)
        token, expires_in = self.tokens.issue(client.application_id, client.client_id)
        return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}

    async def _redeem_code(self, client: ClientRecord, params: dict[str, str]) -> dict[str, Any]:
        """A Connect code for a user token and a refresh token (RFC 6749 §4.1.3), once."""
        code = params.get("code")
        if not code:
            raise OAuthError("invalid_request", "The code parameter is required.")
        code_hash = hash_code(code)
        now = datetime.now(UTC)
        failure = OAuthError("invalid_grant", "The code is invalid or was already used.")
        async with self.sessions() as session, session.begin():
            grant: AuthorizationCode | None = await repo.claim_code(session, code_hash, now)
            if grant is None:
                replayed = await repo.get_code(session, code_hash)
                if replayed is not None and replayed.application_id == client.application_id:
                    # RFC 6749 §4.1.2: a code used twice revokes what its first use issued.
                    await self._revoke_family(session, code_hash, now)
            elif grant.application_id != client.application_id:
                raise failure  # another application's code: rolled back, left as it was
            else:
                try:
                    self._check_code(grant, client, params, now)
                except OAuthError as refused:
                    # The attempt burns the code all the same (committed below): a guessed
                    # verifier or redirect cannot be tried again.
                    failure = refused
                else:
                    answer = await self._issue_user_tokens(
                        session, client, grant.user_id, list(grant.scope), code_hash, now
                    )
                    return answer | {"user_id": grant.user_id, "vehicle_ids": list(grant.vehicle_ids)}
        raise failure

    @staticmethod
    def _check_code(
        grant: AuthorizationCode, client: ClientRecord, params: dict[str, str], now: datetime
    ) -> None:
        if repo.aware(grant.expires_at) <= now:
            raise OAuthError("invalid_grant", "The code has expired.")
        redirect_uri = params.get("redirect_uri")
        # An exchange without redirect_uri stands for a Connect URL without one, which Connect
        # sent to the application's default (first registered) redirect URI.
        expected = grant.redirect_uri
        if redirect_uri is None and client.redirect_uris and expected != client.redirect_uris[0]:
            raise OAuthError("invalid_request", "redirect_uri is required: the authorization named one.")
        if redirect_uri is not None and redirect_uri != expected:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization.")
        if grant.code_challenge is not None:
            verifier = params.get("code_verifier")
            if not verifier:
                raise OAuthError("invalid_request", "code_verifier is required (PKCE).")
            if not hmac.compare_digest(pkce_challenge(verifier), grant.code_challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match.")

    async def _refresh(self, client: ClientRecord, params: dict[str, str]) -> dict[str, Any]:
        """A refresh token for a new pair (RFC 6749 §6). A used refresh token is still accepted
        for a minute (a retry after a lost answer), then refused."""
        presented = params.get("refresh_token")
        if not presented:
            raise OAuthError("invalid_request", "The refresh_token parameter is required.")
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            row = await repo.get_refresh_token(session, hash_code(presented))
            if row is None or row.application_id != client.application_id:
                raise OAuthError("invalid_grant", "The refresh token is invalid.")
            if row.revoked_at is not None:
                raise OAuthError("invalid_grant", "The refresh token has been revoked.")
            if repo.aware(row.expires_at) <= now:
                raise OAuthError("invalid_grant", "The refresh token has expired.")
            if row.used_at is not None and now - repo.aware(row.used_at) > REFRESH_REUSE_GRACE:
                raise OAuthError("invalid_grant", "The refresh token was already used.")
            if not await repo.user_is_connected(session, row.application_id, row.user_id):
                raise OAuthError(
                    "invalid_grant", "The user has no connection to this application any more."
                )
            if row.used_at is None:
                row.used_at = now
            return await self._issue_user_tokens(
                session, client, row.user_id, list(row.scope), row.family, now
            )

    async def _issue_user_tokens(
        self,
        session: AsyncSession,
        client: ClientRecord,
        user_id: str,
        scope: list[str],
        family: str,
        now: datetime,
    ) -> dict[str, Any]:
        token, expires_in, jti = self.tokens.issue_user(
            client.application_id, client.client_id, user_id, scope, now.timestamp()
        )
        refresh = new_refresh_token()
        await repo.add_refresh_token(
            session,
            RefreshToken(
                token_hash=hash_code(refresh),
                application_id=client.application_id,
                user_id=user_id,
                scope=scope,
                family=family,
                access_jti=jti,
                created_at=now,
                expires_at=now + REFRESH_TTL,
            ),
        )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "refresh_token": refresh,
            "scope": " ".join(scope),
        }

    async def _revoke_family(self, session: AsyncSession, family: str, now: datetime) -> None:
        """Revoke the refresh tokens descended from one code and the access tokens issued with them."""
        expires = now + timedelta(seconds=self.tokens.user_ttl)
        for row in await repo.revoke_refresh_family(session, family, now):
            self.tokens.revoked.add(row.access_jti)
            await repo.add_revoked_token(session, row.access_jti, expires)

    def server_metadata(self, origin: str | None = None) -> dict[str, Any]:
        """RFC 8414 metadata of this authorization server, its endpoints on ``origin`` (the
        issuer's by default). The issuer is one, whatever host the metadata was asked on: tokens
        are verified against it wherever they are used."""
        origin = origin or self.tokens.issuer
        methods = ["client_secret_post", "client_secret_basic"]
        return {
            "issuer": self.tokens.issuer,
            "authorization_endpoint": f"{origin}/oauth/authorize",
            "token_endpoint": f"{origin}/oauth2/token",
            "introspection_endpoint": f"{origin}/oauth2/introspect",
            "revocation_endpoint": f"{origin}/oauth2/revoke",
            "jwks_uri": f"{origin}/.well-known/jwks.json",
            "grant_types_supported": list(GRANT_TYPES),
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
        answer: dict[str, Any] = {
            "active": True,
            "client_id": claims.client_id,
            "sub": claims.user_id or claims.application_id,
            "token_type": "Bearer",
            "iat": claims.issued_at,
            "exp": claims.expires_at,
            "iss": self.tokens.issuer,
            "aud": claims.raw.get("aud"),
            "jti": claims.jti,
        }
        if claims.user_id is not None:
            answer["scope"] = " ".join(claims.scope)
        return answer

    async def revoke(self, request: TokenRequest) -> None:
        client = await authenticate_client(self.clients, request)
        token = request.params.get("token")
        if not token:
            raise OAuthError("invalid_request", "The token parameter is required.")
        claims = self._own_claims(token, client)
        if claims is None:
            await self._revoke_refresh_token(token, client)
            return  # RFC 7009: unknown or foreign tokens are answered 200 all the same.
        self.tokens.revoked.add(claims.jti)
        async with self.sessions() as session, session.begin():
            await repo.add_revoked_token(
                session, claims.jti, datetime.fromtimestamp(claims.expires_at, UTC)
            )
        if self.on_revoke is not None:
            await self.on_revoke(claims.jti)

    async def _revoke_refresh_token(self, token: str, client: ClientRecord) -> None:
        """Revoking a refresh token revokes its whole grant: every refresh token of the family and
        the access tokens issued with them (RFC 7009 §2.1)."""
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            row = await repo.get_refresh_token(session, hash_code(token))
            if row is not None and row.application_id == client.application_id:
                await self._revoke_family(session, row.family, now)
