"""The watched-terms admin pages: the lists by action, adding, moving, changing and removing a term, the "Test this
text" box with and without htmx, CSV export and import, the audit log, and who may see them."""

import csv
import io

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from app.models import AuditLog, Role, WatchedAction, WatchedTerm
from app.moderation import watched
from tests.factories import csrf, make_user, sign_in
from tests.html import error_summary, fragment, validate_page

PAGE = "/admin/watched-terms"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin(client: TestClient, session: Session) -> None:
    make_user(session, email="admin@harrow.gov.uk", role=Role.admin, name="Ada Admin")
    sign_in(client, session, "admin@harrow.gov.uk")


def post(client: TestClient, path: str, data: dict[str, str], **kwargs: object) -> Response:
    return client.post(path, data={**data, "csrf_token": csrf(client, PAGE)}, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


def add(client: TestClient, **fields: str) -> Response:
    return post(client, PAGE, fields)


def terms(session: Session) -> dict[str, WatchedTerm]:
    session.expire_all()
    return {row.term: row for row in session.exec(select(WatchedTerm)).all()}


def listed(page: BeautifulSoup, action: str) -> list[str]:
    table = page.select_one(f'table[data-action="{action}"]')
    return [] if table is None else [th.get_text(strip=True) for th in table.select("tbody th")]


def upload(client: TestClient, text: str, name: str = "terms.csv") -> Response:
    token = csrf(client, PAGE)
    return client.post(
        f"{PAGE}/import",
        data={"csrf_token": token},
        files={"file": (name, text.encode(), "text/csv")},
        follow_redirects=False,
    )


# --- who may see it ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.officer, Role.moderator])
def test_only_admins_can_see_or_change_the_watched_terms(client: TestClient, session: Session, role: Role) -> None:
    make_user(session, email="someone@harrow.gov.uk", role=role)
    sign_in(client, session, "someone@harrow.gov.uk")
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}.csv").status_code == 403
    token = csrf(client, "/account")
    for path in (PAGE, f"{PAGE}/test", f"{PAGE}/import"):
        response = client.post(path, data={"term": "x", "action": "block", "text": "x", "csrf_token": token})
        assert response.status_code == 403, path
    assert terms(session) == {}


def test_signed_out_visitors_are_asked_to_sign_in(client: TestClient, session: Session) -> None:
    assert client.get(PAGE, follow_redirects=False).status_code in (302, 303, 401)


def test_the_admin_menu_links_to_the_page(client: TestClient, session: Session, admin: None) -> None:
    page = validate_page(client.get("/admin/synonyms").text)
    link = next(a for a in page.select(".govuk-service-navigation a") if a.get_text(strip=True) == "Watched terms")
    assert link["href"].endswith(PAGE)


# --- the lists, adding, moving, changing, removing -----------------------------------------------------------------


def test_terms_are_listed_by_action_with_counts(client: TestClient, session: Session, admin: None) -> None:
    assert (
        add(client, term="SECRET", action="block", case_sensitive="yes", category="protective_marking").status_code
        == 303
    )
    assert add(client, term="negligen*", action="require_approval", category="legal_risk").status_code == 303
    assert add(client, term="colour", action="replace", replacement="color").status_code == 303
    response = add(client, term="blast", action="censor")
    assert response.status_code == 303

    page = validate_page(client.get(response.headers["location"]).text)
    assert "“blast” is added to Censor." in page.select_one(".govuk-notification-banner").get_text()
    assert listed(page, "block") == ["SECRET"] and listed(page, "require_approval") == ["negligen*"]
    assert listed(page, "replace") == ["colour"] and listed(page, "censor") == ["blast"] and listed(page, "flag") == []
    counts = [span.get_text(strip=True) for span in page.select(".app-watched-count")]
    assert counts == ["1 term", "1 term", "0 terms", "1 term", "1 term"]
    block_row = page.select_one('table[data-action="block"] tbody tr').get_text(" ", strip=True)
    assert "Protective marking" in block_row and "Yes" in block_row
    assert "color" in page.select_one('table[data-action="replace"]').get_text()


def test_adding_a_term_again_moves_it_to_the_new_action(client: TestClient, session: Session, admin: None) -> None:
    add(client, term="Fraudster*", action="require_approval")
    response = add(client, term="fraudster*", action="block")

    page = validate_page(client.get(response.headers["location"]).text)
    assert "“fraudster*” is moved to Block." in page.get_text()
    rows = terms(session)
    assert list(rows) == ["fraudster*"] and rows["fraudster*"].action == WatchedAction.block
    moved = session.exec(select(AuditLog).where(AuditLog.action == "watched_term_moved")).one()
    assert (moved.from_state, moved.to_state) == ("require_approval", "block")


