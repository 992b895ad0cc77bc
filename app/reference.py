"""Import the real reference data: councils, their email domains, CPV categories, G-Cloud suppliers and sales.

The files and their licences are described in `shared/data/SOURCES.md`. The import is idempotent: every row
is upserted by its natural key (council code or GSS code, domain, CPV code, supplier name key, alias key,
G-Cloud row ID), nothing is deleted, and the whole import is one transaction.

Policies that live here:
- Council email domains are an allowlist for sign-in, so only exact domains are imported (never a wildcard
  such as `*.gov.uk`), only from `local_authority` records, and only when the council named in the record is
  found among the current councils, unambiguously; the domain of an abolished council goes to the one current
  council that replaced it (kettering.gov.uk to North Northamptonshire), never to several. Everything else is
  reported in `unmatched_domains`. A short, reviewed supplement covers current councils the file leaves out.
- A council whose register row has no GSS code (the 25 Northern Ireland districts abolished in 2015) cannot be
  stored, because `Council.gss_code` is the required public key; those rows are skipped and logged.
- Supplier names are spelled many ways in the spend data; `supplier_name_key` reduces each spelling to a key,
  and spellings whose keys are linked (through "X (Y)" or "X t/a Y") become one supplier with aliases.
"""

import csv
import json
import logging
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel, select

from app.models import Category, ContentStatus, Council, CouncilDomain, Sale, Supplier, SupplierAlias

logger = logging.getLogger(__name__)

COUNCILS_FILE = "uk_local_authorities.csv"
COUNCIL_NAMES_FILE = "lookup_name_to_registry.csv"
DOMAINS_FILE = "user_domains.json"
CPV_FILE = "cpv_en.json"
SPEND_FILE = "gcloud_spend_2012_2014.csv"
REQUIRED_FILES = (COUNCILS_FILE, COUNCIL_NAMES_FILE, DOMAINS_FILE, CPV_FILE, SPEND_FILE)

CPV_DIVISIONS = ("48", "72")
LOCAL_GOVERNMENT_SECTOR = "Local Government"

# Council names, as written in user_domains.json notes or the spend data, that the normalised-name join
# misses, each checked by hand against uk_local_authorities.csv and the domain it comes with.
COUNCIL_NAME_ALIASES: dict[str, str] = {
    "Bradford City": "BRD",  # bradford.gov.uk: City of Bradford Metropolitan District Council
    "Camden London Borough Council": "CMD",  # camden.gov.uk: London Borough of Camden
    "Lincoln City": "LIC",  # lincoln.gov.uk: City of Lincoln Council
    "Lisburn City & Castlereagh District": "LBC",  # lisburncastlereagh.gov.uk: Lisburn and Castlereagh City
    "Stratford-upon-Avon": "STR",  # stratford.gov.uk: Stratford-on-Avon District Council
    "Wakefield City": "WKF",  # wakefield.gov.uk: Wakefield Metropolitan District Council
    "Wiltshire Unitary": "WIL",  # wiltshire.gov.uk: Wiltshire Council
}

# Current councils that the GOV.UK domains file (2026-04) has no record for, with the domain their staff use.
# Only `.gov.uk` domains: that namespace is registered to public bodies alone, so an entry here can never hand
# sign-in to a private party. Used only for a council that has no domain from the file. Combined authorities
# whose staff use other domains are left out; admins add domains as councils ask.
COUNCIL_DOMAIN_SUPPLEMENT: dict[str, str] = {
    "BPC": "bcpcouncil.gov.uk",
    "CLK": "clacks.gov.uk",
    "ESK": "eastsuffolk.gov.uk",
    "FIF": "fife.gov.uk",
    "IOS": "scilly.gov.uk",
    "IOW": "iow.gov.uk",
    "KIR": "kirklees.gov.uk",
    "RDG": "reading.gov.uk",
    "SAL": "stalbans.gov.uk",
    "SHR": "shropshire.gov.uk",
    "NNT": "northnorthants.gov.uk",
    "GMCA": "greatermanchester-ca.gov.uk",
    "WYCA": "westyorks-ca.gov.uk",
    "TVCA": "teesvalley-ca.gov.uk",
    "WECA": "westofengland-ca.gov.uk",
    "CPCA": "cambridgeshirepeterborough-ca.gov.uk",
    "LCR": "liverpoolcityregion-ca.gov.uk",
}

