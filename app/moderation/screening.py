"""Offline screening of free text at submission (`design/moderation.md`, DET-0 to DET-7 in the research).

Policy:

- Every review, pilot and reply is screened, for every author. Nothing here touches the network: the detectors are
  regular expressions compiled at import, `phonenumbers` (which ships its own metadata) and word lists in this file.
- A finding is a `Hit`: the form field, the detector, a category (personal data, commercial confidentiality, legal
  risk), a severity, the exact character span and plain-English advice for the author. The span is the matched
  text itself, so the form and the queue can highlight it and a moderator can redact it.
- Screening errs towards asking a moderator. A false alarm costs a moderator a minute; a published name, price or
  allegation can cost a person their privacy or the council a legal claim.
- Names of suppliers, products and councils come from the database (`load_allowlist`) so that "Smith Digital" or
  "Amber Valley" are not taken for people. An honorific ("Mr Preston") always marks a person, whatever the list says.
- An allegation word (fraud, lied, bribe...) in the same sentence as a person (a name, or a role such as "the
  account manager") is critical: it can defame someone and needs two moderators.
- One detector never reports overlapping spans. Where two detectors find the same thing, the more specific one
  wins: a unit price over the money inside it, a contract reference over digits that look like a phone number, an
  honorific name over the name inside it.
- Matched text is never logged (DET-8): this module does not log at all.
"""

import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import func, literal, select, union_all
from sqlmodel import Session, col

from app.models import Council, Product, Severity, Supplier, SupplierAlias

PERSONAL_DATA = "personal_data"
COMMERCIAL = "commercial_confidentiality"
LEGAL_RISK = "legal_risk"
CATEGORY_LABELS = {
    PERSONAL_DATA: "Personal data",
    COMMERCIAL: "Commercial confidentiality",
    LEGAL_RISK: "Legal risk",
    # Categories of the admins' watched terms (`watched.py`).
    "crime_allegation": "Alleged crime",
    "confidentiality": "Confidentiality",
    "protective_marking": "Protective marking",
    "profanity": "Profanity",
    "watched_term": "Watched term",
}

SEVERITY_ORDER = (Severity.low, Severity.medium, Severity.high, Severity.critical)

MESSAGES = {
    "email": "This looks like an email address. Remove it: reviews must not include anyone's contact details.",
    "uk_phone": "This looks like a phone number. Remove it: reviews must not include anyone's contact details.",
    "honorific_name": (
        "This looks like a person's name. Remove it or describe their role instead, for example 'the account manager'."
    ),
    "name_pair": (
        "This might be a person's name. If it is, remove it or describe their role instead, for example "
        "'the project manager'."
    ),
    "money": "This looks like an amount of money. Remove it unless the supplier has already published it.",
    "unit_price": "This looks like a price. Remove it unless it is already published.",
    "discount": "This looks like a discount. Remove it unless the supplier has published it.",
    "contract_reference": (
        "This looks like a contract or tender reference. Check that the review does not share confidential terms."
    ),
    "confidentiality_marker": (
        "This suggests the information is confidential. Do not share anything covered by a non-disclosure "
        "agreement or a security marking."
    ),
    "allegation": (
        "This word could be read as an accusation of wrongdoing. Describe what happened and how it affected your "
        "council instead."
    ),
    "allegation_about_person": (
        "This sentence could be read as accusing a person of wrongdoing. Remove it, or describe what happened "
        "without naming anyone or their role. Two moderators must check it before it can be published."
    ),
    # Terms on the admins' watched list (`watched.py`), by their action.
    "watched_term": (
        "This word or phrase is on the moderators' watched list. A moderator will read it before it is published."
    ),
    "watched_term_flag": "This word or phrase is on the moderators' watched list. A moderator will look at it.",
    "watched_term_block": (
        "This word or phrase cannot be published. Remove it: a contribution that contains it is not accepted."
    ),
}


@dataclass(frozen=True)
class Hit:
    """Something screening found in one field, with its exact span and advice for the author."""

    field: str
    detector: str
    category: str
    severity: Severity
    start: int
    end: int
    message: str


