"""Watched terms: matching (WW-2), censoring on text only (WW-4), replacing, the cache, and the seed lists (WW-7)."""

from pathlib import Path

import pytest
from markupsafe import Markup
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db import get_engine
from app.demo import PILOTS, REVIEWS
from app.errors import InvalidInput
from app.models import AuditLog, Role, WatchedAction, WatchedTerm
from app.moderation import sanitize, watched
from app.moderation.watched import Rule, WatchedLists
from tests.factories import make_user

BLOCK, APPROVE, FLAG = WatchedAction.block, WatchedAction.require_approval, WatchedAction.flag
CENSOR, REPLACE = WatchedAction.censor, WatchedAction.replace_with


def found(term: str, text: str, *, case_sensitive: bool = False) -> list[str]:
    lists = WatchedLists.build([Rule(term, BLOCK, case_sensitive=case_sensitive)])
    return [match.text for match in lists.find(text, BLOCK)]


# --- matching (WW-2, ported from Discourse's WordWatcher) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "text", "matches"),
    [
        ("fraud", "This was fraud.", ["fraud"]),
        ("fraud", "FRAUD!", ["FRAUD"]),
        ("fraud", "They defrauded us", []),
        ("*fraud*", "They defrauded us", ["defrauded"]),
        ("lied", "We applied twice", []),
        ("lied", "They lied.", ["lied"]),
        ("*corrupt*", "An incorruptible system", ["incorruptible"]),  # a known false positive of wildcards
        ("*corrupt*", "It was corrupt, we think", ["corrupt"]),  # the comma is not part of the match
        ("fraud", "counter-fraud", ["fraud"]),  # a hyphen is not a word character
        ("fraud", "fraud_report", []),  # an underscore is
        ("bid rigging", "Was it bid\n  rigging?", ["bid\n  rigging"]),  # a space matches any run of spaces
        ("défaut", "Le DÉFAUT est là", ["DÉFAUT"]),  # Unicode letters and case
        ("naïve", "naïveté", []),
        ("a.b", "axb a.b", ["a.b"]),  # regex metacharacters are literal
        ("c++", "We use C++ daily", ["C++"]),
        ("(x)", "call (x) now", ["(x)"]),
        ("[a-z]", "a or [a-z]", ["[a-z]"]),
        ("**scam**", "a scammer", ["scammer"]),  # repeated * collapse to one
    ],
)
def test_whole_word_case_insensitive_wildcard_matching(term: str, text: str, matches: list[str]) -> None:
    assert found(term, text) == matches


def test_a_case_sensitive_term_matches_only_as_written() -> None:
    assert found("SECRET", "It is SECRET, not secret or Secret", case_sensitive=True) == ["SECRET"]
    assert found("SECRET", "It is SECRET, not secret", case_sensitive=False) == ["SECRET", "secret"]


def test_block_returns_every_match_and_a_longer_term_wins_at_one_place() -> None:
    lists = WatchedLists.build([Rule("SECRET", BLOCK, case_sensitive=True), Rule("TOP SECRET", BLOCK)])
    matches = lists.find("TOP SECRET papers and a SECRET plan", BLOCK)
    assert [(m.text, m.rule.term) for m in matches] == [("TOP SECRET", "TOP SECRET"), ("SECRET", "SECRET")]


def test_each_action_is_matched_on_its_own() -> None:
    lists = WatchedLists.build([Rule("x", BLOCK), Rule("y", APPROVE), Rule("z", FLAG)])
    text = "x y z"
    assert [m.text for m in lists.find(text, BLOCK)] == ["x"]
    assert [m.text for m in lists.find(text, APPROVE)] == ["y"]
    assert [m.text for m in lists.find(text, FLAG)] == ["z"]
    assert lists.find(text, CENSOR) == []


def test_replace_swaps_each_term_for_its_replacement() -> None:
    lists = WatchedLists.build(
        [Rule("colour", REPLACE, replacement="color"), Rule("e-mail*", REPLACE, replacement="email")]
    )
    assert lists.replace("Colour, colours and e-mails.") == "color, colours and email."


