"""Every page: valid structure, GOV.UK layout, security headers, and real error pages."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Role
from tests.factories import make_user, sign_in
from tests.html import validate_page

PUBLIC_PAGES = [
    "/",
    "/sign-in",
    "/sign-in/check-email",
    "/signed-out",
    "/about-the-data",
    "/privacy",
    "/accessibility",
    "/terms",
]
OFFICER_PAGES = ["/account", "/account/profile", "/vendors", "/vendors?q=scc", "/vendors?page=2"]


def test_public_pages_are_valid_and_need_no_sign_in(client: TestClient) -> None:
    for path in PUBLIC_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        soup = validate_page(response.text)
        assert soup.select_one(".govuk-phase-banner") is not None
        assert soup.select_one(".govuk-skip-link")["href"] == "#main-content"


def test_officer_pages_are_valid(client: TestClient, session: Session) -> None:
    sign_in(client, session, "officer@harrow.gov.uk")
    for path in OFFICER_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        validate_page(response.text)


def test_the_footer_carries_the_data_attribution(client: TestClient) -> None:
    text = validate_page(client.get("/").text).select_one("footer").get_text(" ", strip=True)
    assert "Contains data from mySociety's UK Local Authority Names and Codes, CC BY 4.0." in text
    assert "Open Government Licence v3.0" in text
    assert "Apache-2.0, from openprocurement/standards" in text


def test_every_response_has_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/nothing-here", "/healthz", "/api/v1/openapi.json"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # only when served over HTTPS


def test_hsts_is_sent_when_the_service_is_served_over_https(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings

    monkeypatch.setenv("BASE_URL", "https://supplier-intel.example.gov.uk")
    get_settings.cache_clear()
    assert "max-age=31536000" in client.get("/").headers["strict-transport-security"]


def test_a_missing_page_gets_the_404_page(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert validate_page(response.text).h1.get_text(strip=True) == "Page not found"
    missing_supplier = client.get("/vendors/no-such-supplier")  # signed out: sign in first
    assert missing_supplier.status_code == 200 and "Sign in" in missing_supplier.text


def test_an_unknown_supplier_is_a_404_for_officers(client: TestClient, session: Session) -> None:
    sign_in(client, session, "officer@harrow.gov.uk")
    response = client.get("/vendors/no-such-supplier")
    assert response.status_code == 404
    validate_page(response.text)


def test_bad_query_values_get_a_clear_400_page(client: TestClient, session: Session) -> None:
    sign_in(client, session, "officer@harrow.gov.uk")
    response = client.get("/vendors?page=abc")
    assert response.status_code == 400
    assert "(page)" in validate_page(response.text).get_text()


def test_the_403_page(client: TestClient) -> None:
    response = client.post("/sign-out")  # no CSRF token
    assert response.status_code == 403
    assert validate_page(response.text).h1.get_text(strip=True) == "You do not have permission to see this page"


def test_an_unexpected_error_gets_the_500_page(session: Session, engine: object) -> None:
    from app.main import create_app

    app = create_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in validate_page(response.text).get_text()
    assert "boom" not in response.text


def test_the_mail_outbox_is_only_there_in_development(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/dev/mail").status_code == 404
    sign_in(client, session, "officer@harrow.gov.uk")
    monkeypatch.setenv("APP_ENV", "development")
    from app.config import get_settings

    get_settings.cache_clear()
    page = validate_page(client.get("/dev/mail").text)
    link = page.select_one("table a")
    assert link.get_text(strip=True) == "Your sign-in link for Supplier Intelligence Exchange"
    message = validate_page(client.get(link["href"]).text)
    assert message.select_one(".app-mail-body a")["href"].startswith("http://testserver/sign-in/")


def test_moderators_and_admins_are_officers_too(client: TestClient, session: Session) -> None:
    make_user(session, email="mod@harrow.gov.uk", role=Role.moderator)
    sign_in(client, session, "mod@harrow.gov.uk")
    assert "Moderator" in validate_page(client.get("/account").text).get_text()