_COUNCIL_COLUMNS = (
    "local-authority-code",
    "official-name",
    "nice-name",
    "gss-code",
    "start-date",
    "end-date",
    "replaced-by",
    "nation",
    "region",
    "local-authority-type",
    "local-authority-type-name",
    "current-authority",
)
_SPEND_COLUMNS = (
    "ID",
    "Framework",
    "LotDescription",
    "SupplierName",
    "CustomerName",
    "ReturnMonth",
    "ProjectNameAndDescription",
    "EvidencedSpend",
    "Sector",
    "SMEorLarge",
)

Progress = Callable[[str, int, int], None]


class ReferenceDataError(Exception):
    """A reference data file is missing or cannot be read; the message names the file."""


@dataclass
class ImportReport:
    councils: int
    current_councils: int
    domains: int
    councils_with_domain: int
    unmatched_domains: list[str]
    categories: int
    suppliers: int
    aliases: int
    sales: int
    sales_to_councils: int
    skipped_rows: int = 0  # spend rows with an unreadable ID, month or amount
    skipped_councils: list[str] = field(default_factory=list)  # register codes without a GSS code


def import_reference_data(session: Session, data_dir: Path, *, progress: Progress | None = None) -> ImportReport:
    """Upsert all reference data from `data_dir` and commit once; running it again changes nothing."""
    tick: Progress = progress or (lambda _step, _done, _total: None)
    data_dir = Path(data_dir)
    missing = [name for name in REQUIRED_FILES if not (data_dir / name).is_file()]
    if missing:
        raise ReferenceDataError(f"Reference data file(s) missing from {data_dir}: {', '.join(missing)}")

    # Read and check every file before writing anything, so a bad file leaves the database untouched.
    council_rows = _read_csv(data_dir / COUNCILS_FILE, _COUNCIL_COLUMNS)
    name_rows = _read_csv(data_dir / COUNCIL_NAMES_FILE, ("la-name", "local-authority-code"))
    domain_records = _read_domain_records(data_dir / DOMAINS_FILE)
    cpv_labels = _read_cpv(data_dir / CPV_FILE)
    spend_rows = _read_csv(data_dir / SPEND_FILE, _SPEND_COLUMNS)

    councils, skipped_councils = _import_councils(session, council_rows, tick)
    names = _council_name_index(council_rows, name_rows)
    periods = {row["local-authority-code"]: _council_period(row) for row in council_rows}
    domains, unmatched = _import_domains(session, domain_records, councils, names, tick)
    categories = _import_categories(session, cpv_labels, tick)
    suppliers, aliases = _import_suppliers(session, spend_rows, tick)
    sales, sales_to_councils, skipped_rows = _import_sales(
        session, spend_rows, suppliers, councils, names, periods, tick
    )
    current_ids = {council.id for council in councils.values() if council.current}
    report = ImportReport(
        councils=len(councils),
        current_councils=len(current_ids),
        domains=len(domains),
        councils_with_domain=len({domain.council_id for domain in domains} & current_ids),
        unmatched_domains=unmatched,
        categories=categories,
        suppliers=len({supplier.id for supplier in suppliers.values()}),
        aliases=aliases,
        sales=sales,
        sales_to_councils=sales_to_councils,
        skipped_rows=skipped_rows,
        skipped_councils=skipped_councils,
    )
    session.commit()  # counted first: the commit expires every row, and reading them again costs a query each
    return report


def _assign(row: SQLModel, values: dict[str, Any]) -> None:
    # Only changed values are set, so a second import writes nothing.
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


# --- reading the files ---------------------------------------------------------------------------


