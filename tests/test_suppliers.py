"""Officers propose missing suppliers; admins edit and merge them, keeping every old name findable."""

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import suppliers
from app.demo import seed_demo
from app.models import (
    ContentStatus,
    ContentType,
    ModerationItem,
    Review,
    Role,
    Sale,
    Supplier,
    SupplierAlias,
)
from tests.factories import csrf, make_user, sign_in
from tests.html import error_summary, validate_page


def by_name(session: Session, name: str) -> Supplier:
    found = suppliers.find_by_name(session, name)
    assert found is not None, name
    return found


def test_an_officer_proposes_a_missing_supplier_and_it_waits_for_a_moderator(
    client: TestClient, session: Session
) -> None:
    sign_in(client, session, "officer@harrow.gov.uk")
    token = csrf(client, "/vendors/add")
    response = client.post(
        "/vendors/add",
        data={"name": "Brand New Software Ltd", "website": "https://brand-new.example", "csrf_token": token},
    )
    assert response.status_code == 200
    assert "Supplier sent for checking" in validate_page(response.text).get_text()
    supplier = session.exec(select(Supplier).where(Supplier.name == "Brand New Software Ltd")).one()
    assert supplier.status == ContentStatus.pending
    item = session.exec(select(ModerationItem).where(ModerationItem.content_type == ContentType.supplier)).one()
    assert item.content_id == supplier.id
    listing = validate_page(client.get("/vendors", params={"q": "brand new"}).text)
    assert not listing.select(".app-supplier-list a")  # not listed before a moderator approves it


def test_a_supplier_that_is_already_listed_is_not_added_twice(client: TestClient, session: Session) -> None:
    sign_in(client, session, "officer@harrow.gov.uk")
    token = csrf(client, "/vendors/add")
    for name in ("SPECIALIST COMPUTER CENTRE", "SCC (Specialist Computer Centre)", "  "):
        response = client.post("/vendors/add", data={"name": name, "csrf_token": token})
        assert response.status_code == 422
        page = validate_page(response.text)
        assert error_summary(page), name
        assert page.find("input", id="name")["value"] == name


def test_only_admins_edit_and_merge(client: TestClient, session: Session) -> None:
    sign_in(client, session, "officer@harrow.gov.uk")
    slug = by_name(session, "Specialist Computer Centre").slug
    assert client.get(f"/admin/suppliers/{slug}/edit").status_code == 403
    token = csrf(client, "/account")
    refused = client.post(f"/admin/suppliers/{slug}/merge", data={"target": "Symantec", "csrf_token": token})
    assert refused.status_code == 403
    assert by_name(session, "Specialist Computer Centre").merged_into_id is None


def test_an_admin_renames_a_supplier_and_the_old_name_still_finds_it(client: TestClient, session: Session) -> None:
    make_user(session, email="admin@harrow.gov.uk", role=Role.admin)
    sign_in(client, session, "admin@harrow.gov.uk")
    supplier = by_name(session, "Specialist Computer Centre")
    token = csrf(client, f"/admin/suppliers/{supplier.slug}/edit")
    response = client.post(
        f"/admin/suppliers/{supplier.slug}/edit",
        data={"name": "SCC Technology", "website": "", "description": "IT services", "csrf_token": token},
    )
    assert response.status_code == 200
    session.expire_all()
    assert by_name(session, "Specialist Computer Centre").name == "SCC Technology"
    assert by_name(session, "SCC Technology").description == "IT services"


def test_merging_moves_everything_and_keeps_the_name_as_an_alias(client: TestClient, session: Session) -> None:
    seed_demo(session)
    admin = make_user(session, email="admin@harrow.gov.uk", role=Role.admin)
    demo = session.exec(select(Supplier).where(col(Supplier.is_demo).is_(True)).order_by(Supplier.name)).all()
    source, target = demo[0], demo[1]
    moved_reviews = session.exec(select(Review.id).where(Review.supplier_id == source.id)).all()
    assert moved_reviews
    source_name = source.name
    suppliers.merge(session, admin=admin, source=source, target=target)
    session.expire_all()
    assert set(session.exec(select(Review.id).where(Review.supplier_id == target.id)).all()) >= set(moved_reviews)
    assert session.exec(select(Review).where(Review.supplier_id == source.id)).first() is None
    assert by_name(session, source_name).id == target.id
    aliases = session.exec(select(SupplierAlias.alias).where(SupplierAlias.supplier_id == target.id)).all()
    assert source_name in aliases
    sign_in(client, session, "officer@harrow.gov.uk")
    listing = validate_page(client.get("/vendors", params={"q": "(demo)"}).text)
    assert source_name not in [a.get_text(strip=True) for a in listing.select(".app-supplier-list a")]