def test_censor_turns_each_character_of_a_match_into_a_square_and_keeps_spaces() -> None:
    lists = WatchedLists.build([Rule("darn", CENSOR), Rule("pig headed", CENSOR)])
    assert lists.censor("Darn it, the darned pig  headed team!") == "■■■■ it, the darned ■■■  ■■■■■■ team!"
    assert lists.censor("nothing here") == "nothing here"


# --- censoring at display (WW-4) -----------------------------------------------------------------------------------


@pytest.fixture
def badword(monkeypatch: pytest.MonkeyPatch) -> None:
    """Display code reads the application's lists: here, one censor term."""
    lists = WatchedLists.build([Rule("badword", CENSOR), Rule("a&b", CENSOR)])
    monkeypatch.setattr(watched, "current", lambda: lists)


def test_censor_works_on_text_nodes_never_on_markup_or_attributes(badword: None) -> None:
    markup = Markup('<a href="/badword">badword</a> &amp; <mark title="badword">bad</mark>word')
    assert watched.censor(markup) == Markup('<a href="/badword">■■■■■■■</a> &amp; <mark title="badword">■■■</mark>■■■■')
    assert watched.censor(Markup("a&amp;b and <b>x</b>")) == Markup("■■■ and <b>x</b>")


def test_search_highlights_are_escaped_then_censored_on_text_then_marked(badword: None) -> None:
    text = f"<i>{sanitize.HIGHLIGHT_PRE}bad{sanitize.HIGHLIGHT_POST}word</i> {sanitize.HIGHLIGHT_PRE}ok"
    text += sanitize.HIGHLIGHT_POST
    shown = watched.censor(sanitize.mark_highlights(text))
    assert shown == Markup("&lt;i&gt;<mark>■■■</mark>■■■■&lt;/i&gt; <mark>ok</mark>")
    assert watched.censor_highlighted(text) == text.replace("bad", "■■■").replace("word", "■■■■")


def test_the_filter_keeps_plain_text_plain_and_leaves_other_values(badword: None) -> None:
    assert watched.censor("<b>badword</b>") == "<b>■■■■■■■</b>"  # autoescaping escapes it afterwards
    assert watched.censor(None) is None and watched.censor(7) == 7


# --- the cache -----------------------------------------------------------------------------------------------------


def test_the_lists_follow_the_database_and_are_compiled_again_only_after_a_change(session: Session) -> None:
    first = watched.load(session)
    assert first.find("heck", CENSOR) == []
    assert watched.load(session) is first, "unchanged terms reuse the compiled lists"

    session.add(WatchedTerm(term="heck", action=CENSOR))  # as another process would add it
    session.commit()
    second = watched.load(session)
    assert [m.text for m in second.find("Heck!", CENSOR)] == ["Heck"] and second is not first


def test_code_without_a_session_sees_a_change_made_through_the_service_at_once(session: Session) -> None:
    admin = make_user(session, email="admin@harrow.gov.uk", role=Role.admin)
    assert watched.censor_text("heck") == "heck"
    watched.add_term(session, actor=admin, data=watched.parse_term({"term": "heck", "action": "censor"}))
    assert watched.censor_text("heck") == "■■■■"