@dataclass(frozen=True)
class Allowlist:
    """Casefolded supplier, product and council names, their word pairs and the words that are not given names."""

    names: frozenset[str]

    @classmethod
    def build(cls, names: Iterable[str]) -> "Allowlist":
        """An allowlist from display names: each whole name, each pair of adjacent words and each word.

        A word that is a common given name is only kept as part of a longer name, so that a supplier called
        "Harvey Nash" does not stop "Harvey Smith" being flagged.
        """
        entries: set[str] = set()
        for name in names:
            words = [word.casefold() for word in _WORD.findall(name or "")]
            if not words:
                continue
            entries.add(" ".join(words))
            entries.update(f"{first} {second}" for first, second in zip(words, words[1:], strict=False))
            entries.update(word for word in words if not _is_given_name(word))
        return cls(names=frozenset(entries))

    def __contains__(self, key: object) -> bool:
        return key in self.names


# --- word lists ----------------------------------------------------------------------------------------------------

# Given names that are also ordinary words: not taken as a name at the start of a sentence ("Will it scale?").
ORDINARY_WORD_NAMES = frozenset(
    """
    amber bill bob carol dale dawn dean faith frank glen grace heather holly hope iris ivy jack jade jay jean
    joy kim lily mark mason max miles norman pat penny rob robin rose ruby sam sandy sue summer will
    willow
    """.split()
)

# Common given names in the UK, across generations and communities (ONS baby names, census-era lists). Casefolded.
FIRST_NAMES = (
    frozenset(
        """
    aaron abbie abdul abigail adam adrian agnes ahmed aidan aisha alan albert alex alexander alexandra alfie alfred
    ali alice alison amanda amber amelia amir amy andrea andrew andy angela anita ann anna anne annie anthony antonio
    archie arthur ashley aston audrey barbara barry beatrice becky ben benjamin bernard beth bethany betty beverley
    bill billy bob bobby brandon brenda brian bridget bruce bryony callum cameron carl carol caroline carolyn carys
    catherine charles charlie charlotte chelsea cheryl chloe chris christian christina christine christopher claire
    clare colin connor conor craig daisy dale damian daniel danielle danny darren dave david dawn dean debbie deborah
    declan denise dennis derek diana diane dominic donald donna doreen dorothy douglas duncan dylan eddie edith edward
    eileen elaine eleanor elizabeth ella ellie elliot elsie emily emma eric erin ethan eva evelyn evie faith farah
    fatima felicity fiona florence frances francesca francis frank freddie frederick freya gail gareth gary gavin
    gemma geoffrey george georgia geraldine gerald gillian gina glen glenn gordon grace graham greg gregory gwen
    hannah harriet harrison harry harvey hassan hayley heather helen henry holly hugh hussain ian imogen imran iris
    isaac isabel isabella isabelle isla ivy jack jackie jacob jade james jamie jan jane janet janice jasmine jason
    jay jayne jean jeff jeffrey jennifer jenny jeremy jessica jill jim jimmy joan joanna joanne jodie joe joel john
    jon jonathan jordan joseph josephine josh joshua joyce judith judy julia julian julie justin kaitlyn karen
    kate katherine kathleen kathryn katie kayleigh keith kelly kenneth kerry kevin kieran kim kirsty kyle laura
    lauren lee leah leo leon leslie lewis liam lily linda lindsay lisa lloyd logan lola louis louise lucy luke lydia
    lynn lynne maisie malcolm mandy margaret maria marie marion mark martin martyn mary mason matilda matt matthew
    maureen max megan melanie melissa mia michael michelle mike millie miriam mohammed mohammad mohamed molly
    muhammad nadia naomi natalie natasha nathan neil niall nicholas nicola nicole nigel nina noah norman oliver
    olivia omar oscar owen paige pamela patricia patrick paul paula pauline peter philip phillip phoebe pippa
    poppy priya rachel rachael rebecca reece rhys richard rita rob robert robin robyn roger ronald rose rosie ross
    roy ruby rupert russell ruth ryan sadie sally sam samantha samuel sandra sara sarah scarlett scott sean seren
    shane sharon sheila shirley sian simon sioned sonia sophia sophie stacey stanley stella stephanie stephen
    steve steven stewart stuart sue susan suzanne sylvia tanya tara teresa terry theo theodore thomas tim timothy
    tina toby tom tommy tony tracey tracy trevor valerie vanessa vera veronica vicky victoria vincent violet
    wayne wendy william willow yasmin yusuf zac zara zoe zoë siân seán aoife ciara niamh siobhan eilidh ailsa
    rhiannon ffion cerys dafydd gethin iwan osian angharad bronwen catrin deepak rajesh sanjay sunil anil ravi
    arjun rohan amit vikram neha pooja anjali sunita kiran harpreet gurpreet manpreet jaspreet simran sukhwinder
    asif bilal faisal hamza imran khalid tariq usman zain ayesha hina sana shazia saima nasreen rukhsana farzana
    kwame kofi ama chidi emeka ngozi chinedu tunde ade funmilayo oluwaseun piotr tomasz katarzyna agnieszka marta
    magdalena krzysztof pawel andrzej ewa anna-maria jean-paul mary-jane
    """.split()
    )
    | ORDINARY_WORD_NAMES
)

