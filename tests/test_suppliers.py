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
