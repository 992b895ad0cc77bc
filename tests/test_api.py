"""The JSON API skeleton: bearer tokens, councils, the OpenAPI document and the health check."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import accounts
from app.config import get_settings
from tests.factories import make_user


def bearer(session: Session, email: str = "officer@harrow.gov.uk") -> dict[str, str]:
    make_user(session, email=email)
    token = accounts.issue_api_token(session, email=email, settings=get_settings())
    return {"Authorization": f"Bearer {token}"}


def test_councils_lists_the_397_current_councils(client: TestClient, session: Session) -> None:
    response = client.get("/api/v1/councils", headers=bearer(session))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 397 == len(body["councils"])
    harrow = next(c for c in body["councils"] if c["gss_code"] == "E09000015")
    assert harrow == {
        "gss_code": "E09000015",
        "code": "HRW",
        "name": "London Borough of Harrow",
        "type": "LBO",
        "type_name": "London borough",
        "region": "London",
        "nation": "England",
    }
    assert {c["nation"] for c in body["councils"]} == {"England", "Scotland", "Wales", "Northern Ireland"}


def test_councils_can_be_filtered_by_name_or_code(client: TestClient, session: Session) -> None:
    headers = bearer(session)
    by_name = client.get("/api/v1/councils", params={"q": "harrow"}, headers=headers).json()
    assert [c["gss_code"] for c in by_name["councils"]] == ["E09000015"]
    by_code = client.get("/api/v1/councils", params={"q": "e09000015"}, headers=headers).json()
    assert [c["name"] for c in by_code["councils"]] == ["London Borough of Harrow"]
    odd = client.get("/api/v1/councils", params={"q": "%_\\'; drop table council"}, headers=headers)
    assert odd.status_code == 200 and odd.json()["count"] == 0
    too_long = client.get("/api/v1/councils", params={"q": "x" * 101}, headers=headers)
    assert too_long.status_code == 422


def test_the_api_needs_a_valid_bearer_token(client: TestClient, session: Session) -> None:
    assert client.get("/api/v1/councils").status_code == 401
    refused = client.get("/api/v1/councils", headers={"Authorization": "Bearer nonsense"})
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert refused.json() == {"detail": "The bearer token is invalid or has expired."}
    sign_in_token, _ = accounts.security.create_token(
        secret=get_settings().SECRET_KEY,
        audience=accounts.security.SIGN_IN_AUDIENCE,
        subject="1",
        lifetime=accounts.security.SIGN_IN_LIFETIME,
    )
    wrong_kind = client.get("/api/v1/councils", headers={"Authorization": f"Bearer {sign_in_token}"})
    assert wrong_kind.status_code == 401


def test_the_openapi_document_describes_the_api(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/councils" in document["paths"]
    assert "/sign-in" not in document["paths"]  # HTML pages are not part of the API
    assert any(
        s.get("type") == "http" and s.get("scheme") == "bearer"
        for s in document["components"]["securitySchemes"].values()
    )


def test_unknown_api_paths_answer_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


def test_healthz_reports_the_database_and_search(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "search": "embedded"}
