"""The access matrix: every route of the application, for every role, against the rule written for it here.

`ROUTES` maps each (method, path template) of `create_app().routes` to an access rule, and the test fails naming
any route the table is missing, so a new route cannot be forgotten. Each route is then requested by each role (an
anonymous visitor, an officer, an officer of another council, a moderator, an admin) with its path filled from
objects the test creates, a valid CSRF token on HTML forms and a bearer token for /api/v1. A denied role gets
exactly the denial its rule names; an allowed role never gets 401, 403 or a server error.

Denials: an anonymous visitor is sent to the sign-in page (303 to /sign-in) by the HTML routes and gets 401 from the
API; a signed-in person without the role gets 403. Contributions, contact requests and complaint replies belong to
people: for anyone else they do not exist (404), so that their ids reveal nothing, except that the officer who made
a contact request is told (403) that only the other officer can answer it.

The full matrix runs on SQLite; a subset (the moderators' and admins' routes, and every object-level rule) on
PostgreSQL too.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from app import accounts, complaints, contacts, contributions, security, suppliers
from app.accounts import SESSION_COOKIE
from app.config import get_settings
from app.models import (
    ContentStatus,
    ContentType,
    MailOutbox,
    ModerationItem,
    Role,
    Supplier,
    Synonym,
    User,
    WatchedAction,
    WatchedTerm,
)
from app.ratelimit import limiter
from app.web import CSRF_COOKIE
from tests.conftest import TEST_SECRET
from tests.factories import (
    AUTHOR_NAME,
    BIRMINGHAM,
    HARROW,
    LEEDS,
    SURREY,
    make_pilot,
    make_review,
    make_supplier,
    make_user,
)

ROLES = ("anonymous", "officer", "other_officer", "moderator", "admin")
OK = "allowed"
SIGN_IN = "sign in"


@dataclass(frozen=True)
class Rule:
    name: str
    outcomes: dict[str, str | int]  # role -> OK, SIGN_IN or the exact denial status


def rule(name: str, **denied: str | int) -> Rule:
    return Rule(name, {role: denied.get(role, OK) for role in ROLES})


PUBLIC = rule("public")
LINK_TOKEN = rule("link-token")  # whoever holds the emailed link, signed in or not
OFFICER = rule("signed-in officer", anonymous=SIGN_IN)
MODERATOR = rule("moderator", anonymous=SIGN_IN, officer=403, other_officer=403)
ADMIN = rule("admin", anonymous=SIGN_IN, officer=403, other_officer=403, moderator=403)
AUTHOR = rule("author only", anonymous=SIGN_IN, other_officer=404, moderator=404, admin=404)
CONTACT_PARTIES = rule("the two officers of a contact request", anonymous=SIGN_IN, moderator=404, admin=404)
CONTACT_PEER = rule("the officer asked", anonymous=SIGN_IN, other_officer=403, moderator=404, admin=404)
POSTER = rule(
    "the poster of the content complained about", anonymous=SIGN_IN, other_officer=404, moderator=404, admin=404
)
DEV_ONLY = rule("development only", **dict.fromkeys(ROLES, 404))

GET, POST = "GET", "POST"
ROUTES: dict[tuple[str, str], Rule] = {
    # Public pages and the API's own description.
    (GET, "/"): PUBLIC,
    (GET, "/about-the-data"): PUBLIC,
    (GET, "/privacy"): PUBLIC,
    (GET, "/accessibility"): PUBLIC,
    (GET, "/terms"): PUBLIC,
    (GET, "/api/v1/openapi.json"): PUBLIC,
    (GET, "/api/v1/docs"): PUBLIC,
    (GET, "/docs/oauth2-redirect"): PUBLIC,
    (GET, "/healthz"): PUBLIC,
    # Signing in and out.
    (GET, "/sign-in"): PUBLIC,
    (POST, "/sign-in"): PUBLIC,
    (GET, "/sign-in/check-email"): PUBLIC,
    (GET, "/sign-in/{token}"): LINK_TOKEN,
    (POST, "/sign-in/{token}"): LINK_TOKEN,
    (POST, "/sign-out"): PUBLIC,
    (GET, "/signed-out"): PUBLIC,
    # The officer's account.
    (GET, "/account"): OFFICER,
    (GET, "/account/profile"): OFFICER,
    (POST, "/account/profile"): OFFICER,
    # Suppliers.
    (GET, "/vendors"): OFFICER,
    (GET, "/vendors/{slug}"): OFFICER,
    (GET, "/vendors/add"): OFFICER,
    (POST, "/vendors/add"): OFFICER,
    (GET, "/admin/suppliers/{slug}/edit"): ADMIN,
    (POST, "/admin/suppliers/{slug}/edit"): ADMIN,
    (GET, "/admin/suppliers/{slug}/merge"): ADMIN,
    (POST, "/admin/suppliers/{slug}/merge"): ADMIN,
    (GET, "/search"): OFFICER,
    # Contributing, and one's own contributions.
    (GET, "/vendors/{slug}/reviews/new"): OFFICER,
    (POST, "/vendors/{slug}/reviews/new"): OFFICER,
    (POST, "/vendors/{slug}/reviews/preview"): OFFICER,
    (GET, "/vendors/{slug}/pilots/new"): OFFICER,
    (POST, "/vendors/{slug}/pilots/new"): OFFICER,
    (POST, "/vendors/{slug}/pilots/preview"): OFFICER,
    (GET, "/account/contributions"): OFFICER,
    (GET, "/account/contributions/{content_type}/{content_id}/submitted"): AUTHOR,
    (GET, "/account/contributions/{content_type}/{content_id}/edit"): AUTHOR,
    (POST, "/account/contributions/{content_type}/{content_id}/edit"): AUTHOR,
    (POST, "/account/contributions/{content_type}/{content_id}/preview"): AUTHOR,
    (GET, "/account/contributions/{content_type}/{content_id}/withdraw"): AUTHOR,
    (POST, "/account/contributions/{content_type}/{content_id}/withdraw"): AUTHOR,
    # Reporting published content.
    (GET, "/reviews/{content_id}/flag"): OFFICER,
    (POST, "/reviews/{content_id}/flag"): OFFICER,
    (GET, "/pilots/{content_id}/flag"): OFFICER,
    (POST, "/pilots/{content_id}/flag"): OFFICER,
    # Peer contact.
    (GET, "/contacts/new"): OFFICER,
    (POST, "/contacts"): OFFICER,
    (GET, "/account/contacts"): OFFICER,
    (POST, "/account/contacts/{request_id}/accept"): CONTACT_PEER,
    (POST, "/account/contacts/{request_id}/decline"): CONTACT_PEER,
    (GET, "/contacts/decide/{token}"): LINK_TOKEN,
    (POST, "/contacts/decide/{token}"): LINK_TOKEN,
    (GET, "/moderation/contacts/{request_id}"): MODERATOR,
    # Notices of complaint.
    (GET, "/complaints/new"): PUBLIC,
    (POST, "/complaints/new"): PUBLIC,
    (GET, "/complaints/received"): LINK_TOKEN,
    (GET, "/complaints/{complaint_id}/reply"): POSTER,
    (POST, "/complaints/{complaint_id}/reply"): POSTER,
    (GET, "/moderation/complaints"): MODERATOR,
    (GET, "/moderation/complaints/{complaint_id}"): MODERATOR,
    (POST, "/moderation/complaints/{complaint_id}/hide"): MODERATOR,
    (POST, "/moderation/complaints/{complaint_id}/link"): MODERATOR,
    # Moderation.
    (GET, "/moderation"): MODERATOR,
    (GET, "/moderation/guidance"): MODERATOR,
    (POST, "/moderation/suppliers/{supplier_id}/decide"): MODERATOR,
    (GET, "/moderation/items/{item_id}"): MODERATOR,
    (POST, "/moderation/items/{item_id}/claim"): MODERATOR,
    (POST, "/moderation/items/{item_id}/release"): MODERATOR,
    (POST, "/moderation/items/{item_id}/decide"): MODERATOR,
    (GET, "/moderation/content"): MODERATOR,
    (GET, "/moderation/content/{content_type}/{content_id}"): MODERATOR,
    (POST, "/moderation/content/{content_type}/{content_id}/take-down"): MODERATOR,
    (POST, "/moderation/content/{content_type}/{content_id}/restore"): MODERATOR,
    (GET, "/admin/audit/{entity_type}/{entity_id}.json"): MODERATOR,
    (GET, "/admin/audit/{entity_type}/{entity_id}.csv"): MODERATOR,
    # Administration.
    (GET, "/admin/synonyms"): ADMIN,
    (POST, "/admin/synonyms"): ADMIN,
    (POST, "/admin/synonyms/{synonym_id}/delete"): ADMIN,
    (GET, "/admin/watched-terms"): ADMIN,
    (POST, "/admin/watched-terms"): ADMIN,
    (GET, "/admin/watched-terms/{term_id}/edit"): ADMIN,
    (POST, "/admin/watched-terms/{term_id}/edit"): ADMIN,
    (POST, "/admin/watched-terms/{term_id}/delete"): ADMIN,
    (POST, "/admin/watched-terms/test"): ADMIN,
    (GET, "/admin/watched-terms.csv"): ADMIN,
    (POST, "/admin/watched-terms/import"): ADMIN,
    (GET, "/admin/people"): ADMIN,
    (GET, "/admin/people/{user_id}"): ADMIN,
    (GET, "/admin/people/{user_id}/export.json"): ADMIN,
    (GET, "/admin/people/{user_id}/erase"): ADMIN,
    (POST, "/admin/people/{user_id}/erase"): ADMIN,
    # Development only.
    (GET, "/dev/mail"): DEV_ONLY,
    (GET, "/dev/mail/{message_id}"): DEV_ONLY,
    # The JSON API (bearer tokens).
    (GET, "/api/v1/councils"): OFFICER,
    (GET, "/api/v1/vendors"): OFFICER,
    (POST, "/api/v1/vendors"): OFFICER,
    (GET, "/api/v1/vendors/{slug}"): OFFICER,
    (GET, "/api/v1/vendors/{slug}/reviews"): OFFICER,
    (POST, "/api/v1/reviews"): OFFICER,
    (POST, "/api/v1/pilots"): OFFICER,
    (GET, "/api/v1/reviews/{review_id}"): OFFICER,
    (GET, "/api/v1/pilots/{pilot_id}"): OFFICER,
    (GET, "/api/v1/search"): OFFICER,
    (POST, "/api/v1/reviews/{review_id}/flags"): OFFICER,
    (POST, "/api/v1/pilots/{pilot_id}/flags"): OFFICER,
    (GET, "/api/v1/moderation/items"): MODERATOR,
    (GET, "/api/v1/moderation/items/{item_id}"): MODERATOR,
    (POST, "/api/v1/moderation/items/{item_id}/actions"): MODERATOR,
    (POST, "/api/v1/contact-requests"): OFFICER,
    (GET, "/api/v1/contact-requests"): OFFICER,
    (GET, "/api/v1/contact-requests/{request_id}"): CONTACT_PARTIES,
    (POST, "/api/v1/contact-requests/{request_id}/accept"): CONTACT_PEER,
    (POST, "/api/v1/contact-requests/{request_id}/decline"): CONTACT_PEER,
    (POST, "/api/v1/complaints"): PUBLIC,
    (GET, "/api/v1/complaints/{complaint_id}"): MODERATOR,
}
# Routes that change what the next role's request finds are asked last by the role whose request changes it.
STATEFUL_LAST = {"/sign-out", "/account/contributions/{content_type}/{content_id}/withdraw"}
SESSION_CHANGING = {"/sign-out", "/sign-in/{token}"}
FINAL = ("/delete", "/withdraw", "/erase", "/sign-out")


def route_table(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path template) of every route, inside included routers too; static mounts left out."""

    def walk(routes: Iterable[Any]) -> Iterator[tuple[str, set[str]]]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield route.path, set(route.methods)
            elif hasattr(route, "effective_candidates"):  # an included router, as newer FastAPI keeps it
                for candidate in route.effective_candidates():
                    if hasattr(candidate, "effective_candidates"):
                        yield from walk([candidate])
                    else:
                        yield candidate.path, set(getattr(candidate.original_route, "methods", None) or ())
            elif hasattr(route, "methods") and route.methods:  # a plain starlette Route (openapi.json, docs)
                yield route.path, set(route.methods)

    for path, methods in walk(app.routes):
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            yield method, path