@pytest.mark.parametrize(
    ("fields", "messages"),
    [
        ({"term": "", "action": ""}, ["Enter a word or phrase to watch", "Select what happens when the term is found"]),
        ({"term": "colour", "action": "replace"}, ["Enter the text that replaces the term"]),
        ({"term": "x" * 101, "action": "block"}, ["The word or phrase must be 100 characters or fewer"]),
    ],
)
def test_a_bad_term_gets_clear_errors_and_keeps_what_was_typed(
    client: TestClient, session: Session, admin: None, fields: dict[str, str], messages: list[str]
) -> None:
    response = add(client, **fields)
    assert response.status_code == 422
    page = validate_page(response.text)
    assert error_summary(page) == messages
    assert page.select_one("#term")["value"] == fields["term"]
    assert page.title.get_text().startswith("Error:")
    assert terms(session) == {}


def test_an_action_with_2000_terms_takes_no_more(client: TestClient, session: Session, admin: None) -> None:
    session.add_all(
        WatchedTerm(term=f"term{n}", action=WatchedAction.flag) for n in range(watched.MAX_TERMS_PER_ACTION)
    )
    session.commit()
    response = add(client, term="one too many", action="flag")
    assert response.status_code == 422
    assert error_summary(validate_page(response.text)) == ["Flag already has 2,000 terms. Remove some first"]


def test_a_term_can_be_changed_and_removed(client: TestClient, session: Session, admin: None) -> None:
    add(client, term="heck", action="censor")
    add(client, term="blast", action="censor")
    heck_id = terms(session)["heck"].id
    edit_url = f"{PAGE}/{heck_id}/edit"
    form = validate_page(client.get(edit_url).text)
    assert form.select_one("#term")["value"] == "heck" and form.select_one("#action-5")

    taken = post(client, edit_url, {"term": "Blast", "action": "censor"})
    assert taken.status_code == 422
    assert error_summary(validate_page(taken.text)) == ["“blast” is already a watched term (Censor). Change that one"]

    changed = post(client, edit_url, {"term": "heck*", "action": "flag", "category": "profanity"})
    assert changed.status_code == 303
    row = terms(session)["heck*"]
    assert (row.action, row.category) == (WatchedAction.flag, "profanity")

    removed = post(client, f"{PAGE}/{heck_id}/delete", {})
    assert removed.status_code == 303
    assert "“heck*” is removed" in validate_page(client.get(removed.headers["location"]).text).get_text()
    assert list(terms(session)) == ["blast"]
    assert client.get(edit_url).status_code == 404
    actions = session.exec(select(AuditLog.action).where(col(AuditLog.entity_type) == "watched_term")).all()
    assert sorted(actions) == sorted(
        ["watched_term_added", "watched_term_added", "watched_term_moved", "watched_term_removed"]
    )


# --- "Test this text" ----------------------------------------------------------------------------------------------


def test_the_test_box_shows_matches_per_action_with_highlighted_spans(
    client: TestClient, session: Session, admin: None
) -> None:
    add(client, term="SECRET", action="block", case_sensitive="yes")
    add(client, term="negligen*", action="require_approval")
    add(client, term="blast", action="censor")
    add(client, term="colour", action="replace", replacement="color")
    text = "A SECRET, <b>negligent</b> rollout. Blast! The colour was off. secret"

    response = post(client, f"{PAGE}/test", {"text": text})

    assert response.status_code == 200
    page = validate_page(response.text)
    result = page.select_one(".app-watched-test-result")
    assert result is not None
    by_action = {
        block["data-action"]: [m.get_text() for m in block.select("mark")]
        for block in result.select(".app-watched-test-result__action")
    }
    assert by_action == {
        "block": ["SECRET"],
        "require_approval": ["negligent"],
        "replace": ["colour"],
        "censor": ["Blast"],
    }
    assert result.find("b") is None, "the text is escaped before spans are marked"
    assert page.select_one(".app-watched-test-result__replaced").get_text() == text.replace("<b>", "").replace(
        "</b>", ""
    ).replace("colour", "color")
    assert "■■■■■!" in page.select_one(".app-watched-test-result__censored").get_text()
    assert page.select_one("#text").get_text() == text, "the text stays in the box"

    htmx = post(client, f"{PAGE}/test", {"text": text}, headers=HTMX)
    assert htmx.status_code == 200
    panel = fragment(htmx.text)
    assert len(panel.select(".app-watched-test-result__action")) == 4 and panel.select_one("#text") is not None


