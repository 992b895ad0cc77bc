"""Search synonyms: the service, the defaults, and the admin pages that edit them."""

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import synonyms
from app.errors import InvalidInput
from app.models import AuditLog, Role, Synonym
from app.search import documents
from tests.factories import csrf, make_pilot, make_supplier, make_user, sign_in
from tests.html import error_summary, validate_page


def as_map(session: Session) -> dict[str, list[str]]:
    session.expire_all()
    return synonyms.synonym_map(session)


def admin(client: TestClient, session: Session) -> None:
    make_user(session, email="admin@harrow.gov.uk", role=Role.admin, name="Ada Admin")
    sign_in(client, session, "admin@harrow.gov.uk")


def add(client: TestClient, terms: str) -> BeautifulSoup | str:
    response = client.post(
        "/admin/synonyms", data={"terms": terms, "csrf_token": csrf(client, "/admin/synonyms")}, follow_redirects=False
    )
    if response.status_code == 303:
        return response.headers["location"]
    assert response.status_code == 422, response.text
    return validate_page(response.text)


def found_pilots(client: TestClient, q: str) -> list[str]:
    soup = validate_page(client.get("/search", params={"index": "pilots", "q": q}).text)
    return [" ".join(a.get_text().split()) for a in soup.select("li.app-search-hit h3 a")]


# --- the service -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("CRM, customer relationship management", ["CRM", "customer relationship management"]),
        ("  hmo ,house   in multiple occupation,HMO, ", ["hmo", "house in multiple occupation"]),
        ("<b>ERP</b>, enterprise resource planning", ["ERP", "enterprise resource planning"]),
    ],
)
def test_a_group_is_cleaned_split_on_commas_and_deduplicated(text: str, terms: list[str]) -> None:
    assert synonyms.parse_group(text) == terms


