"""Attacks on signed tokens, sessions, CSRF, cookies and security headers, over HTTP.

Every token the service accepts (sign-in link, session cookie, API bearer token, contact decision link) meets the
same forged, altered and misused tokens. Each forgery starts from a genuine token's claims (the same jti, so a
recorded one), so that only the signature, algorithm, expiry, issuer and audience checks stand between it and
success; the genuine token is used last, to show the attempts neither worked nor used it up. None may give a 500.
Unit tests of `app.security.read_token` are in tests/test_security.py.
"""

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from jose import jwk, jwt
from sqlmodel import Session, select

from app import accounts, contacts, security
from app.accounts import SESSION_COOKIE
from app.config import PLACEHOLDER_SECRET, get_settings
from app.models import ContactRequest, ContactStatus, ContentType, Role, User, UserSession
from app.web import CSRF_COOKIE, CSRF_PROBLEM
from tests.conftest import TEST_SECRET
from tests.factories import BIRMINGHAM, csrf, last_mail, make_review, make_supplier, make_user, sign_in
from tests.html import parse, validate_page

AUDIENCES = [
    security.SIGN_IN_AUDIENCE,
    security.SESSION_AUDIENCE,
    security.API_AUDIENCE,
    security.CONTACT_DECISION_AUDIENCE,
]
OFFICER = "officer@harrow.gov.uk"
ATTACKER = "attacker@harrow.gov.uk"
DECISION_LINK = re.compile(r"http://testserver(/contacts/decide/[A-Za-z0-9._\-]+)")
# Tokens that only a URL path can carry (a header or cookie cannot hold these characters), and the empty token,
# which in a path is another address (the sign-in form, say).
PATH_ONLY = {"nul-byte", "unicode", "slash"}
NOT_IN_A_PATH = {"empty"}

_attacker_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_PRIVATE_PEM = _attacker_key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
ATTACKER_PUBLIC_PEM = _attacker_key.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def part(data: object) -> str:
    return b64(json.dumps(data).encode())


def forge(header: object, claims: object, *, key: bytes | None, digest: Callable[..., object] = hashlib.sha256) -> str:
    """A JWT with any header and claims, HMAC-signed with `key` (no signature when None)."""
    signing_input = f"{part(header)}.{part(claims)}"
    if key is None:
        return signing_input + "."
    signature = hmac.new(key, signing_input.encode(), digest).digest()  # type: ignore[arg-type]
    return f"{signing_input}.{b64(signature)}"


def flip(text: str) -> str:
    """`text` with its first character changed, so the bytes it encodes change."""
    return ("B" if text[0] == "A" else "A") + text[1:]