def test_merging_real_suppliers_moves_their_sales(session: Session) -> None:
    admin = make_user(session, email="admin@harrow.gov.uk", role=Role.admin)
    source, target = by_name(session, "Symantec"), by_name(session, "Specialist Computer Centre")
    sales = session.exec(select(Sale.id).where(Sale.supplier_id == source.id)).all()
    assert sales
    suppliers.merge(session, admin=admin, source=source, target=target)
    assert set(session.exec(select(Sale.id).where(Sale.supplier_id == target.id)).all()) >= set(sales)


def test_a_moderator_lists_a_proposed_supplier_and_the_proposer_is_told(client: TestClient, session: Session) -> None:
    officer = make_user(session, email="officer@harrow.gov.uk")
    proposed = suppliers.propose(session, author=officer, data=suppliers.parse_supplier({"name": "Fresh Ideas Ltd"}))
    make_user(session, email="mod@harrow.gov.uk", role=Role.moderator)
    sign_in(client, session, "mod@harrow.gov.uk")
    queue = validate_page(client.get("/moderation").text)
    form = queue.select_one(".app-proposals form")
    assert "Fresh Ideas Ltd" in queue.select_one(".app-proposals").get_text()
    data = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    done = client.post(form["action"], data={**data, "action": "approve"})
    assert done.status_code == 200 and "The supplier is listed" in done.text
    session.expire_all()
    assert session.get(Supplier, proposed.id).status == ContentStatus.published
    stale = client.post(form["action"], data={**data, "action": "reject"})
    assert stale.status_code in (404, 409)  # already decided: nothing changes
    assert session.get(Supplier, proposed.id).status == ContentStatus.published
    from tests.factories import last_mail

    assert "is now listed" in last_mail(session, "officer@harrow.gov.uk").subject


def test_nobody_decides_on_a_supplier_they_proposed(session: Session) -> None:
    moderator = make_user(session, email="mod@harrow.gov.uk", role=Role.moderator)
    proposed = suppliers.propose(session, author=moderator, data=suppliers.parse_supplier({"name": "Own Pick Ltd"}))
    import pytest

    from app.errors import NotAllowed

    with pytest.raises(NotAllowed):
        suppliers.decide_proposed(session, moderator=moderator, supplier_id=proposed.id or 0, version=1, approve=True)


def test_a_merged_suppliers_old_address_redirects(client: TestClient, session: Session) -> None:
    admin = make_user(session, email="admin@harrow.gov.uk", role=Role.admin)
    source, target = by_name(session, "Symantec"), by_name(session, "Specialist Computer Centre")
    old_slug = source.slug
    suppliers.merge(session, admin=admin, source=source, target=target)
    sign_in(client, session, "officer@harrow.gov.uk")
    response = client.get(f"/vendors/{old_slug}", follow_redirects=False)
    assert response.status_code == 301 and response.headers["location"].endswith(f"/vendors/{target.slug}")


def test_officers_propose_suppliers_through_the_api(client: TestClient, session: Session) -> None:
    from app import accounts
    from app.config import get_settings

    make_user(session, email="officer@harrow.gov.uk")
    token = accounts.issue_api_token(session, email="officer@harrow.gov.uk", settings=get_settings())
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/vendors", json={"name": "Api Added Ltd"}, headers=headers)
    assert created.status_code == 201 and created.json()["status"] == "pending_moderation"
    duplicate = client.post("/api/v1/vendors", json={"name": "api added limited"}, headers=headers)
    assert duplicate.status_code == 422
    assert client.post("/api/v1/vendors", json={"name": ""}, headers=headers).status_code == 422
