"""The reference data import, on the real files in REFERENCE_DATA_DIR.

The `session` fixture (conftest.py) starts from a copy of a database into which the import has already run once,
on SQLite and on PostgreSQL; tests that need the report run the import again, which must change nothing.
"""

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, func, select

from app.config import get_settings
from app.models import Category, Council, CouncilDomain, Sale, Supplier, SupplierAlias
from app.reference import (
    COUNCIL_DOMAIN_SUPPLEMENT,
    COUNCILS_FILE,
    DOMAINS_FILE,
    REQUIRED_FILES,
    SPEND_FILE,
    ImportReport,
    ReferenceDataError,
    import_reference_data,
    supplier_name_key,
)

TABLES: list[type[SQLModel]] = [Council, CouncilDomain, Category, Supplier, SupplierAlias, Sale]


def data_dir() -> Path:
    return get_settings().REFERENCE_DATA_DIR


def reimport(session: Session, directory: Path | None = None) -> ImportReport:
    return import_reference_data(session, directory or data_dir())


def count(session: Session, table: type[SQLModel]) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


def council(session: Session, code: str) -> Council:
    return session.exec(select(Council).where(Council.code == code)).one()


def supplier_by_key(session: Session, key: str) -> Supplier:
    return session.exec(select(Supplier).where(Supplier.name_key == key)).one()


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every imported table, minus timestamps, in a stable order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for table in TABLES:
        columns = [column for column in table.__table__.columns if column.name != "created_at"]
        result = session.connection().execute(sa_select(*columns).order_by(*columns))
        rows[table.__name__] = [tuple(row) for row in result]
    return rows


def linked_data_dir(tmp_path: Path, **replacements: str) -> Path:
    """A data folder of links to the real files, with some files replaced by the given text."""
    for name in REQUIRED_FILES:
        if name in replacements:
            (tmp_path / name).write_text(replacements[name], encoding="utf-8")
        else:
            (tmp_path / name).symlink_to(data_dir() / name)
    return tmp_path


# --- councils and their domains ------------------------------------------------------------------


def test_councils_current_and_former(session: Session) -> None:
    report = reimport(session)
    assert report.current_councils == 397
    assert count(session, Council) == report.councils
    assert session.exec(select(func.count()).where(col(Council.current))).one() == 397
    bournemouth = council(session, "BMH")
    assert not bournemouth.current
    assert bournemouth.replaced_by == "BPC"


def test_harrow(session: Session) -> None:
    harrow = council(session, "HRW")
    assert harrow.gss_code == "E09000015"
    assert harrow.name == "London Borough of Harrow"
    assert harrow.nice_name == "Harrow"
    assert harrow.current
    domains = session.exec(select(CouncilDomain.domain).where(CouncilDomain.council_id == harrow.id)).all()
    assert "harrow.gov.uk" in domains


def test_domains_cover_almost_every_current_council(session: Session) -> None:
    # user_domains.json names 372 current councils; the supplement adds ones it leaves out (Fife, Kirklees...).
    report = reimport(session)
    covered = session.exec(
        select(func.count(func.distinct(CouncilDomain.council_id))).join(Council).where(col(Council.current))
    ).one()
    assert covered == report.councils_with_domain
    assert covered >= 385


def test_the_supplement_holds_only_gov_uk_domains_for_councils_the_file_misses(session: Session) -> None:
    records = json.loads((data_dir() / DOMAINS_FILE).read_text(encoding="utf-8"))["domains"]
    in_file = {r["domain_pattern"].lower() for r in records}
    for code, domain in COUNCIL_DOMAIN_SUPPLEMENT.items():
        assert domain.endswith(".gov.uk") and domain not in in_file
        assert council(session, code).current
    assert session.exec(select(CouncilDomain).where(CouncilDomain.domain == "fife.gov.uk")).one().council_id == (
        council(session, "FIF").id
    )