def attacks(genuine: str, audience: str, *, other_subject: str) -> dict[str, str]:
    """Every forged or misused variant of a genuine token for `audience`, by name."""
    ours = TEST_SECRET.encode()
    hs256 = {"alg": "HS256", "typ": "JWT"}
    claims = jwt.get_unverified_claims(genuine)
    header, payload, signature = genuine.split(".")
    now = int(time.time())
    without = {name: {k: v for k, v in claims.items() if k != name} for name in ("exp", "aud", "iss", "sub", "jti")}
    public_jwk = jwk.construct(ATTACKER_PUBLIC_PEM.decode(), "RS256").to_dict()
    cases = {
        # Altered genuine tokens.
        "tampered-signature": f"{header}.{payload}.{flip(signature)}",
        "signature-removed": f"{header}.{payload}.",
        "signature-segment-missing": f"{header}.{payload}",
        "tampered-payload": f"{header}.{part({**claims, 'sub': other_subject})}.{signature}",
        "tampered-header": f"{part({**hs256, 'kid': 'other'})}.{payload}.{signature}",
        "signature-of-another-token": f"{header}.{part({**claims, 'exp': now + 10**6})}.{signature}",
        # Signed with our key, but expired, early, or made for someone or something else.
        "expired": forge(hs256, {**claims, "iat": now - 7200, "exp": now - 60}, key=ours),
        "not-yet-valid": forge(hs256, {**claims, "nbf": now + 3600}, key=ours),
        "wrong-issuer": forge(hs256, {**claims, "iss": "another-service"}, key=ours),
        "audience-list-without-ours": forge(
            hs256, {**claims, "aud": [a for a in AUDIENCES if a != audience]}, key=ours
        ),
        **{f"no-{name}": forge(hs256, reduced, key=ours) for name, reduced in without.items()},
        **{
            f"audience-{other}": forge(hs256, {**claims, "aud": other}, key=ours)
            for other in AUDIENCES
            if other != audience
        },
        # Unsigned, or another algorithm than the one we sign with.
        "alg-none": forge({"alg": "none", "typ": "JWT"}, claims, key=None),
        "alg-None": forge({"alg": "None", "typ": "JWT"}, claims, key=None),
        "alg-NONE": forge({"alg": "NONE", "typ": "JWT"}, claims, key=None),
        "alg-none-with-our-signature": forge({"alg": "none", "typ": "JWT"}, claims, key=ours),
        "alg-missing": forge({"typ": "JWT"}, claims, key=ours),
        "alg-HS384-our-key": forge({"alg": "HS384", "typ": "JWT"}, claims, key=ours, digest=hashlib.sha384),
        "alg-HS512-our-key": forge({"alg": "HS512", "typ": "JWT"}, claims, key=ours, digest=hashlib.sha512),
        # Algorithm confusion: an asymmetric algorithm named, an HMAC made.
        "RS256-header-signed-with-our-HMAC-key": forge({"alg": "RS256", "typ": "JWT"}, claims, key=ours),
        "ES256-header-signed-with-our-HMAC-key": forge({"alg": "ES256", "typ": "JWT"}, claims, key=ours),
        "HS256-signed-with-a-public-key-as-secret": forge(hs256, claims, key=ATTACKER_PUBLIC_PEM),
        "RS256-signed-by-attacker-with-embedded-jwk": jwt.encode(
            claims, ATTACKER_PRIVATE_PEM.decode(), algorithm="RS256", headers={"jwk": public_jwk}
        ),
        "RS256-signed-by-attacker-with-jku": jwt.encode(
            claims, ATTACKER_PRIVATE_PEM.decode(), algorithm="RS256", headers={"jku": "https://attacker.invalid/k"}
        ),
        # Other keys.
        "HS256-empty-secret": forge(hs256, claims, key=b""),
        "HS256-kid-path-to-empty-file": forge({**hs256, "kid": "../../../../../../dev/null"}, claims, key=b""),
        "HS256-another-secret": forge(hs256, claims, key=b"another-deployment-secret-that-is-long-enough-0123"),
        "HS256-placeholder-secret": forge(hs256, claims, key=PLACEHOLDER_SECRET.encode()),
        # Not tokens at all.
        "header-not-an-object": f"{part([1, 2])}.{payload}.{signature}",
        "header-not-json": f"{b64(b'{not json')}.{payload}.{signature}",
        "payload-not-json": f"{header}.{b64(b'{not json')}.{signature}",
        "payload-not-an-object": forge(hs256, ["sub", "42"], key=ours),
        "jwe-shaped": f"{part({'alg': 'dir', 'enc': 'A128GCM'})}..{payload}.{payload}.{signature}",
        "garbage": "not-a-token",
        "dots": "...",
        "very-long": "a" * 8000 + "." + "b" * 8000 + "." + "c" * 100,
        "nul-byte": genuine + "\x00",
        "unicode": "é.ü.ß",
        "slash": f"{header}/{payload}/{signature}",
        "empty": "",
    }
    return cases


def assert_all_refused(cases: dict[str, str], attempt: Callable[[str], str | None]) -> None:
    """Try every case; `attempt` returns None when refused properly, or what went wrong."""
    failures = {name: problem for name, token in cases.items() if (problem := attempt(token)) is not None}
    assert not failures, f"{len(failures)} of {len(cases)} attacks were not refused properly: {failures}"