@pytest.mark.parametrize(
    "text", ["", "CRM", "CRM, crm", " , ", "x" * 121 + ", y", ", ".join(f"t{i}" for i in range(21))]
)
def test_a_group_needs_two_to_twenty_short_terms(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        synonyms.parse_group(text)
    assert set(raised.value.errors) == {"terms"}


def test_the_defaults_are_seeded_once_as_mutual_synonyms(session: Session) -> None:
    added = synonyms.seed_default_synonyms(session)
    assert added == sum(len(group) for group in synonyms.DEFAULT_GROUPS)
    mapping = as_map(session)
    assert mapping["CRM"] == ["customer relationship management"]
    assert mapping["customer relationship management"] == ["CRM"]
    assert mapping["Northgate"] == ["NEC Software Solutions"]
    assert mapping["ICT"] == ["information technology"] and "IT" not in mapping
    assert sorted(mapping["EDRMS"]) == ["document management", "electronic document and records management"]
    assert synonyms.seed_default_synonyms(session) == 0, "seeding again changes nothing"
    assert session.exec(select(AuditLog).where(AuditLog.action == "synonyms_seeded")).one() is not None

    for index in documents.INDEX_NAMES:
        settings = synonyms.index_settings(session, index)
        assert settings.synonyms == mapping
        assert settings.searchable == documents.INDEXES[index].searchable
        assert documents.INDEXES[index].synonyms == {}, "the shared settings are not changed"


class Recording:
    """A backend that records the settings it is given."""

    def __init__(self) -> None:
        self.configured: dict[str, dict[str, list[str]]] = {}

    def configure(self, index: str, settings: documents.IndexSettings) -> None:
        self.configured[index] = settings.synonyms


def test_groups_merge_and_removing_a_term_removes_it_everywhere(session: Session) -> None:
    actor = make_user(session, email="admin@harrow.gov.uk", role=Role.admin)
    backend = Recording()
    synonyms.add_group(session, backend=backend, actor=actor, text="IT, ICT")
    change = synonyms.add_group(session, backend=backend, actor=actor, text="ict, digital")
    assert change.applied and change.terms == ["ict", "digital"]
    assert as_map(session) == {"IT": ["ICT"], "ICT": ["IT", "digital"], "digital": ["ICT"]}
    assert backend.configured == {index: as_map(session) for index in documents.INDEX_NAMES}

    ict = session.exec(select(Synonym).where(Synonym.term == "ICT")).one()
    synonyms.delete_term(session, backend=backend, actor=actor, synonym_id=ict.id or 0)
    assert as_map(session) == {}, "IT and digital had nothing else to find"
    assert backend.configured["reviews"] == {}
    actions = session.exec(select(AuditLog.action).where(AuditLog.entity_type == "synonym").order_by(col(AuditLog.id)))
    assert list(actions.all()) == ["synonyms_added", "synonyms_added", "synonym_removed"]


# --- the admin pages ---------------------------------------------------------------------------------------------


def test_only_admins_can_see_or_change_the_synonyms(client: TestClient, session: Session) -> None:
    signed_out = client.get("/admin/synonyms", follow_redirects=False)
    assert signed_out.status_code == 303 and "/sign-in" in signed_out.headers["location"]
    make_user(session, email="moderator@harrow.gov.uk", role=Role.moderator)
    sign_in(client, session, "moderator@harrow.gov.uk")
    assert client.get("/admin/synonyms").status_code == 403
    token = csrf(client, "/vendors")
    refused = client.post("/admin/synonyms", data={"terms": "a, b", "csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 403
    assert session.exec(select(Synonym)).first() is None
    nav = validate_page(client.get("/vendors").text)
    assert not any(a.get_text(strip=True) == "Synonyms" for a in nav.select(".govuk-service-navigation__link"))


def test_an_admin_adds_a_synonym_that_search_uses_at_once_and_removes_it(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session, "Fenwick Ledger Systems")
    make_pilot(session, supplier, title="Licensing every house in multiple occupation")
    admin(client, session)
    assert found_pilots(client, "hmo") == []

    location = add(client, "HMO, house in multiple occupation")
    assert isinstance(location, str) and location.endswith("/admin/synonyms?done=added")
    listing = validate_page(client.get(location).text)
    assert "Search uses them now" in listing.select_one(".govuk-notification-banner").get_text()
    rows = {
        row.select_one("th").get_text(strip=True): row.select("td")[0].get_text(strip=True)
        for row in listing.select("tbody tr")
    }
    assert rows == {"HMO": "house in multiple occupation", "house in multiple occupation": "HMO"}
    assert found_pilots(client, "hmo") == ["Licensing every house in multiple occupation"]
    entry = session.exec(select(AuditLog).where(AuditLog.action == "synonyms_added")).one()
    assert entry.detail == {"terms": ["HMO", "house in multiple occupation"]} and entry.actor_id is not None

    form = next(f for f in listing.select("tbody form") if "HMO" in f.get_text())
    token = form.select_one("input[name=csrf_token]")["value"]
    removed = client.post(str(form["action"]), data={"csrf_token": token}, follow_redirects=False)
    assert removed.status_code == 303 and removed.headers["location"].endswith("?done=removed")
    assert as_map(session) == {}
    assert found_pilots(client, "hmo") == []
    assert session.exec(select(AuditLog).where(AuditLog.action == "synonym_removed")).one() is not None


def test_the_add_form_shows_errors_in_a_govuk_error_summary(client: TestClient, session: Session) -> None:
    admin(client, session)
    page = add(client, "CRM")
    assert isinstance(page, BeautifulSoup)
    assert error_summary(page) == ["Enter at least 2 different words or phrases, separated by commas"]
    assert page.select_one("#terms")["value"] == "CRM"
    assert page.select_one(".govuk-error-summary a")["href"] == "#terms"
    assert session.exec(select(Synonym)).first() is None
    missing = client.post(
        "/admin/synonyms/999999/delete", data={"csrf_token": csrf(client, "/admin/synonyms")}, follow_redirects=False
    )
    assert missing.status_code == 404