def test_the_test_box_needs_some_text(client: TestClient, session: Session, admin: None) -> None:
    response = post(client, f"{PAGE}/test", {"text": "  "})
    assert response.status_code == 422
    assert error_summary(validate_page(response.text)) == ["Enter some text to test"]
    htmx = post(client, f"{PAGE}/test", {"text": ""}, headers=HTMX)
    assert htmx.status_code == 422 and error_summary(fragment(htmx.text)) == ["Enter some text to test"]


def test_the_test_box_without_matches_says_so(client: TestClient, session: Session, admin: None) -> None:
    add(client, term="blast", action="censor")
    page = validate_page(post(client, f"{PAGE}/test", {"text": "Nothing to see"}).text)
    assert "No watched term matches this text" in page.get_text()


# --- CSV -----------------------------------------------------------------------------------------------------------


def test_a_csv_round_trip_keeps_every_row(client: TestClient, session: Session, admin: None) -> None:
    watched.seed_watched_terms(session)
    add(client, term="colour", action="replace", replacement="color, with a comma")
    exported = client.get(f"{PAGE}.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    before = {
        row.term: (row.action, row.replacement, row.category, row.case_sensitive) for row in terms(session).values()
    }
    assert len(rows) == len(before) > 50

    for row in session.exec(select(WatchedTerm)).all():
        session.delete(row)
    session.commit()
    watched.invalidate()
    imported = upload(client, exported.text)

    assert imported.status_code == 303
    assert f"{len(before)} terms added, 0 changed, 0 unchanged" in client.get(imported.headers["location"]).text
    after = {
        row.term: (row.action, row.replacement, row.category, row.case_sensitive) for row in terms(session).values()
    }
    assert after == before
    assert upload(client, exported.text).status_code == 303, "importing the same file again is harmless"


def test_an_import_adds_and_moves_terms(client: TestClient, session: Session, admin: None) -> None:
    add(client, term="rigged", action="require_approval")
    imported = upload(client, "term,action,replacement,category,case_sensitive\nrigged,flag,,,no\nbotch*,censor,,,\n")
    assert imported.status_code == 303
    assert "1 terms added, 1 changed" in client.get(imported.headers["location"]).text
    rows = terms(session)
    assert rows["rigged"].action == WatchedAction.flag and rows["botch*"].action == WatchedAction.censor
    entry = session.exec(select(AuditLog).where(AuditLog.action == "watched_terms_imported")).one()
    assert entry.detail["added"] == 1 and entry.detail["changed"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "term,action,replacement,category,case_sensitive\nok,block,,,\n,block,,,\ncolour,replace,,,\nx,silence,,,\n",
            "Nothing was imported. Line 3: Enter a word or phrase to watch. Line 4: Enter the text that replaces the "
            "term. Line 5: Select what happens when the term is found",
        ),
        ("term,action\nok,block\nOK,flag\n", "Nothing was imported. Line 3: “OK” is already on line 2"),
        ("word,what\nok,block\n", "The first row must name the columns term, action, replacement, category, "
         "case_sensitive (missing: term, action)"),
        ("term,action\n", "The file has no terms in it"),
    ],
)  # fmt: skip
def test_a_bad_import_reports_the_lines_and_imports_nothing(
    client: TestClient, session: Session, admin: None, text: str, message: str
) -> None:
    response = upload(client, text)
    assert response.status_code == 422
    page = validate_page(response.text)
    assert error_summary(page) == [message]
    assert page.select_one("#file-error") is not None
    assert terms(session) == {}


def test_an_import_needs_a_utf8_csv_file(client: TestClient, session: Session, admin: None) -> None:
    response = upload(client, "")
    assert error_summary(validate_page(response.text)) == ["Select a CSV file of watched terms"]
    token = csrf(client, PAGE)
    binary = client.post(
        f"{PAGE}/import", data={"csrf_token": token}, files={"file": ("t.csv", b"\xff\xfe\x00bad", "text/csv")}
    )
    assert binary.status_code == 422
    assert error_summary(validate_page(binary.text)) == ["The file must be a CSV file saved as UTF-8"]
    assert terms(session) == {}