def form_token(client: TestClient) -> str:
    return csrf(client, "/sign-in")


# Sign-in links.


def test_sign_in_links_refuse_every_forgery(client: TestClient, session: Session) -> None:
    client.post("/sign-in", data={"email": OFFICER, "csrf_token": form_token(client)})
    match = re.search(r"/sign-in/([A-Za-z0-9._\-]+)", last_mail(session, OFFICER).body_text)
    assert match
    genuine = match.group(1)
    token = form_token(client)

    def attempt(forged: str) -> str | None:
        path = "/sign-in/" + quote(forged, safe="")
        shown = client.get(path)
        if shown.status_code not in (400, 404):
            return f"GET gave {shown.status_code}"
        if shown.status_code == 400 and "expired or has already been used" not in parse(shown.text).get_text():
            return "GET 400 without the link problem message"
        done = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        if done.status_code not in (400, 404):
            return f"POST gave {done.status_code}"
        if SESSION_COOKIE in done.headers.get("set-cookie", ""):
            return "POST set a session cookie"
        return None

    cases = attacks(genuine, security.SIGN_IN_AUDIENCE, other_subject=ATTACKER)
    assert_all_refused({name: token for name, token in cases.items() if name not in NOT_IN_A_PATH}, attempt)
    validate_page(client.get("/sign-in/" + cases["alg-none"]).text)
    assert session.exec(select(User)).all() == []
    # The genuine link was not used up by the attempts: it works, once.
    done = client.post(f"/sign-in/{genuine}", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and SESSION_COOKIE in done.headers["set-cookie"]
    assert client.post(f"/sign-in/{genuine}", data={"csrf_token": token}, follow_redirects=False).status_code == 400


def test_two_clicks_on_one_sign_in_link_start_one_session(client: TestClient, session: Session) -> None:
    from app.main import create_app

    client.post("/sign-in", data={"email": OFFICER, "csrf_token": form_token(client)})
    match = re.search(r"/sign-in/([A-Za-z0-9._\-]+)", last_mail(session, OFFICER).body_text)
    assert match
    path = f"/sign-in/{match.group(1)}"
    with TestClient(create_app(), base_url="http://testserver") as other:
        browsers = [(client, csrf(client, path)), (other, csrf(other, path))]
        start = threading.Barrier(2)

        def click(browser: tuple[TestClient, str]) -> int:
            start.wait()
            return browser[0].post(path, data={"csrf_token": browser[1]}, follow_redirects=False).status_code

        with ThreadPoolExecutor(2) as pool:
            statuses = sorted(pool.map(click, browsers))
    assert statuses == [303, 400]
    session.expire_all()
    assert len(session.exec(select(UserSession)).all()) == 1


# Session cookies.


def test_session_cookies_refuse_every_forgery(client: TestClient, session: Session) -> None:
    user = make_user(session, email=OFFICER)
    other = make_user(session, email=ATTACKER)
    genuine = accounts.start_session(session, user=user, settings=get_settings())
    session.commit()

    def attempt(forged: str) -> str | None:
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, forged)
        response = client.get("/account", follow_redirects=False)
        if response.status_code != 303 or "/sign-in" not in response.headers.get("location", ""):
            return f"/account gave {response.status_code}"
        return None

    cases = attacks(genuine, security.SESSION_AUDIENCE, other_subject=str(other.id))
    assert_all_refused({name: token for name, token in cases.items() if name not in PATH_ONLY}, attempt)
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, genuine)
    assert client.get("/account", follow_redirects=False).status_code == 200