# Capitalised words that follow a given name without making it a person: "Grace Period", "Victoria Station".
NOT_SURNAMES = frozenset(
    """
    a an and as at but by for from if in into is it its of on or so than that the their then there these they
    this to was we were what when where which who will with you your i
    ltd limited plc llp inc group uk services service systems solutions software digital technology technologies
    consulting consultancy partners partnership online cloud portal platform app apps hub suite council councils
    borough district county city town parish authority team teams department office board committee project
    programme street road lane avenue way house hall centre center park square station hospital school college
    university library bank holiday day days week weeks month months year years monday tuesday wednesday thursday
    friday saturday sunday january february march april may june july august september october november december
    period line bridge court gardens green close place
    """.split()
)

HONORIFICS = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Cllr", "Councillor", "Sir", "Dame", "Lord", "Lady")

# Roles that point at a person, for the person-plus-allegation check only.
ROLE_NOUNS = (
    r"(?:account|project|programme|sales|delivery|service|product|operations|general|managing|technical|"
    r"commercial)?[ \t-]*(?:manager|director)s?|consultants?|officers?|CEOs?|CTOs?|CFOs?|COOs?|"
    r"chief[ \t]+executives?|sales(?:person|people|man|men|woman|women)|founders?|owners?|chairman|chairwoman"
)

ALLEGATION_WORDS = (
    "fraud frauds fraudulent fraudulently fraudster fraudsters corrupt corrupted corruptly corruption criminal "
    "criminals criminally criminality illegal illegally illegality unlawful unlawfully lied liar liars lying bribe "
    "bribes bribed bribing bribery scam scams scammed scammer scammers scamming theft thefts thief thieves stole "
    "stolen stealing dishonest dishonestly dishonesty cheat cheats cheated cheating cheater cheaters kickback "
    "kickbacks backhander backhanders embezzle embezzled embezzlement embezzling embezzler launder laundered "
    "laundering extort extorted extortion blackmail blackmailed deceit deceitful deceive deceived deceiving "
    "deception misled mis-sold missold mis-selling collusion colluded colluding bid-rigging crook crooks"
).split()


# --- patterns ------------------------------------------------------------------------------------------------------

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
# A capitalised word: "Smith", "McDonald", "O'Brien", "Smith-Jones", "Siân".
_CAPWORD_SOURCE = (
    rf"[{_UPPER}](?:[{_LOWER}]+|'[{_UPPER}][{_LOWER}]+)(?:[{_UPPER}][{_LOWER}]+)?(?:-[{_UPPER}][{_LOWER}]+)?"
)
_CAPWORD = re.compile(rf"(?<![\w'’-]){_CAPWORD_SOURCE}(?!\w)")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_GAP = re.compile(r"[ \t\u00a0]+")

_EMAIL = re.compile(r"(?i)(?<![\w.+-])[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?![\w-])")

# Possible UK numbers that libphonenumber does not call valid (Ofcom's drama ranges, "+44 (0)7700 900123").
_UK_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)[ \t]?44[ \t]?(?:\(0\)[ \t]?)?\(?|\(?0)[1-9](?:[ \t\-()]{0,2}\d){8,9}(?!\d)"
)
# Runs of 7 or more digits: PhoneNumberMatcher only looks at these (and a character either side), which is much
# faster than letting it scan the whole text.
_PHONE_CANDIDATE = re.compile(r"\+?\(?\d(?:[ \t\-().]{0,3}\d){6,}")
_HAS_DIGIT = re.compile(r"\d")