def test_every_route_has_an_access_rule(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    table = set(route_table(app))
    missing = sorted(table - set(ROUTES))
    assert not missing, "routes without an access rule in tests/test_access_matrix.py ROUTES:\n" + "\n".join(
        f"    ({method}, {path!r}): ...," for method, path in missing
    )
    gone = sorted(set(ROUTES) - table)
    assert not gone, f"ROUTES lists routes the application no longer has: {gone}"


# --- the people and objects the paths are filled from -----------------------------------------------------------


@dataclass
class World:
    session: Session
    app: FastAPI
    people: dict[str, User]  # role -> user; "anonymous" has none
    clients: dict[str, TestClient]
    tokens: dict[str, str]  # role -> CSRF token of its browser
    bearers: dict[str, dict[str, str]]
    paths: dict[str, str]  # path template -> a path with its parameters filled
    forms: dict[str, dict[str, str]]  # path template -> what its form needs to get past the input checks

    def sign_in_again(self, role: str) -> None:
        """Give the role's browser its own session again (none for the anonymous visitor)."""
        user = self.people.get(role)
        self.clients[role].cookies.delete(SESSION_COOKIE)
        if user is not None:
            cookie = accounts.start_session(self.session, user=user, settings=get_settings())
            self.session.commit()
            self.clients[role].cookies.set(SESSION_COOKIE, cookie)

    def request(self, role: str, method: str, template: str) -> Response:
        limiter.reset()
        path = self.paths.get(template, template)
        client = self.clients[role]
        if template.startswith("/api/"):
            headers = self.bearers.get(role, {})
            if method == GET:
                return client.get(path, headers=headers, follow_redirects=False)
            return client.post(path, json={}, headers=headers, follow_redirects=False)
        if method == GET:
            return client.get(path, follow_redirects=False)
        data = {**self.forms.get(template, {}), "csrf_token": self.tokens[role]}
        return client.post(path, data=data, follow_redirects=False)


def browser(app: FastAPI) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="http://testserver")
    secret = security.new_csrf_secret()
    client.cookies.set(CSRF_COOKIE, secret)
    return client, security.csrf_token_for(secret, secret=TEST_SECRET)


