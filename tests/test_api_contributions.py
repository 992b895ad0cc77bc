"""The JSON API for suppliers, contributions and moderation: the same services and messages as the HTML pages."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import accounts, audit
from app.config import get_settings
from app.models import ContentStatus, ModerationItem, Review, Role, Supplier, User, utcnow
from tests.factories import make_supplier, make_user

PRICE_TEXT = "Good value at £12,500 per year for the whole council."


def token_for(session: Session, user: User) -> dict[str, str]:
    token = accounts.issue_api_token(session, email=user.email, settings=get_settings())
    return {"Authorization": f"Bearer {token}"}


def api_user(
    session: Session, email: str = "officer@harrow.gov.uk", role: Role = Role.officer, gss_code: str = "E09000015"
) -> tuple[User, dict[str, str]]:
    user = make_user(session, email=email, role=role, gss_code=gss_code)
    return user, token_for(session, user)


def review_body(supplier: Supplier, /, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "supplier": supplier.slug,
        "relationship": "live_contract",
        "service_area": "Housing",
        "time_used": "1 to 2 years",
        "implementation": 4,
        "customisation_cost": 3,
        "fit": 4,
        "support": 5,
        "value": 4,
        "partnership": None,
        "data_exit": 3,
        "overall": 8,
        "recommend": True,
        "headline": "Solid housing system",
        "worked_well": "Migration went to plan.",
        "did_not_work": "Reports are hard to change.",
        "advice": "Agree the export format before signing.",
        "keep_text_private": False,
    }
    body.update(overrides)
    return body


def pilot_body(supplier: Supplier, /, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "supplier": supplier.slug,
        "title": "Chatbot for council tax questions",
        "service_area": "Revenues and benefits",
        "problem": "Long waits on the phone in billing season.",
        "start_date": "2025-01-06",
        "end_date": "2025-04-30",
        "pilot_status": "completed",
        "outcome": "adopted",
        "nda": "no",
        "lessons": "Train it on real questions from the contact centre.",
    }
    body.update(overrides)
    return body


def post_review(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/reviews", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def open_item(client: TestClient, headers: dict[str, str], review_id: int) -> dict[str, Any]:
    items = client.get("/api/v1/moderation/items", headers=headers).json()["items"]
    found: dict[str, Any] = next(i for i in items if i["content_type"] == "review" and i["content_id"] == review_id)
    return found


def act(client: TestClient, headers: dict[str, str], item_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/moderation/items/{item_id}/actions", json=body, headers=headers)


# --- the scenario of the issue, through the API -------------------------------------------------------------------


def test_a_price_waits_for_a_moderator_who_redacts_it_and_publishes_the_rest(
    client: TestClient, session: Session
) -> None:
    supplier = make_supplier(session, "Acme Housing Systems", website="https://acme.example")
    officer, officer_headers = api_user(session)
    _, moderator_headers = api_user(session, email="moderator@harrow.gov.uk", role=Role.moderator)

    result = post_review(client, officer_headers, review_body(supplier, worked_well=PRICE_TEXT))
    assert result["status"] == "pending_moderation"
    price = [f for f in result["findings"] if f["field"] == "worked_well"]
    assert price and price[0]["category"] == "commercial_confidentiality"
    assert price[0]["detector"] in ("money", "unit_price")
    assert PRICE_TEXT[price[0]["start"] : price[0]["end"]].startswith("£12,500")

    # Not published: not listed, not in the score, not readable by another officer.
    listed = client.get(f"/api/v1/vendors/{supplier.slug}/reviews", headers=officer_headers).json()
    assert listed["total"] == 0 and listed["reviews"] == []
    assert client.get(f"/api/v1/vendors/{supplier.slug}", headers=officer_headers).json()["score"]["count"] == 0
    _, other_headers = api_user(session, email="someone@surreycc.gov.uk", gss_code="E10000030")
    assert client.get(f"/api/v1/reviews/{result['id']}", headers=other_headers).status_code == 404
    own = client.get(f"/api/v1/reviews/{result['id']}", headers=officer_headers).json()
    assert own["status"] == "pending" and "£12,500" in own["worked_well"]

    item = open_item(client, moderator_headers, result["id"])
    assert item["severity"] == "high" and item["needs_two_moderators"] is False
    assert [f["start"] for f in item["findings"]] == [price[0]["start"]]
    start = PRICE_TEXT.index("£12,500")
    response = act(
        client,
        moderator_headers,
        item["id"],
        action="redact_and_approve",
        version=item["version"],
        redactions=[{"field": "worked_well", "start": start, "end": start + len("£12,500"), "reason": "price"}],
    )
    assert response.status_code == 200, response.text
    state = response.json()
    assert state["status"] == "decided" and state["content_status"] == "published"
    assert state["version"] == item["version"] + 1

    published = client.get(f"/api/v1/vendors/{supplier.slug}/reviews", headers=other_headers).json()
    assert published["total"] == 1
    review = published["reviews"][0]
    assert review["worked_well"] == "Good value at [removed: price] per year for the whole council."
    assert review["reviewer"] == "Digital lead, London Borough of Harrow"
    assert "Sam Officer" not in str(published) and officer.email not in str(published)
    detail = client.get(f"/api/v1/vendors/{supplier.slug}", headers=other_headers).json()
    assert detail["score"]["count"] == 1 and detail["score"]["overall"] == 8.0
    read = client.get(f"/api/v1/reviews/{result['id']}", headers=other_headers).json()
    assert read["status"] == "published" and "£12,500" not in str(read)
    assert "£12,500" not in str(client.get("/api/v1/moderation/items?status=decided", headers=moderator_headers).json())


def test_the_vendor_api_lists_and_describes_suppliers_with_their_scores(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session, "Acme Housing Systems", website="https://acme.example")
    author, _ = api_user(session)
    for overall, recommend in ((8, True), (6, False)):
        session.add(
            Review(
                supplier_id=supplier.id or 0,
                author_id=author.id or 0,
                council_id=author.council_id,
                author_role="Digital lead",
                status=ContentStatus.published,
                published_at=utcnow(),
                overall=overall,
                recommend=recommend,
                relationship="live_contract",
                service_area="Housing",
                headline=f"Scored {overall}",
                worked_well="Private words",
                keep_text_private=overall == 6,
                fit=4,
            )
        )
    session.commit()
    _, headers = api_user(session, email="reader@surreycc.gov.uk", gss_code="E10000030")

    listing = client.get("/api/v1/vendors", params={"q": "acme housing"}, headers=headers).json()
    assert [(v["slug"], v["score"]["overall"], v["score"]["count"]) for v in listing["vendors"]] == [
        (supplier.slug, 7.0, 2)
    ]
    detail = client.get(f"/api/v1/vendors/{supplier.slug}", headers=headers).json()
    score = detail["score"]
    assert score["overall"] == 7.0 and score["word"] == "Good" and score["count"] == 2
    assert score["distribution"] == {str(n): (1 if n in (6, 8) else 0) for n in range(1, 11)}
    assert score["recommend_share"] == 0.5
    fit = next(d for d in score["dimensions"] if d["key"] == "fit")
    assert fit == {"key": "fit", "label": "Fit to requirements", "mean": 4.0, "count": 2}
    assert {"aliases", "categories", "products"} <= detail.keys()

    reviews = client.get(f"/api/v1/vendors/{supplier.slug}/reviews", headers=headers).json()["reviews"]
    private = next(r for r in reviews if r["overall"] == 6)
    assert private["text_private"] is True and private["worked_well"] is None and private["headline"] is None
    assert client.get("/api/v1/vendors/no-such-supplier", headers=headers).status_code == 404
    assert client.get("/api/v1/vendors", params={"page": 0}, headers=headers).status_code == 422


# --- contributing -------------------------------------------------------------------------------------------------


def test_a_clean_review_of_a_trusted_officer_is_published_at_once(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session, "Acme Housing Systems", website="https://acme.example")
    officer, headers = api_user(session)
    first = post_review(client, headers, review_body(supplier))
    assert first == {"id": first["id"], "status": "pending_moderation", "findings": []}  # new officers wait
    for _ in range(3):
        session.add(
            Review(
                supplier_id=supplier.id or 0,
                author_id=officer.id or 0,
                council_id=officer.council_id,
                author_role="Digital lead",
                status=ContentStatus.published,
                published_at=utcnow(),
                overall=7,
                recommend=True,
                relationship="live_contract",
                service_area="Housing",
                headline="Earlier",
            )
        )
    session.commit()
    trusted = post_review(client, headers, review_body(supplier, headline="Now trusted"))
    assert trusted["status"] == "published"
    _, other = api_user(session, email="reader@surreycc.gov.uk", gss_code="E10000030")
    assert client.get(f"/api/v1/reviews/{trusted['id']}", headers=other).json()["headline"] == "Now trusted"
    history = [entry.action for entry in audit.history(session, entity_type="review", entity_id=trusted["id"])]
    assert history == ["submitted", "screened"]


def test_pilots_are_screened_and_readable_by_their_author_until_published(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session, "Acme Housing Systems", website="https://acme.example")
    _, headers = api_user(session)
    _, other = api_user(session, email="reader@surreycc.gov.uk", gss_code="E10000030")
    response = client.post("/api/v1/pilots", json=pilot_body(supplier, lessons="Ask Dr Jones."), headers=headers)
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["status"] == "pending_moderation"
    assert [(f["category"], f["detector"]) for f in result["findings"]] == [("personal_data", "honorific_name")]
    own = client.get(f"/api/v1/pilots/{result['id']}", headers=headers).json()
    assert own["status"] == "pending" and own["title"] == "Chatbot for council tax questions"
    assert client.get(f"/api/v1/pilots/{result['id']}", headers=other).status_code == 404
    assert client.get("/api/v1/pilots/2147483647", headers=headers).status_code == 404
    invalid = pilot_body(supplier, title="", pilot_status="sideways")
    missing = client.post("/api/v1/pilots", json=invalid, headers=headers)
    assert missing.status_code == 422
    assert set(missing.json()["detail"]["errors"]) == {"title", "pilot_status"}


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"overall": "eleven", "recommend": "perhaps"}, {"overall", "recommend"}),
        ({"overall": 11, "fit": 6, "support": "3.5"}, {"overall", "fit", "support"}),
        ({"relationship": "friends", "service_area": "Space"}, {"relationship", "service_area"}),
        ({"headline": "", "worked_well": None, "did_not_work": "", "advice": None}, {"headline", "worked_well"}),
        ({"headline": "x" * 151}, {"headline"}),
        ({"contract_end": "2027-02-30"}, {"contract_end"}),
        ({"exact_cost": "NaN", "exact_cost_source_url": "https://find-tender.service.gov.uk/x"}, {"exact_cost"}),
        ({"exact_cost": "Infinity"}, {"exact_cost"}),
        ({"exact_cost": "1e999999", "exact_cost_source_url": "https://x.example"}, {"exact_cost"}),
        ({"exact_cost": "12500", "exact_cost_source_url": "https://evil.example/a"}, {"exact_cost_source_url"}),
        ({"product_id": "99999999999999999999999"}, {"product_id"}),
        ({"product_id": "²"}, {"product_id"}),
        ({"product_id": {"id": 1}, "cost_band": ["a"], "time_used": 7}, {"product_id", "cost_band", "time_used"}),
        ({"procurement_route": "handshake"}, {"procurement_route"}),
        ({"supplier": None}, {"supplier"}),
        ({"supplier": 42}, {"supplier"}),
    ],
)
def test_invalid_reviews_get_422_with_a_message_per_field(
    client: TestClient, session: Session, overrides: dict[str, Any], fields: set[str]
) -> None:
    supplier = make_supplier(session, "Acme Housing Systems", website="https://acme.example")
    _, headers = api_user(session)
    response = client.post("/api/v1/reviews", json=review_body(supplier, **overrides), headers=headers)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]["errors"]
    assert set(errors) == fields
    assert all(isinstance(message, str) and message for message in errors.values())
    assert session.exec(select(Review)).first() is None


def test_bodies_that_are_not_reviews_never_cause_a_server_error(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session, "Acme Housing Systems", website="https://acme.example")
    _, headers = api_user(session)
    for body in ([], "text", 3, None):
        assert client.post("/api/v1/reviews", json=body, headers=headers).status_code == 422
    json_type = {**headers, "Content-Type": "application/json"}
    assert client.post("/api/v1/reviews", content=b"{not json", headers=json_type).status_code == 422
    for slug in ("no-such", "x" * 500):
        unknown = client.post("/api/v1/reviews", json=review_body(supplier, supplier=slug), headers=headers)
        assert unknown.status_code == 404
    nul = client.post("/api/v1/reviews", json=review_body(supplier, worked_well="Fine\x00 system"), headers=headers)
    assert nul.status_code == 201
    assert client.post("/api/v1/reviews", json=review_body(supplier)).status_code == 401


# --- moderation ---------------------------------------------------------------------------------------------------


def test_the_moderation_api_is_for_moderators_only(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session, "Acme Housing Systems", website="https://acme.example")
    _, officer = api_user(session)
    review = post_review(client, officer, review_body(supplier))
    item = session.exec(select(ModerationItem)).one()
    assert client.get("/api/v1/moderation/items", headers=officer).status_code == 403
    assert client.get(f"/api/v1/moderation/items/{item.id}", headers=officer).status_code == 403
    refused = act(client, officer, item.id or 0, action="approve", version=item.version)
    assert refused.status_code == 403
    session.refresh(item)
    assert item.status == "open" and session.get(Review, review["id"]).status == ContentStatus.pending  # type: ignore[union-attr]
    assert client.get("/api/v1/moderation/items").status_code == 401


def test_the_api_queue_lists_pending_items_most_severe_first(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session, "Acme Housing Systems", website="https://acme.example")
    _, officer = api_user(session)
    _, moderator = api_user(session, email="moderator@harrow.gov.uk", role=Role.moderator)
    low = post_review(client, officer, review_body(supplier, headline="Clean"))
    critical = post_review(client, officer, review_body(supplier, worked_well="Mr Smith lied about the figures."))
    high = post_review(client, officer, review_body(supplier, worked_well=PRICE_TEXT))
    body = client.get("/api/v1/moderation/items", params={"status": "pending"}, headers=moderator).json()
    assert [i["content_id"] for i in body["items"]] == [critical["id"], high["id"], low["id"]]
    first = body["items"][0]
    assert first["severity"] == "critical" and first["needs_two_moderators"] is True
    assert first["opened_at"][:4] == str(utcnow().year) and "T" in first["opened_at"]
    assert {"id", "version", "content_type", "content_id", "findings"} <= first.keys()
    assert {f["detector"] for f in first["findings"]} >= {"honorific_name", "allegation_about_person"}
    assert client.get("/api/v1/moderation/items", params={"status": "decided"}, headers=moderator).json()["count"] == 0
    assert client.get("/api/v1/moderation/items", params={"status": "later"}, headers=moderator).status_code == 422


def test_a_moderator_cannot_act_on_their_own_contribution(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session, "Acme Housing Systems", website="https://acme.example")
    _, moderator = api_user(session, email="moderator@harrow.gov.uk", role=Role.moderator)
    own = post_review(client, moderator, review_body(supplier, worked_well=PRICE_TEXT))
    item = open_item(client, moderator, own["id"])
    response = act(client, moderator, item["id"], action="approve", version=item["version"])
    assert response.status_code == 403
    assert open_item(client, moderator, own["id"])["version"] == item["version"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "explode", "version": 1}, "action"),
        ({"action": "approve"}, "version"),
        ({"action": "approve", "version": "one"}, "version"),
        ({"action": "approve", "version": 1, "surprise": True}, "surprise"),
        ({"action": "reject", "version": 1}, "reason_code"),
        ({"action": "reject", "version": 1, "reason_code": "grumpy"}, "reason_code"),
        ({"action": "reject", "version": 1, "reason_code": "other"}, "note"),
        ({"action": "send_back", "version": 1, "note": "   "}, "note"),
        ({"action": "redact_and_approve", "version": 1}, "redactions"),
        ({"action": "redact_and_approve", "version": 1, "redactions": "all"}, "redactions"),
        (
            {"action": "redact_and_approve", "version": 1, "redactions": [{"field": "worked_well", "start": 5}]},
            "redactions.0.end",
        ),
        (
            {
                "action": "redact_and_approve",
                "version": 1,
                "redactions": [{"field": "worked_well", "start": 5, "end": 9999, "reason": "price"}],
            },
            "redactions",
        ),
        (
            {
                "action": "redact_and_approve",
                "version": 1,
                "redactions": [{"field": "author_id", "start": 0, "end": 1, "reason": "x"}],
            },
            "redactions",
        ),
        (
            {
                "action": "redact_and_approve",
                "version": 1,
                "redactions": [{"field": "worked_well", "start": 3, "end": 3, "reason": "x"}],
            },
            "redactions",
        ),
    ],
)
def test_invalid_actions_get_422_and_change_nothing(
    client: TestClient, session: Session, body: dict[str, Any], field: str
) -> None:
    supplier = make_supplier(session, "Acme Housing Systems", website="https://acme.example")
    _, officer = api_user(session)
    _, moderator = api_user(session, email="moderator@harrow.gov.uk", role=Role.moderator)
    review = post_review(client, officer, review_body(supplier, worked_well=PRICE_TEXT))
    item = open_item(client, moderator, review["id"])
    assert item["version"] == 1
    response = act(client, moderator, item["id"], **body)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]["errors"]
    after = open_item(client, moderator, review["id"])
    assert after["version"] == 1 and after["status"] == "open"
    assert client.get(f"/api/v1/moderation/items/{item['id']}", headers=moderator).json()["decisions"] == []


def test_four_eyes_and_a_stale_version_through_the_api(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session, "Acme Housing Systems", website="https://acme.example")
    _, officer = api_user(session)
    _, first = api_user(session, email="first.moderator@harrow.gov.uk", role=Role.moderator)
    _, second = api_user(session, email="second.moderator@harrow.gov.uk", role=Role.moderator)
    review = post_review(client, officer, review_body(supplier, worked_well="Mr Smith lied about the figures."))
    item = open_item(client, first, review["id"])
    assert item["severity"] == "critical" and item["needs_two_moderators"]

    one = act(client, first, item["id"], action="approve", version=item["version"]).json()
    assert one["status"] == "open" and one["content_status"] == "pending" and one["approvals"] == 1
    # The same moderator again: recorded, but it is not a second pair of eyes.
    again = act(client, first, item["id"], action="approve", version=one["version"]).json()
    assert again["status"] == "open" and again["approvals"] == 1
    # A stale version changes nothing.
    stale = act(client, second, item["id"], action="approve", version=one["version"])
    assert stale.status_code == 409
    unchanged = client.get(f"/api/v1/moderation/items/{item['id']}", headers=second).json()
    assert unchanged["version"] == again["version"] and len(unchanged["decisions"]) == 2
    assert client.get(f"/api/v1/reviews/{review['id']}", headers=second).status_code == 404

    done = act(client, second, item["id"], action="approve", version=again["version"])
    assert done.status_code == 200
    assert done.json()["status"] == "decided" and done.json()["content_status"] == "published"
    assert client.get(f"/api/v1/reviews/{review['id']}", headers=second).json()["status"] == "published"
    version = done.json()["version"]
    late = act(client, first, item["id"], action="reject", version=version, reason_code="other", note="x")
    assert late.status_code == 409
    actions = [e.action for e in audit.history(session, entity_type="review", entity_id=review["id"])]
    assert actions == ["submitted", "screened", "first_approval", "first_approval", "approve"]