_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
_MAGNITUDE = r"(?:[kKmM]|bn|(?i:million|billion|thousand))"
_CURRENCY_WORD = r"(?i:pounds?|quid|euros?|dollars?|pence|GBP|EUR|USD)"
_COUNTED = (
    r"users|people|residents|customers|citizens|staff|employees|records|rows|visits|visitors|calls|requests|"
    r"downloads|pages|transactions|emails|items|devices|tickets|files|documents|accounts|lines|hits|views|"
    r"sessions|members|cases|contacts|enquiries|forms|applications|households|properties|pupils|words|miles|km"
)
_MONEY_SOURCE = (
    rf"(?:(?:£|€|(?:US|A|C)?\$)[ \t]?|\b(?i:GBP|EUR|USD)[ \t]?){_NUMBER}(?:[ \t]?{_MAGNITUDE}\b)?"
    rf"|\b{_NUMBER}[ \t]?(?:{_MAGNITUDE}[ \t]?)?{_CURRENCY_WORD}\b"
    rf"|(?<![\w.,£€$]){_NUMBER}k\b(?![ \t]+(?i:{_COUNTED})\b)"
    r"|\b\d{1,2}(?:\.\d+)?p\b"
)
# The lookahead lets the engine skip most positions at once; without it every alternative is tried everywhere.
_MONEY = re.compile(rf"(?=[\d£€$GgEeUuAC])(?:{_MONEY_SOURCE})")

_UNIT = (
    r"(?:user|seat|licen[cs]e|device|endpoint|mailbox|month|annum|year|week|day|hour|head|resident|property|"
    r"household|unit|site|school|server|core|instance|transaction|call|minute|page|employee|member|person|pupil|"
    r"module|case|record|document|message|sms|text|letter|gb|tb)s?"
)
_PER_UNIT = (
    rf"(?:(?:per|a|an|each|every)[ \t]+(?:[a-z-]+[ \t]+)?{_UNIT}\b|/[ \t]?{_UNIT}\b|p\.a\.|(?:pa|pcm|pupm|pppm)\b)"
)
_VAT = r"(?:[ \t]*\(?(?:\+|plus|ex\.?|exc\.?|excl\.?|excluding|inc\.?|incl\.?|including)[ \t]*VAT\)?)?"
# What turns an amount into a unit price, matched straight after it: "£12 per user per month", "£450 a day".
_UNIT_PRICE_TAIL = re.compile(rf"{_VAT}[ \t]*(?i:{_PER_UNIT}(?:[ \t]*{_PER_UNIT})*)")

_PERCENT = r"\d{1,3}(?:\.\d+)?[ \t]?(?:%|per[ \t]?cent\b|pc\b)"
_DISCOUNT = re.compile(
    rf"(?i)\b{_PERCENT}[ \t]+(?:off\b|(?:[a-z-]+[ \t]+){{0,2}}?(?:discount(?:s|ed)?|rebate)\b)"
    rf"|\b(?:discount(?:s|ed)?|rebate)[ \t]*(?:(?:[a-z-]+[ \t]+){{0,3}}?(?:of|by|at)[ \t]+|[:=][ \t]*){_PERCENT}"
)

_CONTRACT_REFERENCE = re.compile(
    r"(?=[\dRCcTtOoPp])(?:"
    r"\bRM[ \t]?\d{4}(?:\.\d{1,3})?\b"  # Crown Commercial Service frameworks: RM6098, RM1557.13
    r"|\b20\d{2}/S[ \t]?\d{3}-\d{6}\b"  # Find a Tender and OJEU notices: 2024/S 000-012345
    r"|\b\d{6}-20\d{2}\b"  # Find a Tender notices since 2021: 012345-2024
    r"|(?i:\btender_\d{3,}\b|\bCF-\d{3,}\b|\bocds-[a-z0-9]{6}-[\w-]+)"  # Contracts Finder
    r"|\bPO[ \t]?\d{6,}\b"  # purchase orders
    r"|(?i:\b(?:contract|tender|purchase[ \t]order|PO|call[ \t-]off|order)[ \t]+"
    r"(?:no\.?|number|ref(?:erence)?\.?|id)[ \t]*[:#]?[ \t]*)(?P<reference>[A-Za-z0-9][\w/-]*\d[\w/-]*)"
    r")"
)