def build_world(client: TestClient, session: Session) -> World:
    app = client.app
    assert isinstance(app, FastAPI)
    settings = get_settings()
    officer = make_user(session, email="officer@harrow.gov.uk", name="Olive Officer", gss_code=HARROW)
    officer.open_to_contact = True
    session.add(officer)
    other = make_user(session, email="other@birmingham.gov.uk", name="Bea Other", gss_code=BIRMINGHAM)
    moderator = make_user(session, email="moderator@leeds.gov.uk", role=Role.moderator, gss_code=LEEDS)
    admin = make_user(session, email="admin@surrey.gov.uk", role=Role.admin, gss_code=SURREY)
    someone = make_user(session, email="someone@leeds.gov.uk", name="Sid Someone", gss_code=LEEDS)
    supplier = make_supplier(session)
    make_supplier(session, "Quillmere Case Systems")  # somewhere to merge into
    # The officer's own: a published review and pilot (open to contact), and a pending review with its queue item.
    review = make_review(session, supplier, headline="Steady finance system")
    pilot = make_pilot(session, supplier, title="Chatbot pilot", open_to_contact=True)
    third = make_review(session, supplier, gss_code=LEEDS, headline="Reported by everyone")
    third_pilot = make_pilot(session, supplier, gss_code=LEEDS, title="Reported pilot")
    for content in (review, pilot):
        content.author_id = officer.id or 0
        content.council_id = officer.council_id
        session.add(content)
    third_author = session.get(User, third.author_id)
    assert third_author is not None
    third_author.open_to_contact = True  # anyone may ask them
    session.add(third_author)
    session.commit()
    raw = {
        "relationship": "live_contract",
        "service_area": "Housing",
        **dict.fromkeys(("implementation", "customisation_cost", "fit", "support", "value"), "3"),
        "partnership": "na",
        "data_exit": "4",
        "overall": "6",
        "recommend": "yes",
        "headline": "Waiting for a moderator",
        "worked_well": "Training.",
    }
    data = contributions.parse_review(session, supplier=supplier, raw=raw)
    pending = contributions.submit_review(session, author=officer, supplier=supplier, data=data).content
    item = contributions.open_item_for(session, content_type=ContentType.review, content_id=pending.id or 0)
    assert pending.status == ContentStatus.pending and item is not None
    proposed = suppliers.propose(session, author=other, data=suppliers.parse_supplier({"name": "Brand New Systems"}))
    # A contact request from the other officer to the officer, with its emailed decision link.
    request, _ = contacts.create_request(
        session,
        requester=other,
        about_type=ContentType.review,
        about_id=review.id or 0,
        message="How long did the migration take?",
        settings=settings,
    )
    mail = session.exec(
        select(MailOutbox).where(MailOutbox.to_address == officer.email).order_by(col(MailOutbox.id).desc())
    ).first()
    assert mail is not None
    decision = re.search(r"/contacts/decide/[A-Za-z0-9._\-]+", mail.body_text)
    assert decision, mail.body_text
    # A notice of complaint about the officer's review, and its receipt.
    complaint = complaints.receive(
        session,
        raw={
            "complainant_name": "Fenella Ledger",
            "complainant_email": "legal@fenwick.example",
            "statement": "They lied.",
            "location": f"http://testserver/vendors/{supplier.slug}#review-{review.id}",
            "why_defamatory": "It says we lie.",
            "meaning": "That we lie.",
            "inaccurate_parts": "All of it.",
            "unsupported_opinion": "",
            "cannot_identify_poster": "yes",
            "consent_to_share": "no",
        },
        settings=settings,
    )
    sign_in = accounts.create_sign_in_link(session, raw_email=someone.email, settings=settings)
    synonym = Synonym(term="ledger", synonyms=["accounts"])
    term = WatchedTerm(term="quokkaflux", action=WatchedAction.flag)
    session.add_all([synonym, term])
    session.commit()
    message = session.exec(select(MailOutbox)).first()
    assert message is not None

    paths = {
        "/sign-in/{token}": urlsplit_path(sign_in.url),
        "/vendors/{slug}": f"/vendors/{supplier.slug}",
        "/admin/suppliers/{slug}/edit": f"/admin/suppliers/{supplier.slug}/edit",
        "/admin/suppliers/{slug}/merge": f"/admin/suppliers/{supplier.slug}/merge",
        "/vendors/{slug}/reviews/new": f"/vendors/{supplier.slug}/reviews/new",
        "/vendors/{slug}/reviews/preview": f"/vendors/{supplier.slug}/reviews/preview",
        "/vendors/{slug}/pilots/new": f"/vendors/{supplier.slug}/pilots/new",
        "/vendors/{slug}/pilots/preview": f"/vendors/{supplier.slug}/pilots/preview",
        "/reviews/{content_id}/flag": f"/reviews/{third.id}/flag",
        "/pilots/{content_id}/flag": f"/pilots/{third_pilot.id}/flag",
        "/contacts/new": f"/contacts/new?about_type=review&about_id={third.id}",
        "/account/contacts/{request_id}/accept": f"/account/contacts/{request.id}/accept",
        "/account/contacts/{request_id}/decline": f"/account/contacts/{request.id}/decline",
        "/contacts/decide/{token}": decision.group(0),
        "/moderation/contacts/{request_id}": f"/moderation/contacts/{request.id}",
        "/complaints/received": f"/complaints/received?token={complaints.receipt_token(complaint, settings=settings)}",
        "/moderation/suppliers/{supplier_id}/decide": f"/moderation/suppliers/{proposed.id}/decide",
        "/moderation/content": f"/moderation/content?type=review&id={review.id}",
        "/admin/audit/{entity_type}/{entity_id}.json": f"/admin/audit/review/{pending.id}.json",
        "/admin/audit/{entity_type}/{entity_id}.csv": f"/admin/audit/review/{pending.id}.csv",
        "/admin/synonyms/{synonym_id}/delete": f"/admin/synonyms/{synonym.id}/delete",
        "/dev/mail/{message_id}": f"/dev/mail/{message.id}",
        "/api/v1/vendors/{slug}": f"/api/v1/vendors/{supplier.slug}",
        "/api/v1/vendors/{slug}/reviews": f"/api/v1/vendors/{supplier.slug}/reviews",
        "/api/v1/reviews/{review_id}": f"/api/v1/reviews/{review.id}",
        "/api/v1/pilots/{pilot_id}": f"/api/v1/pilots/{pilot.id}",
        "/api/v1/reviews/{review_id}/flags": f"/api/v1/reviews/{third.id}/flags",
        "/api/v1/pilots/{pilot_id}/flags": f"/api/v1/pilots/{third_pilot.id}/flags",
        "/api/v1/moderation/items/{item_id}": f"/api/v1/moderation/items/{item.id}",
        "/api/v1/moderation/items/{item_id}/actions": f"/api/v1/moderation/items/{item.id}/actions",
        "/api/v1/contact-requests/{request_id}": f"/api/v1/contact-requests/{request.id}",
        "/api/v1/contact-requests/{request_id}/accept": f"/api/v1/contact-requests/{request.id}/accept",
        "/api/v1/contact-requests/{request_id}/decline": f"/api/v1/contact-requests/{request.id}/decline",
        "/api/v1/complaints/{complaint_id}": f"/api/v1/complaints/{complaint.id}",
    }
    for suffix in ("submitted", "edit", "preview", "withdraw"):
        paths[f"/account/contributions/{{content_type}}/{{content_id}}/{suffix}"] = (
            f"/account/contributions/review/{pending.id}/{suffix}"
        )
    for suffix in ("", "/claim", "/release", "/decide"):
        paths[f"/moderation/items/{{item_id}}{suffix}"] = f"/moderation/items/{item.id}{suffix}"
    for suffix in ("", "/take-down", "/restore"):
        paths[f"/moderation/content/{{content_type}}/{{content_id}}{suffix}"] = (
            f"/moderation/content/review/{review.id}{suffix}"
        )
    for suffix in ("/reply",):
        paths[f"/complaints/{{complaint_id}}{suffix}"] = f"/complaints/{complaint.id}{suffix}"
    for suffix in ("", "/hide", "/link"):
        paths[f"/moderation/complaints/{{complaint_id}}{suffix}"] = f"/moderation/complaints/{complaint.id}{suffix}"
    for suffix in ("/edit", "/delete"):
        paths[f"/admin/watched-terms/{{term_id}}{suffix}"] = f"/admin/watched-terms/{term.id}{suffix}"
    for suffix in ("", "/export.json", "/erase"):
        paths[f"/admin/people/{{user_id}}{suffix}"] = f"/admin/people/{someone.id}{suffix}"

    people = {"officer": officer, "other_officer": other, "moderator": moderator, "admin": admin}
    clients, tokens, bearers = {}, {}, {}
    for role in ROLES:
        clients[role], tokens[role] = browser(app)
    forms = {"/contacts": {"about_type": "review", "about_id": str(third.id), "message": "Could we talk?"}}
    world = World(session, app, people, clients, tokens, bearers, paths, forms)
    for role, user in people.items():
        world.sign_in_again(role)
        bearers[role] = {
            "Authorization": f"Bearer {accounts.issue_api_token(session, email=user.email, settings=settings)}"
        }
    return world