def _read_csv(path: Path, columns: Iterable[str]) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in columns if column not in (reader.fieldnames or [])]
            if missing:
                raise ReferenceDataError(f"{path.name}: missing column(s) {', '.join(missing)}")
            return [{key: (value or "").strip() for key, value in row.items() if key} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReferenceDataError(f"{path.name}: cannot be read ({exc})") from exc


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReferenceDataError(f"{path.name}: cannot be read ({exc})") from exc


def _read_domain_records(path: Path) -> list[dict[str, Any]]:
    data = _read_json(path)
    records = data.get("domains") if isinstance(data, dict) else None
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise ReferenceDataError(f"{path.name}: expected an object with a list of domain records")
    return records


def _read_cpv(path: Path) -> dict[str, str]:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{path.name}: expected an object of CPV code to label")
    return {str(code): str(label) for code, label in data.items()}


# --- councils ------------------------------------------------------------------------------------


def _import_councils(
    session: Session, rows: list[dict[str, str]], tick: Progress
) -> tuple[dict[str, Council], list[str]]:
    existing = session.exec(select(Council)).all()
    by_code = {council.code: council for council in existing}
    by_gss = {council.gss_code: council for council in existing}
    councils: dict[str, Council] = {}
    skipped: list[str] = []
    tick("councils", 0, len(rows))
    for row in rows:
        code, gss_code = row["local-authority-code"], row["gss-code"]
        if not code or not gss_code:
            skipped.append(code)
            continue
        values: dict[str, Any] = {
            "gss_code": gss_code,
            "code": code,
            "name": row["official-name"],
            "nice_name": row["nice-name"] or row["official-name"],
            "type_code": row["local-authority-type"],
            "type_name": row["local-authority-type-name"],
            "region": row["region"],
            "nation": row["nation"],
            "current": row["current-authority"].casefold() == "true",
            "replaced_by": row["replaced-by"] or None,
        }
        council = by_code.get(code) or by_gss.get(gss_code)
        if council is None:
            council = Council(**values)
            session.add(council)
        _assign(council, values)
        councils[code] = council
    if skipped:
        logger.info("%s: skipped %d councils without a GSS code: %s", COUNCILS_FILE, len(skipped), skipped)
    session.flush()
    tick("councils", len(rows), len(rows))
    return councils, skipped


def _council_name_key(name: str) -> str:
    """Normalise a council's name for matching: "London Borough of Harrow Council" -> "london of harrow"."""
    text = name.casefold().replace("&", " and ")
    text = re.sub(r"['’]", "", text)
    text = re.sub(r"[\W_]+", " ", text)
    text = re.sub(r"\bcity of\b", " ", text)
    words = [word for word in text.split() if word not in {"council", "borough", "district", "metropolitan"}]
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def _council_name_index(council_rows: list[dict[str, str]], name_rows: list[dict[str, str]]) -> dict[str, set[str]]:
    # `alt-names` is a comma-joined list whose names may hold commas themselves ("Armagh City, Banbridge
    # and Craigavon"), so splitting it yields wrong fragments ("Bournemouth" for BCP); the name lookup file
    # has the same names unsplit, so it is used instead.
    names: dict[str, set[str]] = defaultdict(set)
    pairs = [(row["official-name"], row["local-authority-code"]) for row in council_rows]
    pairs += [(row["nice-name"], row["local-authority-code"]) for row in council_rows]
    pairs += [(row["la-name"], row["local-authority-code"]) for row in name_rows]
    for name, code in pairs:
        key = _council_name_key(name)
        if key and code:
            names[key].add(code)
    for name, code in COUNCIL_NAME_ALIASES.items():
        names[_council_name_key(name)] = {code}
    return names


def _council_period(row: dict[str, str]) -> tuple[date | None, date | None]:
    return _parse_date(row["start-date"]), _parse_date(row["end-date"])


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


# --- council email domains -----------------------------------------------------------------------


def _domain_note_name(notes: str) -> str:
    # "Local authority: Adur", "Legacy local authority: Cumbria County Council (abolished ...)",
    # "Greater London Authority (GLA), established by ...": the name ends at the first bracket or dash.
    text = re.sub(r"^[\w ]*authority:\s*", "", notes.strip(), flags=re.IGNORECASE)
    return re.split(r"\s+\(|\s+[—–-]\s+", text, maxsplit=1)[0].strip()


def _import_domains(
    session: Session,
    records: list[dict[str, Any]],
    councils: dict[str, Council],
    names: dict[str, set[str]],
    tick: Progress,
) -> tuple[list[CouncilDomain], list[str]]:
    existing = {row.domain: row for row in session.exec(select(CouncilDomain)).all()}
    local = [record for record in records if record.get("organisation_type_id") == "local_authority"]
    imported: dict[str, CouncilDomain] = {}
    unmatched: list[str] = []
    tick("domains", 0, len(local))
    for record in local:
        domain = str(record.get("domain_pattern") or "").strip().lower()
        if not _is_exact_domain(domain):
            logger.warning("%s: ignored domain pattern %r", DOMAINS_FILE, domain)
            continue
        codes = names.get(_council_name_key(_domain_note_name(str(record.get("notes") or ""))), set())
        current = [councils[code] for code in sorted(codes) if code in councils and councils[code].current]
        if not current:
            # An abolished council's domain stays in use by its staff, who now work for the successor.
            current = _successors(codes, councils)
        if len(current) != 1 or domain in imported:
            unmatched.append(domain)
            continue
        council_id = current[0].id
        assert council_id is not None  # flushed by _import_councils
        row = existing.get(domain)
        if row is None:
            row = CouncilDomain(domain=domain, council_id=council_id)
            session.add(row)
        row.council_id = council_id
        imported[domain] = row
    session.flush()
    _import_domain_supplement(session, councils, imported)
    tick("domains", len(local), len(local))
    return list(imported.values()), sorted(unmatched)


def _successors(codes: set[str], councils: dict[str, Council]) -> list[Council]:
    """The current councils that replaced these (former) ones, following `replaced_by` through mergers."""
    found: dict[str, Council] = {}
    pending, seen = sorted(codes), set()
    while pending:
        code = pending.pop()
        council = councils.get(code)
        if council is None or code in seen:
            continue
        seen.add(code)
        if council.current:
            found[code] = council
        else:
            pending.extend(part.strip() for part in (council.replaced_by or "").split(",") if part.strip())
    return [found[code] for code in sorted(found)]


def _import_domain_supplement(
    session: Session, councils: dict[str, Council], imported: dict[str, CouncilDomain]
) -> None:
    """Add COUNCIL_DOMAIN_SUPPLEMENT for the councils the domains file leaves out."""
    have = {row.council_id for row in imported.values()}
    existing = {row.domain: row for row in session.exec(select(CouncilDomain)).all()}
    for code, domain in COUNCIL_DOMAIN_SUPPLEMENT.items():
        council = councils.get(code)
        if council is None or not council.current or council.id in have or domain in imported:
            continue
        assert council.id is not None
        row = existing.get(domain) or CouncilDomain(domain=domain, council_id=council.id)
        row.council_id = council.id
        session.add(row)
        imported[domain] = row
    session.flush()


def _is_exact_domain(domain: str) -> bool:
    return (
        "*" not in domain
        and domain not in {"gov.uk", "gov.scot", "gov.wales", "org", "com", "co.uk"}
        and re.fullmatch(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}", domain) is not None
    )


# --- CPV categories ------------------------------------------------------------------------------


def _cpv_parent_code(code: str, by_digits: dict[str, str]) -> str | None:
    # CPV is a hierarchy by trailing zeros: 48110000 sits under 48100000, which sits under 48000000.
    digits = code[:8]
    significant = digits.rstrip("0")
    for length in range(min(len(significant), 8) - 1, 1, -1):
        candidate = by_digits.get(significant[:length].ljust(8, "0"))
        if candidate is not None and candidate[:8] != digits:
            return candidate
    return None


def _import_categories(session: Session, labels: dict[str, str], tick: Progress) -> int:
    codes = sorted(code for code in labels if code.startswith(CPV_DIVISIONS))
    by_digits = {code[:8]: code for code in codes}
    existing = {row.code: row for row in session.exec(select(Category)).all()}
    tick("categories", 0, len(codes))
    for code in codes:
        values: dict[str, Any] = {
            "code": code,
            "label": labels[code][:300],
            "parent_code": _cpv_parent_code(code, by_digits),
        }
        row = existing.get(code)
        if row is None:
            row = Category(**values)
            session.add(row)
        _assign(row, values)
    session.flush()
    tick("categories", len(codes), len(codes))
    return len(codes)


# --- suppliers -----------------------------------------------------------------------------------

_LEGAL_WORDS = frozenset({"ltd", "limited", "plc", "llp", "lp", "inc", "incorporated", "gmbh", "bv", "spa", "ua"})
_QUALIFIER_KEYS = frozenset({"", "uk", "u k", "gb"})  # "(UK)", "(U K)", "(The)": not another name
_TRADING_AS = re.compile(r"\s+(?:t/a|trading\s+as)\s+", re.IGNORECASE)
_PARENTHESES = re.compile(r"\(([^()]*)\)")
_ACRONYM_FILLERS = frozenset({"and", "of", "for"})


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text).casefold().replace("&", " and ")
    text = re.sub(r"['’]", "", text)
    return re.sub(r"[\W_]+", " ", text).split()