_CONFIDENTIALITY_MARKER = re.compile(
    r"(?=[CcNnOoIi])(?:"
    r"(?i:\bcommercial(?:ly)?[ \t]+in[ \t]+confidence\b|\bcommercially[ \t]+(?:confidential|sensitive)\b"
    r"|\bnon[ \t-]?disclosure\b|\bnot[ \t]+for[ \t]+(?:disclosure|publication|circulation|distribution)\b"
    r"|\bofficial-sensitive\b|\bconfidential(?:ity)?\b|\bin[ \t]+confidence\b)"
    r"|\bOFFICIAL[ \t]SENSITIVE\b|\bNDAs?\b"
    r")"
)

# Words are looked up in a set, which is several times faster than one long alternation.
_ALLEGATION_SET = frozenset(ALLEGATION_WORDS)
_PLAIN_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_WORD_PART = re.compile(r"[^\W\d_]+")
# Ordinary technical and council uses of allegation words: "data corruption", "counter-fraud team", "cheat sheet".
_CORRUPT_DATA = re.compile(
    r"(?i)\b(?:data|file|files|database|databases|backup|backups|disk|drive|index|image|images|upload|uploads|"
    r"download|downloads|cache|memory|pdf|spreadsheet|export|import)\b"
)
_ILLEGAL_INPUT = re.compile(r"(?i)^[ \t]+(?:characters?|operations?|instructions?|arguments?|values?|state)\b")
_COUNTER_FRAUD_BEFORE = re.compile(r"(?i)\b(?:counter|anti)[ \t-]?$")
_COUNTER_FRAUD_AFTER = re.compile(
    r"(?i)^[ \t-]+(?:detection|prevention|team|teams|investigation|investigations|investigator|investigators|"
    r"module|system|software|analytics|initiative|risk|management|check|checks|service|services|hub|tool|tools|"
    r"solution|awareness|training|alert|alerts|officer|officers|unit)\b"
)
_CHEAT_SHEET = re.compile(r"(?i)^[ \t-]+sheets?\b")

_HONORIFIC_NAME = re.compile(
    rf"\b(?:{'|'.join(HONORIFICS)})\.?[ \t]+(?P<first>{_CAPWORD_SOURCE})(?:[ \t]+(?P<second>{_CAPWORD_SOURCE}))?"
    r"(?!\w)"
)
_ROLE = re.compile(rf"(?i)\b(?:{ROLE_NOUNS})\b")

# A sentence ends at . ! or ? followed by a space, or at a line break.
_SENTENCE_END = re.compile(r"[.!?]+[\"'’”)\]]*(?=\s)|\n")
_ABBREVIATIONS = frozenset(
    {h.casefold() for h in HONORIFICS} | {"st", "eg", "e.g", "ie", "i.e", "vs", "approx", "cf", "nb"}
)


# --- screening -----------------------------------------------------------------------------------------------------

_CATEGORY = {
    "email": PERSONAL_DATA,
    "uk_phone": PERSONAL_DATA,
    "honorific_name": PERSONAL_DATA,
    "name_pair": PERSONAL_DATA,
    "money": COMMERCIAL,
    "unit_price": COMMERCIAL,
    "discount": COMMERCIAL,
    "contract_reference": COMMERCIAL,
    "confidentiality_marker": COMMERCIAL,
    "allegation": LEGAL_RISK,
    "allegation_about_person": LEGAL_RISK,
}

_Found = tuple[str, Severity, int, int]


def screen_text(text: str, *, field: str, allowlist: Allowlist) -> list[Hit]:
    """Everything the detectors find in one field's text, in order of position."""
    if not text or not text.strip():
        return []
    found: list[_Found] = []
    found += _emails(text)
    found += _phones(text)
    people = _honorific_names(text, allowlist)
    people += [span for span in _name_pairs(text, allowlist) if not _overlaps_any(span, people)]
    found += people
    found += _commercial(text)
    allegations = _allegations(text)
    found += allegations
    found += _allegations_about_people(text, allegations, people)
    hits = [
        Hit(
            field=field,
            detector=detector,
            category=_CATEGORY[detector],
            severity=severity,
            start=start,
            end=end,
            message=MESSAGES[detector],
        )
        for detector, severity, start, end in _without_overlaps(found)
    ]
    return sorted(hits, key=lambda hit: (hit.start, hit.end, hit.detector))


def screen_fields(fields: Mapping[str, str | None], *, allowlist: Allowlist) -> list[Hit]:
    """Screen each non-empty field; hits come in the order of the fields, then by position."""
    hits: list[Hit] = []
    for name, text in fields.items():
        if text:
            hits += screen_text(text, field=name, allowlist=allowlist)
    return hits