def test_an_abolished_councils_domain_belongs_to_its_single_successor(session: Session) -> None:
    def holder(domain: str) -> str:
        return session.exec(select(Council.code).join(CouncilDomain).where(CouncilDomain.domain == domain)).one()

    assert holder("kettering.gov.uk") == "NNT"  # Kettering -> North Northamptonshire
    assert holder("harrogate.gov.uk") == "NYE"  # Harrogate -> North Yorkshire
    report = reimport(session)
    assert "cumbria.gov.uk" in report.unmatched_domains  # split between two successors: neither gets it


def test_only_exact_local_authority_domains(session: Session) -> None:
    records = json.loads((data_dir() / DOMAINS_FILE).read_text(encoding="utf-8"))["domains"]
    local_authority = {r["domain_pattern"].lower() for r in records if r["organisation_type_id"] == "local_authority"}
    domains = session.exec(select(CouncilDomain.domain)).all()
    assert domains
    assert all("*" not in domain and domain == domain.lower() for domain in domains)
    assert "gov.uk" not in domains
    assert set(domains) <= local_authority | set(COUNCIL_DOMAIN_SUPPLEMENT.values())
    report = reimport(session)
    assert {"tfl.gov.uk", "cumbria.gov.uk", "london-fire.gov.uk"} <= set(report.unmatched_domains)
    assert not set(report.unmatched_domains) & set(domains)


def test_domain_joins(session: Session) -> None:
    def holder(domain: str) -> Council:
        return session.exec(select(Council).join(CouncilDomain).where(CouncilDomain.domain == domain)).one()

    assert holder("adur-worthing.gov.uk").nice_name == "Worthing"  # one domain naming one council
    assert holder("greenwich.gov.uk").id == holder("royalgreenwich.gov.uk").id  # one council, two domains
    assert holder("bradford.gov.uk").code == "BRD"  # through the alias table
    assert holder("london.gov.uk").code == "GLA"  # note: "Greater London Authority (GLA), established by ..."
    assert holder("folkestone-hythe.gov.uk").code == "SHE"  # note: "Shepway", the old name


# --- categories ----------------------------------------------------------------------------------


def test_categories_are_cpv_divisions_48_and_72(session: Session) -> None:
    cpv = json.loads((data_dir() / "cpv_en.json").read_text(encoding="utf-8"))
    expected = {code for code in cpv if code[:2] in ("48", "72")}
    categories = session.exec(select(Category)).all()
    assert {category.code for category in categories} == expected
    by_code = {category.code: category for category in categories}
    for category in categories:
        if category.code[2:8] == "000000":
            assert category.parent_code is None
        else:
            assert category.parent_code in by_code
            assert category.parent_code[:2] == category.code[:2]
    assert by_code["48000000-8"].label == cpv["48000000-8"]
    assert by_code["48110000-2"].parent_code == "48100000-9"
    assert by_code["48100000-9"].parent_code == "48000000-8"


# --- suppliers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("SPECIALIST COMPUTER CENTRE", "specialist computer centre"),
        ("SCC (Specialist Computer Centre)", "scc specialist computer centre"),
        ("NINIAN SOLUTIONS LTD T/A HUDDLE", "huddle"),
        ("THE DEXTROUS WEB LTD TRADING AS DXW", "dxw"),
        ("CORE TECHNOLOGY SYSTEMS (UK) LTD TRADING AS CO", "core technology systems"),  # cut-short trading name
        ("Ernst & Young LLP", "ernst and young"),
        ("Capgemini Uk Plc", "capgemini"),
        ("ACCENTURE (U K) LTD", "accenture"),
        ("Insight Direct (UK) Ltd", "insight direct"),
        ("NCC Group (The)", "ncc group"),
        ("NCC GROUP PLC", "ncc group"),
        ("Tessella Ltd", "tessella"),
        ("Tessella plc", "tessella"),
        ("Datacenta Hosting Ltd.", "datacenta hosting"),
        ("Box Inc.", "box"),
        ("  Stationery   Office The ", "stationery office"),
        ("Limited", "limited"),  # never stripped to nothing
        ("", ""),
    ],
)
def test_supplier_name_key(name: str, key: str) -> None:
    assert supplier_name_key(name) == key
    assert supplier_name_key(key) == key