def _plain_key(text: str) -> str:
    words = [word for word in _words(text) if word != "the"]
    while len(words) > 1:
        if words[-1] in _LEGAL_WORDS or words[-1] == "uk":
            words.pop()
        elif len(words) > 2 and words[-2:] == ["u", "k"]:
            del words[-2:]
        else:
            break
    return " ".join(words)


def _drop_qualifiers(name: str) -> str:
    return _PARENTHESES.sub(lambda m: " " if _plain_key(m.group(1)) in _QUALIFIER_KEYS else m.group(0), name)


def _split_trading_as(name: str) -> tuple[str, str | None]:
    parts = _TRADING_AS.split(name, maxsplit=1)
    if len(parts) == 2 and len(_plain_key(_drop_qualifiers(parts[1]))) >= 3:
        return parts[0], parts[1]
    # A trading name cut short by the source ("... TRADING AS CO") names nothing: key on the legal name.
    return parts[0], None


def supplier_name_key(name: str) -> str:
    """Normalise a supplier's name: casefold, `&` to "and", no punctuation or legal suffix; "X t/a Y" keys on Y."""
    legal, trading = _split_trading_as(name)
    return _plain_key(_drop_qualifiers(trading if trading is not None else legal))


def _is_acronym(short: str, long: str) -> bool:
    initials = "".join(word[0] for word in long.split() if word not in _ACRONYM_FILLERS)
    return " " not in short and len(short) >= 2 and short == initials