def highest_severity(hits: Sequence[Hit]) -> Severity | None:
    """The most serious severity among the hits, or None when there are none."""
    if not hits:
        return None
    return max((hit.severity for hit in hits), key=SEVERITY_ORDER.index)


def _emails(text: str) -> list[_Found]:
    if "@" not in text:
        return []
    return [("email", Severity.high, m.start(), m.end()) for m in _EMAIL.finditer(text)]


def _phones(text: str) -> list[_Found]:
    candidates = list(_PHONE_CANDIDATE.finditer(text))
    if not candidates:
        return []
    found: list[_Found] = [("uk_phone", Severity.high, m.start(), m.end()) for m in _UK_PHONE.finditer(text)]
    for candidate in candidates:
        start, end = max(0, candidate.start() - 1), min(len(text), candidate.end() + 1)
        found += [
            ("uk_phone", Severity.high, start + m.start, start + m.end)
            for m in phonenumbers.PhoneNumberMatcher(text[start:end], "GB")
        ]
    return found


def _honorific_names(text: str, allowlist: Allowlist) -> list[_Found]:
    found: list[_Found] = []
    for m in _HONORIFIC_NAME.finditer(text):
        if m["first"].casefold() in NOT_SURNAMES:
            continue
        end = m.end("first")
        if m["second"] and m["second"].casefold() not in NOT_SURNAMES:
            end = m.end("second")
        # Only the whole name counts here: "Dr Foster" the company is allowed, "Mr Preston" the person is not.
        if _key(text[m.start() : end]) in allowlist:
            continue
        found.append(("honorific_name", Severity.high, m.start(), end))
    return found


def _name_pairs(text: str, allowlist: Allowlist) -> list[_Found]:
    words = [(m.start(), m.end(), m.group().casefold()) for m in _CAPWORD.finditer(text)]
    found: list[_Found] = []
    i = 0
    while i < len(words) - 1:
        start, _, first = words[i]
        if not _is_given_name(first) or (first in ORDINARY_WORD_NAMES and _starts_sentence(text, start)):
            i += 1
            continue
        # A given name, then capitalised words right after it; a middle name extends the pair ("Sarah Jane Smith").
        last = i
        while (
            last + 1 < len(words)
            and _GAP.fullmatch(text, words[last][1], words[last + 1][0])
            and words[last + 1][2] not in NOT_SURNAMES
            and (last == i or _is_given_name(words[last][2]))
        ):
            last += 1
        if last == i:
            i += 1
            continue
        names = [word for _, _, word in words[i : last + 1]]
        pairs = [f"{a} {b}" for a, b in zip(names, names[1:], strict=False)]
        if " ".join(names) not in allowlist and not any(entry in allowlist for entry in names + pairs):
            found.append(("name_pair", Severity.medium, start, words[last][1]))
        i = last + 1
    return found


def _commercial(text: str) -> list[_Found]:
    found: list[_Found] = []
    if _HAS_DIGIT.search(text):
        for m in _MONEY.finditer(text):
            tail = _UNIT_PRICE_TAIL.match(text, m.end())
            if tail:
                found.append(("unit_price", Severity.high, m.start(), tail.end()))
            else:
                found.append(("money", Severity.high, m.start(), m.end()))
        found += [("discount", Severity.high, m.start(), m.end()) for m in _DISCOUNT.finditer(text)]
        for m in _CONTRACT_REFERENCE.finditer(text):
            group = "reference" if m["reference"] else 0
            found.append(("contract_reference", Severity.medium, m.start(group), m.end(group)))
    found += [
        ("confidentiality_marker", Severity.medium, m.start(), m.end()) for m in _CONFIDENTIALITY_MARKER.finditer(text)
    ]
    return found


def _allegations(text: str) -> list[_Found]:
    found: list[_Found] = []
    for m in _PLAIN_WORD.finditer(text):
        words = [m]
        if "-" in m.group() and m.group().casefold() not in _ALLEGATION_SET:
            # "mis-sold" is on the list as it is; in "fraud-related" or "counter-fraud" each part is looked up.
            words = list(_WORD_PART.finditer(text, m.start(), m.end()))
        for word in words:
            if word.group().casefold() in _ALLEGATION_SET and not _technical_use(text, word.start(), word.end()):
                found.append(("allegation", Severity.high, word.start(), word.end()))
    return found