def test_supplier_name_key_keeps_different_companies_apart() -> None:
    assert supplier_name_key("MICROSOFT IRELAND OPERATIONS LTD") != supplier_name_key("Microsoft Ltd")
    assert supplier_name_key("QinetiQ") != supplier_name_key("QINETIQ COMMERCE DECISIONS LTD")


def test_scc_spellings_are_one_supplier(session: Session) -> None:
    scc = supplier_by_key(session, "specialist computer centre")
    assert scc.name == "Specialist Computer Centre"  # the commoner spelling, out of capitals
    assert scc.slug == "specialist-computer-centre"
    aliases = session.exec(select(SupplierAlias).where(SupplierAlias.supplier_id == scc.id)).all()
    assert {"SCC (Specialist Computer Centre)", "SCC"} <= {alias.alias for alias in aliases}
    spend = list(csv.DictReader((data_dir() / SPEND_FILE).open(encoding="utf-8")))
    spellings = {"SPECIALIST COMPUTER CENTRE", "SCC (Specialist Computer Centre)"}
    ids = {int(row["ID"]) for row in spend if row["SupplierName"] in spellings and row["Sector"] == "Local Government"}
    sold_by = session.exec(select(Sale.supplier_id).where(col(Sale.source_id).in_(ids))).all()
    assert len(sold_by) == len(ids) > 0
    assert set(sold_by) == {scc.id}


def test_supplier_names_and_aliases(session: Session) -> None:
    huddle = supplier_by_key(session, "huddle")
    assert huddle.name == "Ninian Solutions Ltd T/A Huddle"
    huddle_aliases = session.exec(select(SupplierAlias.alias_key).where(SupplierAlias.supplier_id == huddle.id)).all()
    assert "ninian solutions" in huddle_aliases
    assert supplier_by_key(session, "csc").name == "CSC"  # a short acronym stays in capitals
    assert supplier_by_key(session, "bjss").name == "BJSS Ltd"
    assert supplier_by_key(session, "ibm united kingdom").name == "IBM United Kingdom Ltd"
    assert supplier_by_key(session, "symantec").sme is False
    assert supplier_by_key(session, "jadu").sme is True
    assert supplier_by_key(session, "jadu").name == "Jadu Ltd"
    names = {row["SupplierName"] for row in csv.DictReader((data_dir() / SPEND_FILE).open(encoding="utf-8"))}
    suppliers = session.exec(select(Supplier).where(col(Supplier.is_demo).is_(False))).all()
    assert len(suppliers) < len(names)
    keys = {supplier.name_key for supplier in suppliers} | set(session.exec(select(SupplierAlias.alias_key)).all())
    assert {supplier_name_key(name) for name in names} <= keys  # every spelling finds its supplier
    slugs = [supplier.slug for supplier in suppliers]
    assert len(slugs) == len(set(slugs))
    assert all(slug.replace("-", "").isalnum() and slug == slug.lower() for slug in slugs)


# --- sales ---------------------------------------------------------------------------------------


def test_sales_to_councils(session: Session) -> None:
    sale = session.exec(select(Sale).where(Sale.source_id == 2)).one()
    assert sale.council_id == council(session, "OXF").id
    assert sale.customer_name == "Oxfordshire County Council"
    assert sale.supplier_id == supplier_by_key(session, "symantec").id
    assert sale.amount_pence == 3393936
    assert sale.month == date(2012, 4, 1)
    assert (sale.framework, sale.lot) == ("G-Cloud", "3")
    assert "MessageLabs" in sale.description