def test_signing_out_ends_only_that_session_and_its_cookie_can_change_nothing(
    client: TestClient, session: Session
) -> None:
    from app.main import create_app

    make_user(session, email=OFFICER, name="Sam Officer")
    with TestClient(create_app(), base_url="http://testserver") as laptop:
        sign_in(client, session, OFFICER)
        sign_in(laptop, session, OFFICER)
        copied = client.cookies[SESSION_COOKIE]
        token = csrf(client, "/account")
        client.post("/sign-out", data={"csrf_token": token})
        # The copied cookie, with a valid CSRF token of the same browser, changes nothing.
        client.cookies.set(SESSION_COOKIE, copied)
        changed = client.post(
            "/account/profile",
            data={"name": "Mallory", "job_title": "Attacker", "csrf_token": token},
            follow_redirects=False,
        )
        assert changed.status_code == 303 and "/sign-in" in changed.headers["location"]
        assert client.get("/api/v1/vendors", headers={"Authorization": f"Bearer {copied}"}).status_code == 401
        # The officer's other session goes on.
        assert laptop.get("/account", follow_redirects=False).status_code == 200
    session.expire_all()
    assert session.exec(select(User).where(User.email == OFFICER)).one().name == "Sam Officer"


# API bearer tokens.


def test_api_bearer_tokens_refuse_every_forgery(client: TestClient, session: Session) -> None:
    make_user(session, email=OFFICER)
    other = make_user(session, email=ATTACKER)
    genuine = accounts.issue_api_token(session, email=OFFICER, settings=get_settings())

    def attempt(forged: str) -> str | None:
        response = client.get("/api/v1/vendors", headers={"Authorization": f"Bearer {forged}"})
        if response.status_code != 401:
            return f"gave {response.status_code}"
        if response.headers.get("www-authenticate") != "Bearer" or "detail" not in response.json():
            return "401 without WWW-Authenticate: Bearer and a JSON detail"
        return None

    cases = attacks(genuine, security.API_AUDIENCE, other_subject=str(other.id))
    assert_all_refused({name: token for name, token in cases.items() if name not in PATH_ONLY}, attempt)
    for header in ("Bearer", "Basic b2ZmaWNlcjpwYXNz", f"Token {genuine}", genuine):
        assert client.get("/api/v1/vendors", headers={"Authorization": header}).status_code == 401, header
    assert client.get("/api/v1/vendors", headers={"Authorization": f"Bearer {genuine}"}).status_code == 200


# Contact decision links.


def test_contact_decision_links_refuse_every_forgery(client: TestClient, session: Session) -> None:
    peer = make_user(session, email="peer@birmingham.gov.uk", gss_code=BIRMINGHAM, name="Pat Peer")
    peer.open_to_contact = True
    session.add(peer)
    asker = make_user(session, email=OFFICER)
    review = make_review(session, make_supplier(session), gss_code=BIRMINGHAM)
    review.author_id = peer.id or 0
    session.add(review)
    session.commit()
    request, _ = contacts.create_request(
        session,
        requester=asker,
        about_type=ContentType.review,
        about_id=review.id or 0,
        message="How long did the data migration take?",
        settings=get_settings(),
    )
    accept_path, _ = DECISION_LINK.findall(last_mail(session, peer.email).body_text)
    genuine = accept_path.removeprefix("/contacts/decide/")
    token = form_token(client)

    def attempt(forged: str) -> str | None:
        path = "/contacts/decide/" + quote(forged, safe="")
        shown = client.get(path)
        if shown.status_code not in (400, 404):
            return f"GET gave {shown.status_code}"
        done = client.post(path, data={"csrf_token": token, "note": "Call me"})
        if done.status_code not in (400, 404):
            return f"POST gave {done.status_code}"
        return None

    cases = attacks(genuine, security.CONTACT_DECISION_AUDIENCE, other_subject=f"{request.id}:decline")
    assert_all_refused({name: token for name, token in cases.items() if name not in NOT_IN_A_PATH}, attempt)
    session.expire_all()
    row = session.get(ContactRequest, request.id)
    assert row is not None and row.status == ContactStatus.pending
    assert client.post(accept_path, data={"csrf_token": token}).status_code == 200
    session.expire_all()
    row = session.get(ContactRequest, request.id)
    assert row is not None and row.status == ContactStatus.accepted


# CSRF on every form that changes something.


