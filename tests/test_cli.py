"""The `supplier-intel` command."""

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.cli import cli
from app.models import Council, Role, Supplier, User
from tests.html import parse

runner = CliRunner()


def test_login_link_signs_in_an_officer_of_harrow(client: TestClient, session: Session) -> None:
    result = runner.invoke(cli, ["login-link", "someone@harrow.gov.uk"])
    assert result.exit_code == 0, result.output
    assert "London Borough of Harrow (E09000015)" in result.output
    url = next(line for line in result.output.splitlines() if line.startswith("http://testserver/sign-in/"))
    path = url.removeprefix("http://testserver")
    token = parse(client.get(path).text).find("input", attrs={"name": "csrf_token"})["value"]
    assert client.post(path, data={"csrf_token": token}, follow_redirects=False).status_code == 303
    user = session.exec(select(User).where(User.email == "someone@harrow.gov.uk")).one()
    assert user.role == Role.officer
    council = session.get(Council, user.council_id)
    assert council is not None and council.gss_code == "E09000015"


def test_login_link_refuses_addresses_that_are_not_council_ones(engine: object) -> None:
    for email, reason in [
        ("someone@gmail.com", "gmail.com is not the email domain of a UK council"),
        ("someone@gov.uk", "A government address alone does not show"),
        ("someone@digital.cabinet-office.gov.uk", "A government address alone does not show"),
    ]:
        result = runner.invoke(cli, ["login-link", email])
        assert result.exit_code == 2
        assert reason in " ".join(result.output.split())
        assert "Traceback" not in result.output


def test_create_user_takes_the_council_from_the_domain_and_sets_the_role(session: Session) -> None:
    result = runner.invoke(cli, ["create-user", "Mod@Harrow.gov.uk", "--role", "moderator", "--name", "Mo D"])
    assert result.exit_code == 0, result.output
    assert "mod@harrow.gov.uk: moderator at London Borough of Harrow (E09000015)" in result.output
    again = runner.invoke(cli, ["create-user", "mod@harrow.gov.uk", "--role", "admin"])
    assert again.exit_code == 0
    users = session.exec(select(User)).all()
    assert [(u.email, u.role, u.name) for u in users] == [("mod@harrow.gov.uk", Role.admin, "Mo D")]
    bad = runner.invoke(cli, ["create-user", "x@harrow.gov.uk", "--role", "superuser"])
    assert bad.exit_code == 2


def test_api_token_works_with_the_api(client: TestClient, session: Session) -> None:
    runner.invoke(cli, ["create-user", "officer@harrow.gov.uk"])
    result = runner.invoke(cli, ["api-token", "officer@harrow.gov.uk"])
    assert result.exit_code == 0
    token = result.output.strip()
    response = client.get("/api/v1/councils", params={"q": "Harrow"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json()["count"] == 1
    unknown = runner.invoke(cli, ["api-token", "nobody@harrow.gov.uk"])
    assert unknown.exit_code == 2 and "No user has the email address" in unknown.output


def test_seed_demo_if_empty_seeds_a_new_database_once(session: Session) -> None:
    first = runner.invoke(cli, ["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Added 8 demo suppliers")
    demo_suppliers = session.exec(select(Supplier).where(col(Supplier.is_demo).is_(True))).all()
    assert len(demo_suppliers) == 8
    second = runner.invoke(cli, ["seed-demo", "--if-empty"])
    assert second.exit_code == 0 and "already has content" in second.output


def test_seed_demo_leaves_a_database_in_use_alone(session: Session) -> None:
    runner.invoke(cli, ["create-user", "officer@harrow.gov.uk"])
    result = runner.invoke(cli, ["seed-demo", "--if-empty"])
    assert "already has content" in result.output
    assert session.exec(select(Supplier).where(col(Supplier.is_demo).is_(True))).first() is None


def test_reindex_rebuilds_each_index_from_the_database(session: Session, engine: object) -> None:
    from app.search.documents import VENDORS
    from app.search.service import backend_for_session

    listed = len(session.exec(select(Supplier).where(col(Supplier.merged_into_id).is_(None))).all())
    backend, _ = backend_for_session(session)
    backend.clear(VENDORS)
    assert backend.count(VENDORS) == 0
    result = runner.invoke(cli, ["reindex", "--index", "vendors"])
    assert result.exit_code == 0, result.output
    assert f"Indexed {listed} vendors." in result.output
    assert backend.count(VENDORS) == listed
    unknown = runner.invoke(cli, ["reindex", "--index", "councils"])
    assert unknown.exit_code == 2 and "There is no index called councils" in " ".join(unknown.output.split())


def test_drain_search_applies_what_waits_in_the_outbox(session: Session) -> None:
    from app.models import OutboxOp, SearchOutbox

    supplier = session.exec(select(Supplier)).first()
    assert supplier is not None
    # A change left behind while a search server was unreachable (inserted without the ORM hooks).
    session.execute(
        SearchOutbox.__table__.insert().values(  # type: ignore[attr-defined]
            index_name="vendors", document_id=str(supplier.id), op=OutboxOp.upsert.name, attempts=1
        )
    )
    session.commit()
    result = runner.invoke(cli, ["drain-search"])
    assert result.exit_code == 0
    assert "Applied 1 index changes; 0 still waiting." in result.output