# --- checking a term -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"term": "  ", "action": "block"}, "term"),
        ({"term": "***", "action": "block"}, "term"),
        ({"term": "x" * 101, "action": "block"}, "term"),
        ({"term": "x", "action": "silence"}, "action"),
        ({"term": "x", "action": "replace"}, "replacement"),
        ({"term": "x", "action": "block", "category": "gossip"}, "category"),
        ({"term": "x", "action": "block", "case_sensitive": "perhaps"}, "case_sensitive"),
    ],
)
def test_a_term_is_checked_field_by_field(raw: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        watched.parse_term(raw)
    assert set(raised.value.errors) == {field}


def test_a_term_is_normalised() -> None:
    data = watched.parse_term({"term": "  bid   rigging** ", "action": "Require approval", "case_sensitive": "yes"})
    assert (data.term, data.action, data.case_sensitive) == ("bid rigging*", APPROVE, True)
    assert watched.parse_term({"term": "x", "action": "block", "replacement": "y"}).replacement is None


# --- seed lists (WW-7) ---------------------------------------------------------------------------------------------


def test_after_seeding_every_seed_term_is_present_with_its_action(session: Session) -> None:
    seeds = watched.seed_rows("watched-terms-v1.csv")
    added = watched.seed_watched_terms(session)

    assert added == len(seeds) > 50
    rows = {row.term: row for row in session.exec(select(WatchedTerm)).all()}
    for seed in seeds:
        row = rows[seed.term]
        assert (row.action, row.category, row.case_sensitive) == (seed.action, seed.category, seed.case_sensitive)
        assert row.list_version == "2026-11-v1"
    assert rows["fuck*"].action == CENSOR and rows["SECRET"].action == BLOCK and rows["SECRET"].case_sensitive
    assert rows["OFFICIAL-SENSITIVE"].action == BLOCK
    assert rows["negligen*"].action == APPROVE and rows["negligen*"].category == "legal_risk"
    assert rows["per user"].action == APPROVE and rows["per user"].category == "confidentiality"


def test_seeding_again_changes_nothing_and_keeps_what_an_admin_changed(session: Session) -> None:
    admin = make_user(session, email="admin@harrow.gov.uk", role=Role.admin)
    watched.seed_watched_terms(session)
    moved = session.exec(select(WatchedTerm).where(WatchedTerm.term == "rigged")).one()
    watched.update_term(
        session, actor=admin, term_id=moved.id or 0, data=watched.parse_term({"term": "rigged", "action": "flag"})
    )
    removed = session.exec(select(WatchedTerm).where(WatchedTerm.term == "malpractice")).one()
    watched.delete_term(session, actor=admin, term_id=removed.id or 0)

    assert watched.seed_watched_terms(session) == 0
    terms = {row.term: row.action for row in session.exec(select(WatchedTerm)).all()}
    assert terms["rigged"] == FLAG and "malpractice" not in terms
    seeded = session.exec(select(AuditLog).where(AuditLog.action == "watched_terms_seeded")).all()
    assert [entry.entity_id for entry in seeded] == ["2026-11-v1"]


def test_the_seeds_leave_words_to_the_detectors_that_already_find_them() -> None:
    """No duplicate findings: a seed term is never a word the allegation detector already knows."""
    from app.moderation.screening import ALLEGATION_WORDS

    plain = {seed.term.casefold() for seed in watched.seed_rows("watched-terms-v1.csv") if "*" not in seed.term}
    assert not plain & set(ALLEGATION_WORDS)


def test_the_demo_contributions_pass_the_seed_lists() -> None:
    """The fictional demo reviews and pilots are clean contributions: no seed term blocks, holds or censors them."""
    lists = WatchedLists.build(watched.Rule(**vars(seed)) for seed in watched.seed_rows("watched-terms-v1.csv"))
    texts = [text for spec in REVIEWS for text in (spec.headline, spec.worked_well, spec.did_not_work, spec.advice)]
    texts += [text or "" for spec in PILOTS for text in (spec.title, spec.problem, spec.lessons)]
    assert len(texts) > 40
    for text in texts:
        for action in (BLOCK, APPROVE, CENSOR):
            assert lists.find(text, action) == [], (action, text)


def test_a_fresh_init_loads_every_seed_term_with_its_action(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`supplier-intel init` on a new database, run twice: every seed term once, with its configured action."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        first = CliRunner().invoke(cli, ["init"])
        assert first.exit_code == 0, first.output
        assert "watched terms added from the default lists" in first.output
        again = CliRunner().invoke(cli, ["init"])
        assert again.exit_code == 0 and "watched terms added" not in again.output
        with Session(get_engine()) as session:
            rows = {row.term: row for row in session.exec(select(WatchedTerm)).all()}
    finally:
        get_engine().dispose()
        get_engine.cache_clear()
    seeds = watched.seed_rows("watched-terms-v1.csv")
    assert len(rows) == len(seeds)
    for seed in seeds:
        assert (rows[seed.term].action, rows[seed.term].case_sensitive) == (seed.action, seed.case_sensitive)