def _supplier_name_variants(name: str) -> list[tuple[str, str]]:
    # Each (text, key) a name is known by: itself, both sides of "t/a", and "X (Y)" as X and as Y.
    variants = [(name.strip(), supplier_name_key(name))]
    legal, trading = _split_trading_as(name)
    if trading is not None:
        variants.append((legal.strip(), _plain_key(_drop_qualifiers(legal))))
        variants.append((trading.strip(), supplier_name_key(trading)))
    match = re.fullmatch(r"\s*(.+?)\s*\(([^()]+)\)(.*)", _drop_qualifiers(trading or legal))
    if match and all(word in _LEGAL_WORDS or word == "uk" for word in _words(match.group(3))):
        outside, inside = match.group(1).strip(), match.group(2).strip()
        outside_key, inside_key = _plain_key(outside), _plain_key(inside)
        # Only a distinctive side names the supplier: "Affinity Digital (Tech)" is not a supplier called Tech.
        if " " in outside_key or _is_acronym(outside_key, inside_key):
            variants.append((outside, outside_key))
        if " " in inside_key or _is_acronym(inside_key, outside_key):
            variants.append((inside, inside_key))
    return [(text, key) for text, key in variants if key]


def _group_supplier_names(names: Iterable[str]) -> list[list[str]]:
    """Group spellings of supplier names that share a key or variant key (union-find over the keys)."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    spellings = sorted({name.strip() for name in names if supplier_name_key(name)})
    for name in spellings:
        keys = [key for _text, key in _supplier_name_variants(name)]
        for key in keys[1:]:
            parent[find(key)] = find(keys[0])
    groups: dict[str, list[str]] = defaultdict(list)
    for name in spellings:
        groups[find(supplier_name_key(name))].append(name)
    return sorted(groups.values())


_LOWER_WORDS = frozenset({"and", "of", "for", "as", "the", "in", "on", "at", "to", "by", "plc"})
_SHORT_WORDS = frozenset({"ltd", "inc", "big", "web", "new", "one", "two", "net", "box", "hub", "pro", "sky", "red"})


def _display_name(name: str) -> str:
    """A readable name: ALL CAPS becomes title case, keeping acronyms such as SCC, BT, IBM and BJSS."""
    if name != name.upper() or not any(char.isalpha() for char in name):
        return name
    words: list[str] = []
    for index, token in enumerate(name.split()):
        core = re.sub(r"[^a-z0-9]", "", token.lower())
        if any(char.isdigit() for char in core):
            words.append(token)
        elif index > 0 and core in _LOWER_WORDS:
            words.append(token.lower())
        elif core in _SHORT_WORDS or core in _LOWER_WORDS or (len(core) > 3 and re.search("[aeiouy]", core)):
            words.append(re.sub(r"[A-Z]+", lambda m: m.group(0).capitalize(), token))
        else:
            words.append(token)  # an acronym
    return " ".join(words)


def _slugify(text: str) -> str:
    """A URL-safe slug: "SCC (Specialist Computer Centre)" -> "scc-specialist-computer-centre"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower().replace("&", " and ")).strip("-")
    return slug[:100].rstrip("-") or "supplier"


