"""Schemathesis against /api/v1/openapi.json: every operation, through the ASGI app, as a signed-in officer.

For each operation Schemathesis generates requests from the published schema (valid ones, and ones that break it)
and checks that none gets a server error and that every answer matches the schema the API documents. The number
of examples per operation is bounded so the whole run stays well under 90 seconds. Each server error it found was
fixed in the code; its regression test is below the property test.
"""

import re
import time

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlmodel import Session

from app import accounts
from app.config import get_settings
from app.models import Role
from app.ratelimit import limiter
from tests.factories import BIRMINGHAM, LEEDS, make_pilot, make_review, make_supplier, make_user

EXAMPLES_PER_OPERATION = 50
POSTGRES_EXAMPLES_PER_OPERATION = 10
MODERATOR_ONLY = re.compile(r"^/api/v1/(moderation/|complaints/\{)")
BUDGET_SECONDS = 90


def bearer(session: Session, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.issue_api_token(session, email=email, settings=get_settings())}"}


def seed(session: Session) -> None:
    """Content for the generated ids and slugs to hit now and then: published and pending, review and pilot."""
    supplier = make_supplier(session)
    make_review(session, supplier, gss_code=BIRMINGHAM)
    make_pilot(session, supplier, gss_code=BIRMINGHAM)


def fuzz(operation: schemathesis.APIOperation, headers: dict[str, str], examples: int) -> int:
    """Send an operation's generated requests, valid and invalid, and check each answer; how many were sent."""
    sent = 0
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        nonlocal sent
        limiter.reset()  # the generated requests are many; the limits have their own tests
        sent += 1
        case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

    run()
    return sent


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_every_api_operation_survives_generated_requests(
    client: TestClient, session: Session, database_url: str
) -> None:
    # The full run on SQLite; a smaller one on PostgreSQL, whose driver refuses more (NUL bytes, huge integers).
    examples = EXAMPLES_PER_OPERATION if database_url.startswith("sqlite") else POSTGRES_EXAMPLES_PER_OPERATION
    seed(session)
    officer = make_user(session, email="officer@harrow.gov.uk", role=Role.officer)
    moderator = make_user(session, email="moderator@leeds.gov.uk", role=Role.moderator, gss_code=LEEDS)
    as_officer, as_moderator = bearer(session, officer.email), bearer(session, moderator.email)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    started = time.monotonic()
    failures: list[str] = []
    counts: dict[str, int] = {}
    for operation in operations:
        # Moderators' operations are tried as a moderator (an officer only ever gets 403 there).
        headers = as_moderator if MODERATOR_ONLY.search(operation.path) else as_officer
        try:
            counts[operation.label] = fuzz(operation, headers, examples)
        except (Exception, BaseExceptionGroup) as error:  # every failing operation is listed, not just the first
            failures.append(f"{operation.label}: {error}")
    elapsed = time.monotonic() - started
    print(f"schemathesis: {len(operations)} operations, {sum(counts.values())} requests in {elapsed:.0f} s")
    assert not failures, "\n\n".join(failures)
    assert elapsed < BUDGET_SECONDS


# --- regressions: what the runs above found ------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_refused_supplier_proposal_answers_in_the_documented_shape(client: TestClient, session: Session) -> None:
    """POST /api/v1/vendors answered 422 {"detail": {"errors": ...}} while its schema promised FastAPI's list."""
    make_user(session, email="officer@harrow.gov.uk")
    headers = bearer(session, "officer@harrow.gov.uk")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
    operation = schema["/api/v1/vendors"]["POST"]
    for body in ({}, {"name": ""}, {"name": "x" * 500}):
        response = operation.Case(body=body, media_type="application/json").call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )
        assert response.status_code == 422
        assert "name" in response.json()["detail"]["errors"]
    # A body that is not an object at all gets FastAPI's list of problems, which the schema also describes.
    wrong = operation.Case(body=["a list"], media_type="application/json").call_and_validate(
        headers=headers, checks=[not_a_server_error, response_schema_conformance]
    )
    assert wrong.status_code == 422 and isinstance(wrong.json()["detail"], list)


def test_a_nul_byte_in_a_name_search_is_ignored(client: TestClient, session: Session) -> None:
    """GET /api/v1/vendors?q= with a NUL byte was a 500 on PostgreSQL, which refuses NUL in a text parameter; the
    councils' search and the HTML supplier list share the same code and the same fix."""
    make_supplier(session, "Fenwick Ledger Systems")
    officer = make_user(session, email="officer@harrow.gov.uk")
    headers = bearer(session, officer.email)
    found = client.get("/api/v1/vendors", params={"q": "fenwick\x00"}, headers=headers)
    assert found.status_code == 200, found.text
    assert [v["slug"] for v in found.json()["vendors"]] == ["fenwick-ledger-systems"]
    councils = client.get("/api/v1/councils", params={"q": "harr\x00ow"}, headers=headers)
    assert councils.status_code == 200, councils.text
    assert [c["gss_code"] for c in councils.json()["councils"]] == ["E09000015"]
    client.cookies.set(accounts.SESSION_COOKIE, accounts.start_session(session, user=officer, settings=get_settings()))
    session.commit()
    page = client.get("/vendors", params={"q": "\x00"})
    assert page.status_code == 200