def _routes(routes: Iterable[object]) -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route, also inside included routers (which newer FastAPI keeps as branches)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path, route.methods
        elif hasattr(route, "effective_candidates"):
            for candidate in route.effective_candidates():
                if hasattr(candidate, "effective_candidates"):
                    yield from _routes([candidate])
                else:
                    yield candidate.path, set(getattr(candidate.original_route, "methods", None) or ())


def _html_post_routes() -> list[str]:
    from app.main import create_app

    paths = {
        re.sub(r"\{[^}]+\}", "1", path)
        for path, methods in _routes(create_app().routes)
        if "POST" in methods and not path.startswith("/api/")
    }
    return sorted(paths)


def test_every_html_post_route_refuses_a_missing_or_wrong_csrf_token(client: TestClient, session: Session) -> None:
    make_user(session, email="admin@harrow.gov.uk", role=Role.admin, name="Ada Admin")
    sign_in(client, session, "admin@harrow.gov.uk")
    good = csrf(client, "/account")
    other_browser = security.csrf_token_for(security.new_csrf_secret(), secret=TEST_SECRET)
    attempts: dict[str, tuple[dict[str, str], dict[str, str]]] = {
        "missing": ({}, {}),
        "empty": ({"csrf_token": ""}, {}),
        "wrong": ({"csrf_token": "0" * 64}, {}),
        "another-browser's": ({"csrf_token": other_browser}, {}),
        "the cookie itself": ({"csrf_token": client.cookies[CSRF_COOKIE]}, {}),
        "wrong header": ({}, {"X-CSRF-Token": "0" * 64}),
        "right token, cross-site Origin": ({"csrf_token": good}, {"Origin": "https://attacker.invalid"}),
        "right token, Origin null": ({"csrf_token": good}, {"Origin": "null"}),
        "right token, Sec-Fetch-Site cross-site": ({"csrf_token": good}, {"Sec-Fetch-Site": "cross-site"}),
    }
    paths = _html_post_routes()
    assert len(paths) >= 10 and "/sign-out" in paths and "/account/profile" in paths
    failures = []
    for path in paths:
        for name, (data, headers) in attempts.items():
            response = client.post(path, data={"field": "value", **data}, headers=headers, follow_redirects=False)
            if response.status_code != 403 or CSRF_PROBLEM not in parse(response.text).get_text():
                failures.append(f"{path} with {name} token: {response.status_code}")
    assert not failures, failures
    # Still signed in: the refused sign-out did nothing. The right token from this site works.
    assert client.get("/account", follow_redirects=False).status_code == 200
    page = client.post("/sign-out", data={"csrf_token": "0" * 64})
    assert page.status_code == 403
    validate_page(page.text)
    assert client.post("/sign-out", data={"csrf_token": good}, follow_redirects=False).status_code == 303
    htmx = client.post("/sign-in", data={"email": OFFICER}, headers={"X-CSRF-Token": good, "HX-Request": "true"})
    assert htmx.status_code == 204  # htmx sends the token in its header


# Cookies and headers.


def cookies_set(response: Response) -> dict[str, SimpleCookie]:
    found: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            found[name] = cookie
    return found


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_cookies_have_the_right_flags(scheme: str, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.main import create_app

    monkeypatch.setenv("BASE_URL", f"{scheme}://testserver")
    get_settings.cache_clear()
    secure = scheme == "https"
    with TestClient(create_app(), base_url=f"{scheme}://testserver") as browser:
        first = browser.get("/sign-in")
        csrf_cookie = cookies_set(first)[CSRF_COOKIE][CSRF_COOKIE]
        token = parse(first.text).find("input", attrs={"name": "csrf_token"})["value"]
        browser.post("/sign-in", data={"email": OFFICER, "csrf_token": token})
        match = re.search(rf"{scheme}://testserver(/sign-in/[A-Za-z0-9._\-]+)", last_mail(session, OFFICER).body_text)
        assert match, "the emailed link uses BASE_URL"
        done = browser.post(match.group(1), data={"csrf_token": token}, follow_redirects=False)
        session_cookie = cookies_set(done)[SESSION_COOKIE][SESSION_COOKIE]
        signed_out = browser.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
        cleared = cookies_set(signed_out)[SESSION_COOKIE][SESSION_COOKIE]
    for name, morsel in (("csrf", csrf_cookie), ("session", session_cookie), ("cleared session", cleared)):
        assert morsel["httponly"] is True, name
        assert morsel["samesite"].lower() == "lax", name
        assert morsel["path"] == "/", name
        assert bool(morsel["secure"]) is secure, name
        assert not morsel["domain"], name  # host-only: never sent to other subdomains
    assert int(session_cookie["max-age"]) == 14 * 24 * 3600
    assert cleared.value in ("", '""') and int(cleared["max-age"]) == 0


REQUIRED_CSP = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}