def _import_suppliers(
    session: Session, spend_rows: list[dict[str, str]], tick: Progress
) -> tuple[dict[str, Supplier], int]:
    counts = Counter(row["SupplierName"] for row in spend_rows if row["SupplierName"])
    sizes: dict[str, Counter[str]] = defaultdict(Counter)
    for row in spend_rows:
        sizes[row["SupplierName"]][row["SMEorLarge"].casefold()] += 1
    groups = _group_supplier_names(counts)

    existing = session.exec(select(Supplier)).all()
    by_key = {supplier.name_key: supplier for supplier in existing}
    slugs = {supplier.slug for supplier in existing}
    by_spelling: dict[str, Supplier] = {}
    wanted_aliases: list[tuple[Supplier, str, str]] = []
    tick("suppliers", 0, len(groups))
    for done, group in enumerate(groups, start=1):
        # The most frequent spelling names the supplier; ties go to one not in capitals, then alphabetically.
        chosen = min(group, key=lambda spelling: (-counts[spelling], spelling == spelling.upper(), spelling))
        key = supplier_name_key(chosen)
        size = sum((sizes[spelling] for spelling in group), Counter[str]()).most_common(1)[0][0]
        values: dict[str, Any] = {"name": _display_name(chosen)[:200], "sme": {"sme": True, "large": False}.get(size)}
        supplier = by_key.get(key)
        if supplier is None:
            # Imported suppliers are published; an existing one keeps its slug, status and description.
            slug = _unique_slug(_slugify(values["name"]), slugs)
            supplier = Supplier(slug=slug, name_key=key, status=ContentStatus.published, is_demo=False, **values)
            session.add(supplier)
            by_key[key] = supplier
        _assign(supplier, values)
        for spelling in sorted(group, key=lambda spelling: (-counts[spelling], spelling)):
            by_spelling[spelling] = supplier
            wanted_aliases += [(supplier, text, alias_key) for text, alias_key in _supplier_name_variants(spelling)]
        if done % 50 == 0:
            tick("suppliers", done, len(groups))
    session.flush()
    aliases = _import_aliases(session, wanted_aliases, by_key)
    tick("suppliers", len(groups), len(groups))
    return by_spelling, aliases