def _technical_use(text: str, start: int, end: int) -> bool:
    word = text[start:end].casefold()
    if word.startswith("corrupt"):
        return bool(_CORRUPT_DATA.search(text, max(0, start - 25), min(len(text), end + 25)))
    if word.startswith("illegal"):
        return bool(_ILLEGAL_INPUT.match(text[end : end + 20]))
    if word.startswith("fraud") and not word.startswith("fraudulent"):
        return bool(_COUNTER_FRAUD_BEFORE.search(text[max(0, start - 10) : start])) or bool(
            _COUNTER_FRAUD_AFTER.match(text[end : end + 40])
        )
    if word.startswith("cheat"):
        return bool(_CHEAT_SHEET.match(text[end : end + 10]))
    return False


def _allegations_about_people(text: str, allegations: list[_Found], people: list[_Found]) -> list[_Found]:
    if not allegations:
        return []
    found: list[_Found] = []
    for start, end in _sentences(text):
        if not any(start <= a_start < end for _, _, a_start, _ in allegations):
            continue
        named = any(start <= p_start < end for _, _, p_start, _ in people)
        if named or _ROLE.search(text, start, end):
            found.append(("allegation_about_person", Severity.critical, start, end))
    return found


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    """Spans of the sentences in the text, without surrounding whitespace."""
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.group() != "\n":
            before = text[start : m.start()].rsplit(None, 1)
            word = before[-1].casefold() if before else ""
            following = text[m.end() :].lstrip()[:1]
            # "Mr. Smith", "e.g. this", "J. Smith" and "etc. and" do not end a sentence.
            if word in _ABBREVIATIONS or len(word) == 1 or following.islower():
                continue
        yield from _stripped(text, start, m.end())
        start = m.end()
    yield from _stripped(text, start, len(text))


def _stripped(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def _starts_sentence(text: str, position: int) -> bool:
    before = text[:position].rstrip(" \t\"'‘“([*•-")
    return not before or before[-1] in ".!?:;\n"


def _is_given_name(word: str) -> bool:
    return word in FIRST_NAMES or word.split("-", 1)[0] in FIRST_NAMES


def _key(text: str) -> str:
    return " ".join(word.casefold() for word in _WORD.findall(text))


def _overlaps_any(span: _Found, others: Iterable[_Found]) -> bool:
    return any(span[2] < end and start < span[3] for _, _, start, end in others)


def _without_overlaps(found: list[_Found]) -> list[_Found]:
    """Per detector, the longest of any overlapping spans; contract references beat phone-like digits."""
    references = [span for span in found if span[0] == "contract_reference"]
    kept: list[_Found] = []
    last_end: dict[str, int] = {}
    for span in sorted(found, key=lambda s: (s[0], s[2], s[2] - s[3])):
        detector, _, start, end = span
        if start < last_end.get(detector, -1):
            continue
        if detector == "uk_phone" and _overlaps_any(span, references):
            continue
        kept.append(span)
        last_end[detector] = end
    return kept


# --- allowlist from the database -----------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: tuple[tuple[object, ...], Allowlist] | None = None


def load_allowlist(session: Session) -> Allowlist:
    """Supplier, alias, product and council names as an Allowlist, cached until they change."""
    global _cache
    key = (str(session.get_bind().engine.url), *_name_tables_state(session))
    cached = _cache
    if cached is not None and cached[0] == key:
        return cached[1]
    names = union_all(
        select(col(Supplier.name)),
        select(col(SupplierAlias.alias)),
        select(col(Product.name)),
        select(col(Council.name)),
        select(col(Council.nice_name)),
    )
    allowlist = Allowlist.build(name for (name,) in session.execute(names))
    with _cache_lock:
        _cache = (key, allowlist)
    return allowlist


def invalidate_allowlist() -> None:
    """Forget the cached allowlist; call after renaming a supplier, alias, product or council."""
    global _cache
    with _cache_lock:
        _cache = None


def _name_tables_state(session: Session) -> tuple[object, ...]:
    """Row count and highest id of each name table: one cheap query that changes when rows are added or deleted."""
    state = union_all(
        *(
            select(literal(index), func.count(id_column), func.max(id_column))
            for index, id_column in enumerate(
                (col(Supplier.id), col(SupplierAlias.id), col(Product.id), col(Council.id))
            )
        )
    )
    return tuple(sorted(tuple(row) for row in session.execute(state)))
