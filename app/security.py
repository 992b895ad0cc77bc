"""Signed tokens and CSRF: the only module that imports jose.

Every token is a JWT signed with SECRET_KEY by HS256 and checked against an explicit algorithm list, an expiry and
an audience, so a token made for one purpose (a sign-in link) can never be used for another (a session, the API).
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any

from jose import JWTError, jwt

ALGORITHM = "HS256"
ALLOWED_ALGORITHMS = [ALGORITHM]
ISSUER = "supplier-intel"

SIGN_IN_AUDIENCE = "sign-in"
SESSION_AUDIENCE = "session"
API_AUDIENCE = "api"
CONTACT_DECISION_AUDIENCE = "contact-decision"  # links to accept or decline a contact request

SIGN_IN_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=14)
API_TOKEN_LIFETIME = timedelta(days=90)


class InvalidToken(Exception):
    """A token that is malformed, tampered with, expired, or meant for something else."""


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    token_id: str
    expires_at: datetime


def create_token(*, secret: str, audience: str, subject: str, lifetime: timedelta) -> tuple[str, TokenClaims]:
    """Sign a token for `subject`, returning it with the claims it carries."""
    now = datetime.now(UTC)
    claims = TokenClaims(subject=subject, token_id=secrets.token_urlsafe(24), expires_at=now + lifetime)
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": audience,
        "sub": subject,
        "jti": claims.token_id,
        "iat": int(now.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM), claims


def read_token(token: str, *, secret: str, audience: str) -> TokenClaims:
    """Check a token's signature, algorithm, expiry, issuer and audience; raise InvalidToken if any fails."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise InvalidToken("unexpected algorithm")
        payload = jwt.decode(
            token,
            secret,
            algorithms=ALLOWED_ALGORITHMS,
            audience=audience,
            issuer=ISSUER,
            options={"require_exp": True, "require_aud": True, "require_sub": True, "require_jti": True},
        )
    except JWTError as error:
        raise InvalidToken(str(error)) from error
    return TokenClaims(
        subject=str(payload["sub"]),
        token_id=str(payload["jti"]),
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
    )


def new_csrf_secret() -> str:
    return secrets.token_urlsafe(32)


def csrf_token_for(csrf_secret: str, *, secret: str) -> str:
    """The token a form carries: an HMAC of the browser's CSRF cookie, so the cookie alone is not enough."""
    return hmac.new(secret.encode(), csrf_secret.encode(), sha256).hexdigest()


def csrf_token_matches(submitted: str | None, csrf_secret: str | None, *, secret: str) -> bool:
    if not submitted or not csrf_secret:
        return False
    return hmac.compare_digest(submitted, csrf_token_for(csrf_secret, secret=secret))