def urlsplit_path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


# --- the matrix ----------------------------------------------------------------------------------------------


def outcome(response: Response, *, api: bool) -> str | int:
    """What a response means for access: SIGN_IN, a denial status, or OK."""
    status = response.status_code
    location = response.headers.get("location", "")
    if not api and status in (302, 303) and "/sign-in" in location and "/sign-in" not in str(response.url.path):
        return SIGN_IN
    if api and status == 401:
        return SIGN_IN
    if status in (401, 403, 404) or status >= 500:
        return status
    return OK


def order(roles: Iterable[str], template: str, allowed: Callable[[str], bool]) -> list[str]:
    """Denied roles first; on routes that change state for the next request, the allowed roles after them."""
    roles = list(roles)
    if template in STATEFUL_LAST:
        return [r for r in roles if not allowed(r)] + [r for r in roles if allowed(r)]
    return roles


def check_matrix(world: World, routes: dict[tuple[str, str], Rule]) -> tuple[int, list[str]]:
    problems: list[str] = []
    checked = 0

    # GETs first, then the POSTs, so that a form's action cannot change what a page is about to show; the ones
    # that delete or end something last of all.
    def position(item: tuple[tuple[str, str], Rule]) -> tuple[bool, bool, str]:
        (method, template), _ = item
        return method != GET, template.endswith(FINAL), template

    for (method, template), access in sorted(routes.items(), key=position):
        api = template.startswith("/api/") and template not in ("/api/v1/openapi.json", "/api/v1/docs")
        for role in order(ROLES, template, lambda r, access=access: access.outcomes[r] == OK):
            expected = access.outcomes[role]
            response = world.request(role, method, template)
            got = outcome(response, api=api)
            checked += 1
            if got != expected:
                problems.append(
                    f"{method} {world.paths.get(template, template)} as {role} ({access.name}): expected {expected}, "
                    f"got {response.status_code} {response.headers.get('location', '')}"
                )
            if template in SESSION_CHANGING:  # each role stays who it is for the next route
                world.sign_in_again(role)
    return checked, problems


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_route_gives_each_role_what_its_rule_says(client: TestClient, session: Session) -> None:
    world = build_world(client, session)
    checked, problems = check_matrix(world, ROUTES)
    print(f"access matrix: {len(ROUTES)} routes x {len(ROLES)} roles = {checked} requests checked")
    assert not problems, "\n".join(problems)
    assert checked == len(ROUTES) * len(ROLES)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_guarded_routes_on_postgresql(client: TestClient, session: Session) -> None:
    """The moderators', admins' and object-level rules again on PostgreSQL."""
    world = build_world(client, session)
    guarded = {key: access for key, access in ROUTES.items() if access not in (PUBLIC, LINK_TOKEN, OFFICER)}
    checked, problems = check_matrix(world, guarded)
    print(f"access matrix on PostgreSQL: {len(guarded)} routes x {len(ROLES)} roles = {checked} requests checked")
    assert not problems, "\n".join(problems)


