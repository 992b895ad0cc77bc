"""Offline screening of free text: each detector's positive and negative cases, spans, ordering and the allowlist."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session

from app.models import Severity, Supplier
from app.moderation.screening import (
    MESSAGES,
    Allowlist,
    Hit,
    highest_severity,
    invalidate_allowlist,
    load_allowlist,
    screen_fields,
    screen_text,
)

ALLOWLIST = Allowlist.build(
    [
        "Smith Digital Ltd",
        "Mid Sussex District Council",
        "Mid Sussex",
        "Amber Valley Borough Council",
        "Amber Valley",
        "Harvey Nash",
        "Dr Foster Intelligence",
        "Microsoft Teams",
        "Capita",
    ]
)


def screen(text: str) -> list[Hit]:
    return screen_text(text, field="worked_well", allowlist=ALLOWLIST)


def found(text: str, detector: str) -> list[str]:
    """The text of each span the detector found."""
    return [text[hit.start : hit.end] for hit in screen(text) if hit.detector == detector]


def detectors(text: str) -> set[str]:
    return {hit.detector for hit in screen(text)}


# --- personal data -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("contact jane.doe@example.co.uk today", ["jane.doe@example.co.uk"]),
        ("Email SAM+review@council.gov.uk, or a.b@x.org.", ["SAM+review@council.gov.uk", "a.b@x.org"]),
        ("follow @handle on social media", []),
        ("the supplier's address is on their website", []),
    ],
)
def test_email(text: str, expected: list[str]) -> None:
    assert found(text, "email") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ring 020 7946 0000 for help", ["020 7946 0000"]),
        ("Her mobile is 07700 900123.", ["07700 900123"]),
        ("Call +44 (0)20 7946 0000 today", ["+44 (0)20 7946 0000"]),
        ("+44 20 7946 0958 or (01632) 960 001", ["+44 20 7946 0958", "(01632) 960 001"]),
        ("+44 (0)7700 900123", ["+44 (0)7700 900123"]),
        ("Call 0121 496 0000 or 0800 123 4567", ["0121 496 0000", "0800 123 4567"]),
    ],
)
def test_uk_phone_found(text: str, expected: list[str]) -> None:
    assert found(text, "uk_phone") == expected


@pytest.mark.parametrize(
    "text",
    [
        "We upgraded to version 2.0.1 in 2024.",
        "The notice was 2024/S 000-012345.",
        "Find a Tender notice 012345-2024",
        "12 users, 3 days, 24/7 support, 01/02/2024",
        "Invoice 1234567 was paid",
    ],
)
def test_uk_phone_not_found(text: str) -> None:
    assert found(text, "uk_phone") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr Smith said it was fine", ["Mr Smith"]),
        ("Cllr Jane Brown and Dr. Patel chaired it", ["Cllr Jane Brown", "Dr. Patel"]),
        (
            "Prof O'Brien, Ms McDonald and Councillor Siân Evans",
            ["Prof O'Brien", "Ms McDonald", "Councillor Siân Evans"],
        ),
        ("Mr Preston from Preston City Council", ["Mr Preston"]),  # an honorific marks a person, whatever the list says
        ("Mrs Jones The supplier", ["Mrs Jones"]),
    ],
)
def test_honorific_name_found(text: str, expected: list[str]) -> None:
    assert found(text, "honorific_name") == expected


@pytest.mark.parametrize(
    "text",
    [
        "Dr Foster helped us benchmark.",  # a company on the allowlist
        "mr smith in lower case is not a name",
        "Our Lord Street office",
        "We will miss Thursday meetings",
    ],
)
def test_honorific_name_not_found(text: str) -> None:
    assert found(text, "honorific_name") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sarah Jones was helpful", ["Sarah Jones"]),
        ("Our account manager John Carter was great", ["John Carter"]),
        ("Sarah Jane Smith-Jones's team", ["Sarah Jane Smith-Jones"]),
        ("We spoke to Will Jones and Seán O'Brien", ["Will Jones", "Seán O'Brien"]),
        ("Harvey Smyth was not", ["Harvey Smyth"]),  # "Harvey" alone is not allowed by the supplier Harvey Nash
    ],
)
def test_name_pair_found(text: str, expected: list[str]) -> None:
    assert found(text, "name_pair") == expected


@pytest.mark.parametrize(
    "text",
    [
        "Smith Digital were late",
        "Mid Sussex was a good partner",
        "Amber Valley shared their specification",
        "Harvey Nash supplied the contractors",
        "Microsoft Teams works well",
        # Ordinary words that open a sentence.
        "Will Capita deliver? Grace Period was short. Mark Twain is not our problem.",
        "Sarah Monday",  # a weekday is not a surname
        "sarah jones",  # not capitalised
        "Sarah\nJones",  # a line break is not a name
    ],
)
def test_name_pair_not_found(text: str) -> None:
    assert found(text, "name_pair") == []


def test_name_inside_an_honorific_name_is_found_once() -> None:
    hits = screen("Cllr Jane Brown agreed")
    assert [(hit.detector, hit.start, hit.end) for hit in hits] == [("honorific_name", 0, 15)]


# --- commercial confidentiality ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It cost £12,500 in total", ["£12,500"]),
        ("£1.2m, £30k and 450k", ["£1.2m", "£30k", "450k"]),
        ("GBP 30000 or 30,000 pounds or 10k pounds", ["GBP 30000", "30,000 pounds", "10k pounds"]),
        ("€300, $5,000 and £ 450k", ["€300", "$5,000", "£ 450k"]),
        ("£5 million over 3 years", ["£5 million"]),
    ],
)
def test_money_found(text: str, expected: list[str]) -> None:
    assert found(text, "money") == expected


@pytest.mark.parametrize(
    "text",
    [
        "12 users",
        "99.9% uptime",
        "We went live in 2019",
        "version 2.0.1",
        "24/7 support",
        "3 days",
        "1 May 2024",
        "100k users and a 4K screen",
    ],
)
def test_money_not_found(text: str) -> None:
    assert screen(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It was £12,500 per year", ["£12,500 per year"]),
        ("£12 per user and £450 a day", ["£12 per user", "£450 a day"]),
        ("£5 per seat per month", ["£5 per seat per month"]),
        ("£5/user/month", ["£5/user/month"]),
        ("£300 per named user", ["£300 per named user"]),
        ("£40 per licence", ["£40 per licence"]),
        ("£30k pa", ["£30k pa"]),
        ("£8 + VAT per device", ["£8 + VAT per device"]),
    ],
)
def test_unit_price_found(text: str, expected: list[str]) -> None:
    assert found(text, "unit_price") == expected
    assert found(text, "money") == []  # the amount is inside the unit price, not a second hit


@pytest.mark.parametrize("text", ["£12,500 for the year", "priced per user", "12 users per site", "once a year"])
def test_unit_price_not_found(text: str) -> None:
    assert found(text, "unit_price") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("we got a 15% discount", ["15% discount"]),
        ("a discount of 20% on licences", ["discount of 20%"]),
        ("20% off the list price", ["20% off"]),
        ("a 10% public-sector discount", ["10% public-sector discount"]),
        ("15 per cent discount", ["15 per cent discount"]),
    ],
)
def test_discount_found(text: str, expected: list[str]) -> None:
    assert found(text, "discount") == expected


@pytest.mark.parametrize(
    "text",
    ["99.9% uptime", "a 10% reduction in calls", "we were offered a discount", "80% of staff use it"],
)
def test_discount_not_found(text: str) -> None:
    assert found(text, "discount") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bought through RM6098", ["RM6098"]),
        ("G-Cloud 13 is RM1557.13", ["RM1557.13"]),
        ("notice 2024/S 000-012345", ["2024/S 000-012345"]),
        ("see tender_12345 and CF-0123", ["tender_12345", "CF-0123"]),
        ("contract ref: ABC-12345", ["ABC-12345"]),
        ("PO 4500012345", ["PO 4500012345"]),
    ],
)
def test_contract_reference_found(text: str, expected: list[str]) -> None:
    assert found(text, "contract_reference") == expected


@pytest.mark.parametrize("text", ["contract was fine", "RM and HR teams", "the 2024 contract", "G-Cloud 13"])
def test_contract_reference_not_found(text: str) -> None:
    assert found(text, "contract_reference") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("This is commercial in confidence", ["commercial in confidence"]),
        ("It is commercially confidential", ["commercially confidential"]),
        ("We signed an NDA and a non-disclosure letter", ["NDA", "non-disclosure"]),
        ("Not for disclosure. OFFICIAL-SENSITIVE", ["Not for disclosure", "OFFICIAL-SENSITIVE"]),
        ("The pricing is confidential", ["confidential"]),
    ],
)
def test_confidentiality_marker_found(text: str, expected: list[str]) -> None:
    assert found(text, "confidentiality_marker") == expected


@pytest.mark.parametrize("text", ["We have confidence in them", "an official sensitive topic", "the agenda"])
def test_confidentiality_marker_not_found(text: str) -> None:
    assert found(text, "confidentiality_marker") == []


# --- legal risk ----------------------------------------------------------------------------------------------------


def test_allegation_about_a_named_person_is_critical() -> None:
    text = "Mr Smith lied about the delivery date"
    hits = screen(text)
    assert {(hit.detector, text[hit.start : hit.end], hit.severity) for hit in hits} == {
        ("honorific_name", "Mr Smith", Severity.high),
        ("allegation", "lied", Severity.high),
        ("allegation_about_person", text, Severity.critical),
    }
    assert highest_severity(hits) == Severity.critical


def test_allegation_without_a_person_is_high_not_critical() -> None:
    hits = screen("The supplier lied.")
    assert [(hit.detector, hit.severity, hit.start, hit.end) for hit in hits] == [("allegation", Severity.high, 13, 17)]
    assert highest_severity(hits) == Severity.high


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("Go-live was fine. Sarah Jones took a bribe! Then it got better.", "Sarah Jones took a bribe!"),
        ("Their account manager was a liar. The rest was fine.", "Their account manager was a liar."),
        ("It went well.\nThe sales director committed fraud", "The sales director committed fraud"),
        ("Dr. Patel was dishonest about the CEO's plans.", "Dr. Patel was dishonest about the CEO's plans."),
    ],
)
def test_allegation_about_person_spans_the_sentence(text: str, sentence: str) -> None:
    assert found(text, "allegation_about_person") == [sentence]


@pytest.mark.parametrize(
    "text",
    [
        "Sarah Jones was great. The supplier lied about the dates.",  # person and allegation in different sentences
        "Capita lied about the uptime.",  # a company, not a person
        "Our project manager was great.",  # a person, no allegation
    ],
)
def test_allegation_about_person_not_found(text: str) -> None:
    assert found(text, "allegation_about_person") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("This is FRAUD", ["FRAUD"]),
        ("fraudulent invoices and corruption", ["fraudulent", "corruption"]),
        ("they cheated; it was a scam and a theft", ["cheated", "scam", "theft"]),
        ("bribery, kickbacks and mis-sold licences", ["bribery", "kickbacks", "mis-sold"]),
        ("fraud-related losses", ["fraud"]),
    ],
)
def test_allegation_found(text: str, expected: list[str]) -> None:
    assert found(text, "allegation") == expected


@pytest.mark.parametrize(
    "text",
    [
        "Their counter-fraud team and fraud detection module were good",
        "We saw data corruption and corrupted files",
        "It rejects illegal characters",
        "A handy cheat sheet",
        "The claims are fraudproof and incorruptible",  # whole words only
        "Clients lie on the floor",  # "lies"/"lie" are not on the list
    ],
)
def test_allegation_not_found(text: str) -> None:
    assert found(text, "allegation") == []


# --- hits as a whole -----------------------------------------------------------------------------------------------


def test_hits_carry_category_message_and_exact_span() -> None:
    text = "Sarah Jones said £12,500 per year was commercial in confidence; email her at s.jones@example.com."
    hits = screen(text)
    assert [(hit.detector, hit.category, text[hit.start : hit.end]) for hit in hits] == [
        ("name_pair", "personal_data", "Sarah Jones"),
        ("unit_price", "commercial_confidentiality", "£12,500 per year"),
        ("confidentiality_marker", "commercial_confidentiality", "commercial in confidence"),
        ("email", "personal_data", "s.jones@example.com"),
    ]
    assert all(hit.field == "worked_well" and hit.message == MESSAGES[hit.detector] for hit in hits)
    assert hits[1].message == "This looks like a price. Remove it unless it is already published."


def test_no_overlapping_hits_from_one_detector() -> None:
    hits = screen("Call 020 7946 0000, 020 7946 0000 or +44 (0)20 7946 0000 now")
    spans = sorted((hit.start, hit.end) for hit in hits if hit.detector == "uk_phone")
    assert len(spans) == 3
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:], strict=False))


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_empty_text_has_no_hits(text: str) -> None:
    assert screen(text) == []


def test_screen_fields_orders_by_field_then_position() -> None:
    fields = {
        "headline": "Mr Smith was late",
        "worked_well": None,
        "could_improve": "",
        "advice": "Ask for a 15% discount. Sarah Jones helped.",
    }
    hits = screen_fields(fields, allowlist=ALLOWLIST)
    assert [(hit.field, hit.detector) for hit in hits] == [
        ("headline", "honorific_name"),
        ("advice", "discount"),
        ("advice", "name_pair"),
    ]
    assert [hit.start for hit in hits] == [0, 10, 24]


def test_highest_severity() -> None:
    def hit(severity: Severity) -> Hit:
        return Hit("f", "money", "commercial_confidentiality", severity, 0, 1, "")

    assert highest_severity([]) is None
    assert highest_severity([hit(Severity.medium), hit(Severity.low)]) == Severity.medium
    assert highest_severity([hit(Severity.high), hit(Severity.critical), hit(Severity.medium)]) == Severity.critical


def test_allowlist_build_keeps_pairs_but_not_given_names_alone() -> None:
    allowlist = Allowlist.build(["Harvey Nash Group Ltd", "Mid Sussex District Council", "", "  "])
    assert "harvey nash group ltd" in allowlist.names
    assert "harvey nash" in allowlist.names
    assert "nash" in allowlist.names
    assert "harvey" not in allowlist.names
    assert "mid sussex" in allowlist.names


# --- the allowlist from the database -------------------------------------------------------------------------------


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on the engine while the test runs."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    invalidate_allowlist()
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)
    invalidate_allowlist()


def test_load_allowlist_from_database(session: Session, statements: list[str]) -> None:
    allowlist = load_allowlist(session)
    assert len(statements) == 2
    assert {"specialist computer centre", "mid sussex", "mid sussex district council"} <= allowlist.names
    assert screen_text("Mid Sussex and Specialist Computer Centre", field="f", allowlist=allowlist) == []

    statements.clear()
    assert load_allowlist(session) is allowlist  # cached: one cheap query to check nothing changed
    assert len(statements) == 1

    session.add(Supplier(slug="smith-digital", name="Smith Digital Ltd", name_key="smith digital"))
    session.commit()
    updated = load_allowlist(session)
    assert "smith digital" in updated.names
    assert screen_text("Smith Digital were late", field="f", allowlist=updated) == []


def test_invalidate_allowlist_picks_up_a_rename(session: Session, statements: list[str]) -> None:
    supplier = Supplier(slug="grace-systems", name="Grace Systems", name_key="grace systems")
    session.add(supplier)
    session.commit()
    assert "grace systems" in load_allowlist(session).names

    supplier.name = "Grace Hopper Systems"
    session.add(supplier)
    session.commit()
    assert "grace hopper" not in load_allowlist(session).names  # same counts and ids: still cached
    invalidate_allowlist()
    assert "grace hopper" in load_allowlist(session).names