def test_sales_only_local_government(session: Session) -> None:
    rows = list(csv.DictReader((data_dir() / SPEND_FILE).open(encoding="utf-8")))
    local = [row for row in rows if row["Sector"] == "Local Government"]
    report = reimport(session)
    assert report.sales == count(session, Sale) == len(local) == 1022
    assert report.sales_to_councils == session.exec(select(func.count()).where(col(Sale.council_id).is_not(None))).one()
    assert report.sales_to_councils >= 900
    assert session.exec(select(Sale).where(Sale.source_id == 1)).first() is None  # central government
    tfl = session.exec(select(Sale).where(Sale.customer_name == "Transport for London")).all()
    assert tfl and all(sale.council_id is None for sale in tfl)  # kept, but TfL is not a council


def test_sale_matches_the_council_of_its_time(session: Session) -> None:
    sales = session.exec(select(Sale).where(Sale.customer_name == "Bournemouth Borough Council")).all()
    assert sales and {sale.council_id for sale in sales} == {council(session, "BMH").id}  # not BCP (2019)
    windsor = session.exec(select(Sale).where(Sale.customer_name == "The Royal Borough of Windsor and Maidenhead"))
    assert {sale.council_id for sale in windsor} == {council(session, "WNM").id}


# --- the import as a whole -----------------------------------------------------------------------


def test_import_is_idempotent(session: Session) -> None:
    before = snapshot(session)
    first = reimport(session)
    second = reimport(session)
    assert snapshot(session) == before
    assert first == second
    assert {name: len(rows) for name, rows in before.items()} == {
        "Council": first.councils,
        "CouncilDomain": first.domains,
        "Category": first.categories,
        "Supplier": first.suppliers,
        "SupplierAlias": first.aliases,
        "Sale": first.sales,
    }


def test_progress_reports_every_step(session: Session) -> None:
    calls: list[tuple[str, int, int]] = []
    import_reference_data(session, data_dir(), progress=lambda step, done, total: calls.append((step, done, total)))
    finished = {step: done for step, done, total in calls if done == total}
    assert list(finished) == ["councils", "domains", "categories", "suppliers", "sales"]
    assert all(0 <= done <= total for _step, done, total in calls)


def test_odd_spend_values_are_skipped(session: Session, tmp_path: Path) -> None:
    header = "ID,Framework,LotDescription,SupplierName,CustomerName,ReturnMonth,ProjectNameAndDescription,"
    header += "EvidencedSpend,Sector,SMEorLarge\n"
    rows = [
        "900001,G-Cloud,4,New Supplier Ltd,London Borough of Harrow Council,2014-01-01,Hosting,1234.565,"
        "Local Government,SME",
        "900002,G-Cloud,4,New Supplier Ltd,Kent County Council,2014-01-01,Hosting,,Local Government,SME",
        "900003,G-Cloud,4,New Supplier Ltd,Kent County Council,January,Hosting,10,Local Government,SME",
        "900004,G-Cloud,4,New Supplier Ltd,Cabinet Office,2014-01-01,Hosting,10,Central Government,SME",
    ]
    folder = linked_data_dir(tmp_path, **{SPEND_FILE: header + "\n".join(rows) + "\n"})
    report = reimport(session, folder)
    assert (report.sales, report.sales_to_councils, report.skipped_rows) == (1, 1, 2)
    sale = session.exec(select(Sale).where(Sale.source_id == 900001)).one()
    assert sale.amount_pence == 123457
    assert sale.council_id == council(session, "HRW").id
    assert session.exec(select(Sale).where(col(Sale.source_id).in_([900002, 900003, 900004]))).all() == []


def test_missing_data_dir(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match=COUNCILS_FILE):
        import_reference_data(Session(), tmp_path / "nowhere")  # fails before it needs a database


@pytest.mark.parametrize(
    ("name", "text"),
    [(DOMAINS_FILE, "{not json"), (COUNCILS_FILE, "local-authority-code,official-name\nHRW,Harrow\n")],
)
def test_unreadable_file_names_the_file(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(ReferenceDataError, match=name):
        import_reference_data(Session(), linked_data_dir(tmp_path, **{name: text}))