# --- object-level: what one person may see of another's ----------------------------------------------------------

PRIVATE_TEXT = "Our private view of the quokkaflux rollout"


def test_members_only_and_private_fields_stay_hidden(client: TestClient, session: Session) -> None:
    world = build_world(client, session)
    officer, other = world.people["officer"], world.people["other_officer"]
    supplier = session.exec(select(Supplier).where(Supplier.slug == "fenwick-ledger-systems")).one()
    private = make_review(session, supplier, gss_code=HARROW, headline=PRIVATE_TEXT, keep_text_private=True)
    private.author_id = officer.id or 0
    session.add(private)
    session.commit()
    secrets = [PRIVATE_TEXT, "Steady finance system", AUTHOR_NAME, officer.email, other.email, "Olive Officer"]

    # Nobody signed in: every public page is free of contributions, names and addresses; the rest asks to sign in.
    # (An emailed link's page shows its recipient what is theirs: the link is their credential.)
    for (method, template), access in ROUTES.items():
        if method != GET or access is not PUBLIC or template.startswith("/api/v1/docs"):
            continue
        text = world.request("anonymous", GET, template).text
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"{template} shows {leaked} to someone not signed in"
    assert world.request("anonymous", GET, "/vendors/{slug}").status_code == 303
    assert world.request("anonymous", GET, "/api/v1/vendors/{slug}/reviews").status_code == 401

    # Another council's officer: the private review's words appear nowhere, its scores do; no author names.
    page = world.clients["other_officer"].get(f"/vendors/{supplier.slug}").text
    assert "Steady finance system" in page and PRIVATE_TEXT not in page and AUTHOR_NAME not in page
    api = world.clients["other_officer"].get(f"/api/v1/reviews/{private.id}", headers=world.bearers["other_officer"])
    assert api.status_code == 200 and api.json()["headline"] is None and api.json()["overall"] == private.overall
    listed = (
        world.clients["other_officer"]
        .get(f"/api/v1/vendors/{supplier.slug}/reviews", headers=world.bearers["other_officer"])
        .text
    )
    assert PRIVATE_TEXT not in listed and officer.email not in listed
    own = world.clients["officer"].get(f"/api/v1/reviews/{private.id}", headers=world.bearers["officer"]).json()
    assert own["headline"] == PRIVATE_TEXT, "the author still reads their own words"

    # A pending contribution is its author's alone, on the pages and in the API.
    pending = session.exec(select(ModerationItem).where(col(ModerationItem.content_type) == ContentType.review)).first()
    assert pending is not None
    for role in ("other_officer", "admin"):
        answer = world.clients[role].get(f"/api/v1/reviews/{pending.content_id}", headers=world.bearers[role])
        assert answer.status_code == 404, f"{role} reads a pending review: {answer.status_code}"

    # A contact request is seen by its two officers only: not in anyone else's list, page or API.
    message = "How long did the migration take?"
    assert message in world.clients["officer"].get("/account/contacts").text
    assert message in world.clients["other_officer"].get("/account/contacts").text
    for role in ("moderator", "admin"):
        assert message not in world.clients[role].get("/account/contacts").text
        mine = world.clients[role].get("/api/v1/contact-requests", headers=world.bearers[role]).json()
        assert mine == {"incoming": [], "outgoing": []}
    # Until the officer accepts, the requester learns nothing about them.
    outgoing = world.clients["other_officer"].get("/api/v1/contact-requests", headers=world.bearers["other_officer"])
    assert outgoing.json()["outgoing"][0]["peer"] is None and officer.email not in outgoing.text
