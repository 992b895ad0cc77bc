"""Signed tokens: each refuses tampering, expiry, the wrong audience and unsigned or re-signed forms."""

import base64
import json
from datetime import timedelta

import pytest
from jose import jwt

from app import security

SECRET = "a-secret-that-is-long-enough-for-the-tests-0123456789"


def token(audience: str = security.SESSION_AUDIENCE, lifetime: timedelta = timedelta(minutes=5)) -> str:
    value, _ = security.create_token(secret=SECRET, audience=audience, subject="42", lifetime=lifetime)
    return value


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_valid_token_reads_back() -> None:
    claims = security.read_token(token(), secret=SECRET, audience=security.SESSION_AUDIENCE)
    assert claims.subject == "42"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: token(lifetime=timedelta(seconds=-5)), id="expired"),
        pytest.param(lambda: token(audience=security.SIGN_IN_AUDIENCE), id="wrong-audience"),
        pytest.param(lambda: token()[:-3] + "AAA", id="tampered-signature"),
        pytest.param(
            lambda: ".".join([token().split(".")[0], b64({"sub": "1", "aud": "session"}), token().split(".")[2]]),
            id="tampered-payload",
        ),
        pytest.param(
            lambda: (
                b64({"alg": "none", "typ": "JWT"})
                + "."
                + b64({"sub": "42", "aud": "session", "iss": "supplier-intel", "jti": "x", "exp": 9999999999})
                + "."
            ),
            id="alg-none",
        ),
        pytest.param(
            lambda: jwt.encode(
                {"sub": "42", "aud": "session", "iss": "supplier-intel", "jti": "x", "exp": 9999999999},
                SECRET,
                algorithm="HS512",
            ),
            id="other-algorithm",
        ),
        pytest.param(
            lambda: jwt.encode(
                {"sub": "42", "aud": "session", "iss": "supplier-intel", "jti": "x", "exp": 9999999999},
                "another-secret-that-is-long-enough-0123456789",
                algorithm="HS256",
            ),
            id="other-secret",
        ),
        pytest.param(lambda: "not-a-token", id="garbage"),
    ],
)
def test_bad_tokens_are_refused(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(security.InvalidToken):
        security.read_token(make(), secret=SECRET, audience=security.SESSION_AUDIENCE)


def test_csrf_tokens_are_tied_to_the_browser_secret() -> None:
    browser = security.new_csrf_secret()
    form_token = security.csrf_token_for(browser, secret=SECRET)
    assert security.csrf_token_matches(form_token, browser, secret=SECRET)
    assert not security.csrf_token_matches(form_token, security.new_csrf_secret(), secret=SECRET)
    assert not security.csrf_token_matches(browser, browser, secret=SECRET)
    assert not security.csrf_token_matches(None, browser, secret=SECRET)
