"""The moderators' guidance, the privacy notice and the terms of use."""

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import get_settings
from app.models import Role
from tests.factories import make_user, sign_in
from tests.html import validate_page


def words(tag: Tag) -> str:
    """A tag's text as a reader sees it: whitespace collapsed."""
    return " ".join(tag.get_text(" ").split())


def headings(page: BeautifulSoup) -> list[str]:
    return [words(h) for h in page.select("main h2")]


def table(page: BeautifulSoup, selector: str) -> dict[str, str]:
    cells = [[words(td) for td in row.select("td")] for row in page.select(f"{selector} tbody tr")]
    return {key: value for key, value in cells}


def test_the_guidance_is_for_moderators_and_linked_from_the_queue(client: TestClient, session: Session) -> None:
    assert client.get("/moderation/guidance", follow_redirects=False).status_code == 303
    make_user(session, email="officer@harrow.gov.uk")
    sign_in(client, session, "officer@harrow.gov.uk")
    assert client.get("/moderation/guidance").status_code == 403

    client.cookies.clear()
    make_user(session, email="moderator@harrow.gov.uk", role=Role.moderator)
    sign_in(client, session, "moderator@harrow.gov.uk")
    queue = validate_page(client.get("/moderation").text)
    link = queue.select_one(".app-guidance-link a")
    assert link is not None and link["href"].endswith("/moderation/guidance")

    page = validate_page(client.get(link["href"]).text)
    assert headings(page) == [
        "Contents",
        "Redact, never rewrite",
        "Commercial confidentiality and NDAs",
        "What councils already publish",
        "Personal data",
        "Criminal allegations",
        "Defamation",
    ]
    for anchor in page.select(".app-guidance-contents a"):
        assert page.find(id=anchor["href"].removeprefix("#")) is not None
    text = words(page)
    for must in (
        "section 43: commercial interests",
        "section 41: information provided in confidence",
        "Local Government Transparency Code 2015",
        "over £500",
        "more than £5,000",
        "criminal offence data",
        "serious financial loss",
        "Honest opinion needs a factual basis",
        "Notices of complaint (section 5)",
        "Never change, add to or reword what an officer wrote",
    ):
        assert must in text, must
    warnings = [words(w) for w in page.select(".govuk-warning-text")]
    assert any("does not mean an officer is free to publish it" in w for w in warnings)
    assert any(f"deleted after {get_settings().RETENTION_CRIMINAL_DAYS} days" in w for w in warnings)
    assert len(page.select(".govuk-inset-text")) >= 2


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_the_privacy_notice_follows_the_ico_model_with_the_configured_retention(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    for name, value in {
        "RETENTION_REJECTED_DAYS": "45",
        "RETENTION_CRIMINAL_DAYS": "14",
        "RETENTION_CASE_FILE_MONTHS": "30",
        "RETENTION_INACTIVE_YEARS": "5",
        "ERASURE_MODE": mode,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()

    page = validate_page(client.get("/privacy").text)
    assert headings(page) == [
        "Who is responsible for your data",
        "What data we hold",
        "Why we use it, and our lawful basis",
        "Criminal offence data",
        "Who we share it with",
        "How long we keep it",
        "Your rights",
        "How to complain",
        "If you complain about something published",
    ]
    retention = table(page, ".app-retention")
    assert retention["Rejected submissions"] == "45 days after the decision"
    assert retention["Submissions rejected for alleging criminal conduct"] == "14 days after the decision"
    case_files = retention["Complaint case files, and the content they are about"]
    assert case_files == "30 months after the last step in the case"
    assert retention["Your account"].endswith("After 5 years without signing in, it is anonymised.")
    erased = retention["Published reviews and pilot records"]
    assert ("deleted" in erased) == (mode == "delete") and ("Former member" in erased) == (mode == "anonymise")
    bases = table(page, ".app-lawful-bases")
    assert bases["Putting you in touch with another officer"].startswith("Consent, article 6(1)(a)")
    text = words(page)
    assert "controller" in text and "deleted 14 days after the decision" in text
    assert page.select_one("a[href='https://ico.org.uk/make-a-complaint/']") is not None
    assert "0303 123 1113" in text


def test_the_terms_say_what_may_be_posted_and_how_complaints_work(client: TestClient) -> None:
    page = validate_page(client.get("/terms").text)
    assert headings(page) == [
        "Who can use it",
        "What you may post",
        "What you must not post",
        "Screening and moderation",
        "Reporting a problem",
        "Notice of complaint",
        "Your data",
    ]
    text = words(page)
    for must in (
        "first-hand",
        "non-disclosure agreement",
        "personal data",
        "allegations of criminal conduct",
        "[removed: reason]",
        "Defamation (Operators of Websites) Regulations 2013",
        "five days",
    ):
        assert must in text, must
    assert page.select_one("main a[href$='/privacy']") is not None