def check_headers(response: Response, *, https: bool) -> list[str]:
    """What is wrong with a response's security headers (nothing, one hopes)."""
    problems = []
    headers = response.headers
    policy: dict[str, set[str]] = {}
    for directive in headers.get("content-security-policy", "").split(";"):
        name, *sources = directive.split()
        policy[name] = set(sources)
    for name, sources in REQUIRED_CSP.items():
        if policy.get(name) != sources:
            problems.append(f"CSP {name} is {policy.get(name)}")
    for name, sources in policy.items():
        if sources & {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"}:
            problems.append(f"CSP {name} allows inline code, eval or any site: {sources}")
        if "data:" in sources and name != "img-src":
            problems.append(f"CSP {name} allows data: URLs")
    expected = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "same-origin",
        "cross-origin-opener-policy": "same-origin",
    }
    problems += [f"{name}: {headers.get(name)}" for name, value in expected.items() if headers.get(name) != value]
    hsts = headers.get("strict-transport-security")
    if https:
        match = re.fullmatch(r"max-age=(\d+); includeSubDomains", hsts or "")
        if not match or int(match.group(1)) < 31536000:
            problems.append(f"HSTS over https: {hsts}")
    elif hsts is not None:
        problems.append("HSTS over plain http")
    return problems


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_every_kind_of_response_has_the_security_headers(
    scheme: str, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.main import create_app

    monkeypatch.setenv("BASE_URL", f"{scheme}://testserver")
    get_settings.cache_clear()
    make_user(session, email=OFFICER)
    api_token = accounts.issue_api_token(session, email=OFFICER, settings=get_settings())
    with TestClient(create_app(), base_url=f"{scheme}://testserver") as browser:
        token = csrf(browser, "/sign-in")
        responses = {
            "page": browser.get("/"),
            "HEAD": browser.head("/"),
            "form": browser.get("/sign-in"),
            "404 page": browser.get("/nothing-here"),
            "redirect to sign in": browser.get("/vendors", follow_redirects=False),
            "CSRF 403": browser.post("/sign-in", data={"email": OFFICER}),
            "link problem 400": browser.get("/sign-in/not-a-token"),
            "form error 422": browser.post("/sign-in", data={"email": "x@gmail.com", "csrf_token": token}),
            "htmx fragment": browser.post(
                "/sign-in", data={"email": "x@gmail.com", "csrf_token": token}, headers={"HX-Request": "true"}
            ),
            "static file": browser.get("/static/app.js"),
            "API JSON": browser.get("/api/v1/vendors", headers={"Authorization": f"Bearer {api_token}"}),
            "API 401": browser.get("/api/v1/vendors"),
            "API 404": browser.get("/api/v1/nothing", headers={"Authorization": f"Bearer {api_token}"}),
            "OpenAPI": browser.get("/api/v1/openapi.json"),
            "health": browser.get("/healthz"),
        }
    assert responses["page"].status_code == 200 and responses["CSRF 403"].status_code == 403
    problems = {name: p for name, r in responses.items() if (p := check_headers(r, https=scheme == "https"))}
    assert not problems, problems