def _import_aliases(session: Session, wanted: list[tuple[Supplier, str, str]], by_key: dict[str, Supplier]) -> int:
    existing = {alias.alias_key: alias for alias in session.exec(select(SupplierAlias)).all()}
    seen: set[str] = set()
    for supplier, text, alias_key in wanted:
        owner = by_key.get(alias_key)
        if (
            alias_key in seen
            or (owner is not None and owner is not supplier)
            or text.casefold() == supplier.name.casefold()
        ):
            continue  # one alias per key, never another supplier's own key, never the name itself
        seen.add(alias_key)
        assert supplier.id is not None  # flushed by the caller
        values: dict[str, Any] = {"supplier_id": supplier.id, "alias": text[:200], "alias_key": alias_key}
        alias = existing.get(alias_key)
        if alias is None:
            alias = SupplierAlias(**values)
            session.add(alias)
        _assign(alias, values)
    session.flush()
    return len(seen)


def _unique_slug(base: str, taken: set[str]) -> str:
    slug, number = base, 2
    while slug in taken:
        slug = f"{base[:110]}-{number}"
        number += 1
    taken.add(slug)
    return slug


# --- sales ---------------------------------------------------------------------------------------


def _parse_pence(text: str) -> int | None:
    try:
        amount = Decimal(text.replace("£", "").replace(",", "").strip())
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _match_council(
    name: str,
    month: date,
    councils: dict[str, Council],
    names: dict[str, set[str]],
    periods: dict[str, tuple[date | None, date | None]],
) -> Council | None:
    codes = sorted(code for code in names.get(_council_name_key(name), set()) if code in councils)
    if len(codes) > 1:
        # "Bournemouth Borough Council" in 2013 is the borough that existed then, not its 2019 successor.
        codes = [code for code in codes if _existed(periods[code], month)]
    return councils[codes[0]] if len(codes) == 1 else None


def _existed(period: tuple[date | None, date | None], month: date) -> bool:
    start, end = period
    return (start is None or start <= month) and (end is None or month <= end)


def _import_sales(
    session: Session,
    spend_rows: list[dict[str, str]],
    suppliers: dict[str, Supplier],
    councils: dict[str, Council],
    names: dict[str, set[str]],
    periods: dict[str, tuple[date | None, date | None]],
    tick: Progress,
) -> tuple[int, int, int]:
    rows = [row for row in spend_rows if row["Sector"] == LOCAL_GOVERNMENT_SECTOR]
    existing = {sale.source_id: sale for sale in session.exec(select(Sale)).all()}
    seen: set[int] = set()
    to_councils = skipped = 0
    tick("sales", 0, len(rows))
    for done, row in enumerate(rows, start=1):
        month = _parse_date(row["ReturnMonth"])
        pence = _parse_pence(row["EvidencedSpend"])
        supplier = suppliers.get(row["SupplierName"])
        source_id = int(row["ID"]) if row["ID"].isdigit() else None
        if source_id is None or source_id in seen or month is None or pence is None or supplier is None:
            skipped += 1
            continue
        seen.add(source_id)
        council = _match_council(row["CustomerName"], month, councils, names, periods)
        if council is not None:
            to_councils += 1
        values: dict[str, Any] = {
            "source_id": source_id,
            "supplier_id": supplier.id,
            "council_id": council.id if council is not None else None,
            "customer_name": row["CustomerName"][:200],
            "month": month.replace(day=1),
            "description": row["ProjectNameAndDescription"],
            "amount_pence": pence,
            "framework": row["Framework"][:40],
            "lot": row["LotDescription"][:40],
        }
        sale = existing.get(source_id)
        if sale is None:
            sale = Sale(**values)
            session.add(sale)
        _assign(sale, values)
        if done % 200 == 0:
            tick("sales", done, len(rows))
    if skipped:
        logger.warning(
            "%s: skipped %d local government rows with an unreadable ID, month or amount", SPEND_FILE, skipped
        )
    session.flush()
    tick("sales", len(rows), len(rows))
    return len(seen), to_councils, skipped
