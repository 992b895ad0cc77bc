"""Fictional demo data: suppliers, officers, reviews and pilots, so that a new install has something to show.

Everything here is invented and marked `is_demo`. The policy (`product.md`, "Data it starts with"):
- Supplier names are made up and carry "(demo)" in the name itself, so a screenshot, an export or a search result
  can never be read as a statement about a real company, even where a page forgets the demo badge.
- Demo reviews and pilots are only ever attached to the demo suppliers created here, never to a real supplier.
- Officers are fictional people at real councils; their addresses use the reserved `.invalid` domain, so no email
  can ever reach a real person.
- The free text is written to pass screening: no personal names, no prices, no allegations.

Seeding is idempotent and deterministic: one `random.Random(2026)` and dates relative to one anchor day.
Search indexes are not touched here: run a reindex after seeding.
"""

import random
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.errors import DomainError
from app.models import (
    Category,
    ContentStatus,
    ContentType,
    CostBand,
    Council,
    ModerationItem,
    NdaStatus,
    Pilot,
    PilotOutcome,
    PilotStatus,
    ProcurementRoute,
    Product,
    Relationship,
    Review,
    Role,
    Supplier,
    SupplierAlias,
    SupplierCategory,
    User,
    utcnow,
)
from app.reference import supplier_name_key
from app.standard import TIME_USED

SEED = 2026
DEMO_EMAIL_DOMAIN = "demo.invalid"
DEMO_NAME_SUFFIX = " (demo)"
DEMO_WEBSITE_TLD = "example"  # reserved by RFC 2606: never a real site


class DemoDataError(DomainError):
    """The demo data cannot be loaded (the councils it needs are missing)."""


@dataclass
class DemoReport:
    created: bool
    suppliers: int
    officers: int
    reviews: int
    pilots: int


# --- the cast ------------------------------------------------------------------------------------

# Real councils, by GSS code (checked against ../shared/data/uk_local_authorities.csv).
HARROW = "E09000015"  # London Borough of Harrow
BIRMINGHAM = "E08000025"  # Birmingham City Council
EDINBURGH = "S12000036"  # City of Edinburgh Council
CARDIFF = "W06000015"  # City of Cardiff Council
SURREY = "E10000030"  # Surrey County Council
OXFORD = "E07000178"  # Oxford City Council
BRISTOL = "E06000023"  # Bristol City Council
LEEDS = "E08000035"  # Leeds City Council

DEMO_COUNCILS = (HARROW, BIRMINGHAM, EDINBURGH, CARDIFF, SURREY, OXFORD, BRISTOL, LEEDS)


@dataclass(frozen=True)
class _SupplierSpec:
    key: str
    name: str
    description: str
    sme: bool
    products: tuple[tuple[str, str], ...]  # (name, description)
    cpv_codes: tuple[str, ...]
    aliases: tuple[str, ...] = ()


SUPPLIERS = (
    _SupplierSpec(
        key="quillmere",
        name="Quillmere Case Systems",
        description="Case management for adult and children's social care, with a portal for care providers.",
        sme=False,
        products=(
            ("Quillmere Adults", "Case recording, assessments, care planning and financial assessments."),
            ("Quillmere Children", "Case recording and statutory returns for children's social care."),
            ("Quillmere Provider Portal", "Care providers confirm services and submit invoices online."),
        ),
        cpv_codes=("48100000-9", "48311000-1", "72263000-6"),
        aliases=("Quillmere",),
    ),
    _SupplierSpec(
        key="larkspindle",
        name="Larkspindle Revenues",
        description="Council tax, business rates and benefits administration, with resident self-service.",
        sme=False,
        products=(
            ("Larkspindle Revenues", "Billing, collection and recovery for council tax and business rates."),
            ("Larkspindle Benefits", "Housing benefit and council tax support assessment."),
            ("Larkspindle Self-Service", "Online accounts for residents and businesses."),
        ),
        cpv_codes=("48440000-4", "48812000-3"),
        aliases=("Larkspindle Software",),
    ),
    _SupplierSpec(
        key="thistlecombe",
        name="Thistlecombe Digital",
        description="Low-code forms and customer relationship management for council contact centres.",
        sme=True,
        products=(
            ("Thistlecombe Forms", "Accessible online forms that post structured data to back office systems."),
            ("Thistlecombe CRM", "Case handling for contact centres and front doors."),
        ),
        cpv_codes=("48445000-9", "48325000-2", "72413000-8"),
        aliases=("Thistlecombe",),
    ),
    _SupplierSpec(
        key="orrinford",
        name="Orrinford Housing Cloud",
        description="Hosted housing management: tenancies, rents, allocations and repairs.",
        sme=False,
        products=(
            ("Orrinford Housing", "Tenancy, rent accounting and allocations."),
            ("Orrinford Repairs", "Repairs ordering and appointment booking."),
        ),
        cpv_codes=("48100000-9", "48420000-8"),
    ),
    _SupplierSpec(
        key="peverick",
        name="Peverick Planning Systems",
        description="Planning and building control case management with built-in mapping.",
        sme=True,
        products=(
            ("Peverick Planning", "Planning applications, validation, consultation and public access."),
            ("Peverick Building Control", "Applications and site inspections, with offline mobile working."),
        ),
        cpv_codes=("48100000-9", "48326000-9"),
    ),
    _SupplierSpec(
        key="caddenholt",
        name="Caddenholt Fleet and Waste",
        description="Round planning and in-cab devices for waste and recycling collections.",
        sme=True,
        products=(
            ("Caddenholt Rounds", "Round design and route optimisation."),
            ("Caddenholt In-Cab", "In-cab tablets for crews, linked to the contact centre."),
        ),
        cpv_codes=("48332000-4", "48326000-9"),
    ),
    _SupplierSpec(
        key="vellanby",
        name="Vellanby Payroll",
        description="HR, payroll and recruitment for public sector employers.",
        sme=False,
        products=(
            ("Vellanby HR and Payroll", "Core HR records, payroll and employee self-service."),
            ("Vellanby Recruit", "Vacancy approval, careers site and applicant tracking."),
        ),
        cpv_codes=("48450000-7", "48451000-4"),
    ),
    _SupplierSpec(
        key="hollowmere",
        name="Hollowmere Assist",
        description="AI assistants for councils: webchat from council web content, and draft notes from meetings.",
        sme=True,
        products=(
            ("Hollowmere Webchat", "A webchat assistant that answers from the council's own web pages."),
            ("Hollowmere Notes", "Draft case notes and meeting summaries for practitioners to check."),
        ),
        cpv_codes=("72212000-4", "72416000-9"),
    ),
)


@dataclass(frozen=True)
class _OfficerSpec:
    key: str
    name: str
    job_title: str
    council: str
    role: Role = Role.officer
    open_to_contact: bool = True

    @property
    def email(self) -> str:
        return f"{self.key}@{DEMO_EMAIL_DOMAIN}"


OFFICERS = (
    _OfficerSpec("priya.shah", "Priya Shah", "Digital lead", HARROW),
    _OfficerSpec("tom.okafor", "Tom Okafor", "Head of ICT", BIRMINGHAM),
    _OfficerSpec("eilidh.macleod", "Eilidh MacLeod", "Service lead, adult social care", EDINBURGH),
    _OfficerSpec("rhys.pritchard", "Rhys Pritchard", "Procurement manager", CARDIFF, open_to_contact=False),
    _OfficerSpec("hannah.whitfield", "Hannah Whitfield", "Service lead, children's services", SURREY),
    _OfficerSpec("marcus.bell", "Marcus Bell", "Revenues and benefits manager", OXFORD),
    _OfficerSpec("aisha.rahman", "Aisha Rahman", "Housing systems manager", BRISTOL, open_to_contact=False),
    _OfficerSpec("gareth.lloyd", "Gareth Lloyd", "Waste services manager", CARDIFF),
    _OfficerSpec("fiona.grant", "Fiona Grant", "Planning systems lead", EDINBURGH),
    _OfficerSpec("olu.adeyemi", "Olu Adeyemi", "Customer services manager", LEEDS),
    _OfficerSpec("daniel.cohen", "Daniel Cohen", "HR and payroll systems lead", SURREY, open_to_contact=False),
    _OfficerSpec("sinead.murphy", "Sinead Murphy", "Waste systems officer", LEEDS),
    _OfficerSpec("sam.taylor", "Sam Taylor", "Information governance officer", HARROW, role=Role.moderator),
    _OfficerSpec("jo.kettering", "Jo Kettering", "Systems administrator", BIRMINGHAM, role=Role.admin),
)


# --- reviews -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ReviewSpec:
    supplier: str
    officer: str
    product: str
    area: str
    relationship: Relationship
    # implementation, customisation cost, fit, support, value, partnership, data and exit; "-" = not applicable
    scores: str
    overall: int
    recommend: bool
    headline: str
    worked_well: str
    did_not_work: str
    advice: str
    pending: bool = False


LIVE = Relationship.live_contract
PAST = Relationship.past_contract
PILOT = Relationship.pilot
EVALUATED = Relationship.evaluated

# fmt: off
# One entry each: supplier, officer, product, service area, relationship, the seven scores, overall, recommend,
# then headline, what worked well, what did not work, advice.
REVIEWS = (
    # Quillmere: good fit, costly change, closed data.
    _ReviewSpec(
        "quillmere", "eilidh.macleod", "Quillmere Adults", "Adult social care", LIVE, "4 2 5 3 3 3 2", 7, True,
        "Strong case recording for adult social care, but every change costs extra",
        "Practitioners picked up the case recording screens quickly and the assessment forms follow the national "
        "framework closely. Reporting for statutory returns saved our performance team weeks of manual work.",
        "Almost every form change or new workflow goes to the supplier as a chargeable request, and turnaround is "
        "slow. Bulk export of case data is only possible through a paid extract service.",
        "Agree a pot of configuration days in the contract and make sure your own team is trained to change "
        "forms. Ask for the data export format before you sign.",
    ),
    _ReviewSpec(
        "quillmere", "hannah.whitfield", "Quillmere Children", "Children's services", LIVE, "3 2 4 3 3 4 2", 6,
        True,
        "Good fit for children's services once configured, slow to get there",
        "The chronology view gives social workers a clear picture of a child's journey, and the supplier listened "
        "when we raised problems with the care plan templates. Their user group is active and has shaped the "
        "roadmap.",
        "Implementation ran several months late, partly because migrating historic case notes needed three full "
        "rehearsals. Integration with our education systems needed a separate middleware product.",
        "Plan for at least two data migration rehearsals and keep your own business analysts on the project "
        "after go-live.",
    ),
    _ReviewSpec(
        "quillmere", "priya.shah", "Quillmere Adults", "Adult social care", LIVE, "3 1 4 3 2 2 1", 5, False,
        "Capable product held back by closed data and costly change",
        "Core case management is stable and we have had very little unplanned downtime. Frontline staff find it "
        "reliable.",
        "We wanted to build our own online self-assessment on top of it, and the integration options were "
        "limited and slow to obtain. Getting a full copy of our own data in a usable format took months.",
        "Write open APIs and a full data export at no extra charge into the specification from the start. It is "
        "much harder to secure afterwards.",
    ),
    _ReviewSpec(
        "quillmere", "tom.okafor", "Quillmere Adults", "ICT infrastructure", LIVE, "4 - - 4 3 3 2", 6, True,
        "Smooth move to the supplier's hosted service",
        "The move from our own data centre to their hosted platform went to plan, with a clear runbook and a "
        "weekend cutover. Availability since then has been better than when we ran it ourselves.",
        "Test environments are limited and refreshing one takes a formal request. Single sign-on with our "
        "identity provider needed more of our own effort than we were told.",
        "Ask how many test environments are included and how often they can be refreshed.",
    ),
    _ReviewSpec(
        "quillmere", "rhys.pritchard", "Quillmere Adults", "Adult social care", EVALUATED, "- 2 4 - 3 3 2", 5,
        False,
        "Strong demonstration, but the commercial model did not suit us",
        "Scripted demonstrations were well prepared and the product met most of our functional requirements. "
        "Reference sites were happy to talk to us.",
        "Configuration changes after go-live would have been charged separately, which made the whole-life cost "
        "hard to predict. Exit terms were vague.",
        "Score whole-life cost, not only the initial licence and implementation. Ask reference councils how "
        "much change they have had to buy since go-live.",
    ),
    _ReviewSpec(
        "quillmere", "priya.shah", "Quillmere Children", "Children's services", LIVE, "4 3 4 4 4 4 3", 8, True,
        "Reliable platform for our children's social care teams",
        "Go-live was on the date we planned and the supplier's project manager was excellent. The mobile app "
        "lets social workers record visits on the move, which staff value.",
        "Some reports still need our own data team to rebuild them. The annual upgrade window is fixed and falls "
        "in our busiest period.",
        "Involve frontline social workers in the configuration workshops, not only team managers.",
    ),
    _ReviewSpec(
        "quillmere", "eilidh.macleod", "Quillmere Provider Portal", "Adult social care", PILOT, "3 3 3 4 - 4 3",
        7, True,
        "Provider portal pilot showed promise for care home invoicing",
        "Care providers could see and confirm their own service records, which cut the number of invoice "
        "queries. Training for providers was light touch.",
        "Smaller providers struggled with two-factor sign-in, and some were unwilling to use yet another portal.",
        "Start with a handful of larger providers and build confidence before inviting the rest.",
    ),
    _ReviewSpec(
        "quillmere", "tom.okafor", "Quillmere Adults", "Finance", LIVE, "3 2 3 3 3 3 3", 6, True,
        "Financial assessment module does the job with some manual steps",
        "Charging calculations are accurate and the audit trail is clear, which our auditors appreciated.",
        "Interfaces to the finance system run overnight only, so staff see yesterday's position. Changing the "
        "charging rules for a new financial year needs a supplier release.",
        "Test the annual uprating process with the supplier before you go live.",
    ),
    _ReviewSpec(
        "quillmere", "rhys.pritchard", "Quillmere Children", "Children's services", PAST, "2 2 3 2 2 2 2", 4,
        False,
        "We moved away after a difficult contract",
        "The children's case recording met statutory requirements and the data model was sound.",
        "Support tickets often waited weeks for a first response, and the account team changed several times. "
        "Customisation requests were expensive and delivered late.",
        "Build service credits for missed support targets into the contract and review them every quarter.",
    ),
    _ReviewSpec(
        "quillmere", "olu.adeyemi", "Quillmere Adults", "Customer services", LIVE, "4 3 3 4 4 3 3", 7, True,
        "Contact centre access works well for first contact",
        "Our adult social care front door team can create contacts and referrals directly, with a clear screen "
        "for call handlers.",
        "Referrals made through our website arrive as attachments rather than structured data, so staff rekey "
        "them.",
        "Check how online referrals reach the case record before you design your front door.",
    ),
    # Larkspindle: dependable, helpful support, dated screens.
    _ReviewSpec(
        "larkspindle", "marcus.bell", "Larkspindle Revenues", "Revenues and benefits", LIVE, "4 3 4 4 4 3 3", 8,
        True,
        "Dependable revenues system with a helpful support desk",
        "Annual billing has run without problems every year we have used it, and the support desk knows local "
        "taxation inside out. Recovery workflows are easy to adjust ourselves.",
        "The officer screens look dated and new staff take a while to learn them. Some standard letters can only "
        "be changed by the supplier.",
        "Send your systems team on the supplier's administrator course early; it pays off at year end.",
    ),
    _ReviewSpec(
        "larkspindle", "olu.adeyemi", "Larkspindle Self-Service", "Customer services", LIVE, "3 3 3 3 3 3 3", 6,
        True,
        "Self-service accounts are fine but not loved by residents",
        "Residents can view bills and set up direct debits online, which has taken some pressure off the phones.",
        "The design does not match our website and the account sign-up steps confuse people. There is little "
        "analytics on how residents use it.",
        "Budget time for user research and testing with residents before launch.",
    ),
    _ReviewSpec(
        "larkspindle", "tom.okafor", "Larkspindle Revenues", "ICT infrastructure", LIVE, "4 - - 4 3 3 4", 7, True,
        "Straightforward to host and patch",
        "The supplier publishes a clear patching schedule, and the system runs on standard infrastructure we "
        "already support. The reporting replica is easy to connect to.",
        "Major upgrades still need a lot of regression testing from our side.",
        "Automate your regression tests for billing and recovery runs.",
    ),
    _ReviewSpec(
        "larkspindle", "marcus.bell", "Larkspindle Benefits", "Revenues and benefits", LIVE, "3 2 4 4 3 3 3", 7,
        True,
        "Benefits processing is solid; change requests are slow",
        "Assessment workflows match how our team works, and automatic processing of change notices from the "
        "national service saved a lot of time.",
        "Local changes to our council tax support scheme needed paid development each year, with long lead "
        "times.",
        "Finalise scheme changes early and agree the supplier's deadline for them well in advance.",
    ),
    _ReviewSpec(
        "larkspindle", "rhys.pritchard", "Larkspindle Revenues", "Revenues and benefits", PAST, "3 3 3 3 4 2 3",
        6, True,
        "Reasonable value, limited appetite for improvement",
        "Pricing was clear and stayed predictable over the contract. The system did what the specification "
        "asked.",
        "Suggestions from our team rarely made it into the product, and the roadmap was not shared with "
        "customers.",
        "Ask to see how customer feedback has shaped recent releases.",
    ),
    _ReviewSpec(
        "larkspindle", "aisha.rahman", "Larkspindle Benefits", "Housing", LIVE, "4 3 4 4 4 4 3", 8, True,
        "Good link between housing benefit and our rent accounts",
        "The interface to our rent accounts is reliable, and the supplier helped us set it up at no extra charge.",
        "Reports for the housing team had to be built in our own reporting tool.",
        "Ask the supplier for the list of standard interfaces they already support before you scope anything "
        "custom.",
    ),
    _ReviewSpec(
        "larkspindle", "priya.shah", "Larkspindle Self-Service", "Revenues and benefits", EVALUATED,
        "- 3 3 - 3 3 2", 5, False,
        "Looked at their self-service module and chose to build our own",
        "The module covers the common transactions and integrates with the back office without extra work.",
        "We could not change the design enough to meet our accessibility and style standards, and the data it "
        "collects is not available to our own platform.",
        "Read the accessibility statement and try the live service with a screen reader before you decide.",
    ),
    # Thistlecombe: a small partner that listens; office-hours support.
    _ReviewSpec(
        "thistlecombe", "olu.adeyemi", "Thistlecombe CRM", "Customer services", LIVE, "5 4 4 4 5 5 5", 9, True,
        "A partner that genuinely listens",
        "The team delivered our new contact centre system on time and trained our own staff to build forms and "
        "workflows. Requests from our call handlers have turned up in releases within months.",
        "Support is only available in office hours, which matters for our out-of-hours service.",
        "Invest in training a few in-house builders; you will rarely need the supplier for changes.",
    ),
    _ReviewSpec(
        "thistlecombe", "priya.shah", "Thistlecombe Forms", "Customer services", LIVE, "5 5 5 4 5 4 5", 10, True,
        "Best forms platform we have used",
        "Our digital team builds accessible forms in days, and every form can post structured data straight "
        "into back office systems. Full export of submissions is included.",
        "Reporting across forms is basic, so we use our own dashboards.",
        "Set up a design library at the start so that forms stay consistent.",
    ),
    _ReviewSpec(
        "thistlecombe", "marcus.bell", "Thistlecombe Forms", "Revenues and benefits", LIVE, "4 4 4 3 4 4 4", 8,
        True,
        "Online forms cut our paper claims",
        "We moved change of circumstances forms online and the data drops straight into our workflow.",
        "A couple of outages during our peak billing week showed that their hosting was not ready for spikes; "
        "they have since fixed it.",
        "Load test before your busiest period and share your peak dates with the supplier.",
    ),
    _ReviewSpec(
        "thistlecombe", "gareth.lloyd", "Thistlecombe Forms", "Waste and recycling", LIVE, "4 4 5 4 4 4 4", 8,
        True,
        "Bulky waste booking online in a few weeks",
        "Residents book and pay for bulky waste collections online, and crews see the bookings the next morning.",
        "Connecting the payment provider took longer than the rest of the project put together.",
        "Start the payment provider work first; it is usually the longest step.",
    ),
    _ReviewSpec(
        "thistlecombe", "hannah.whitfield", "Thistlecombe CRM", "Children's services", PILOT, "3 4 3 3 4 5 4", 7,
        True,
        "Useful pilot for our family help front door",
        "The supplier designed the referral form with our staff and with families, and changes were made the "
        "same week.",
        "Linking to our case management system was out of scope for the pilot, so staff keyed referrals twice.",
        "Scope the integration with the case system before you start a pilot, even if you do not build it.",
    ),
    _ReviewSpec(
        "thistlecombe", "tom.okafor", "Thistlecombe CRM", "ICT infrastructure", EVALUATED, "- 4 3 - 4 4 4", 7,
        True,
        "Impressive, but we needed more evidence of scale",
        "Open APIs, good documentation and a clear exit plan in their standard terms.",
        "At our size we wanted evidence of larger deployments, and at the time they had few reference sites of "
        "comparable scale.",
        "For large authorities, ask for load test results and talk to the supplier's biggest customer.",
    ),
    _ReviewSpec(
        "thistlecombe", "sinead.murphy", "Thistlecombe Forms", "Waste and recycling", LIVE, "5 4 4 5 4 4 5", 9,
        True,
        "Missed bin reports now go straight to crews",
        "Reports from residents reach the in-cab system without anyone rekeying them, and the supplier built the "
        "connector with us.",
        "Some residents still phone because they cannot find the form on our website, which is our problem "
        "rather than theirs.",
        "Put as much effort into how residents find the form as into the form itself.",
    ),
    # Orrinford: difficult implementations, closed platform.
    _ReviewSpec(
        "orrinford", "aisha.rahman", "Orrinford Housing", "Housing", LIVE, "2 2 3 2 3 2 2", 4, False,
        "Difficult implementation that still affects us",
        "The rent accounting module is accurate and the allocations workflow fits our lettings policy.",
        "Data migration from our old system was underestimated, and the go-live date moved twice. Months after "
        "launch we still rely on workarounds for managing empty homes.",
        "Insist on a named data migration lead from the supplier and a full trial migration before you agree a "
        "go-live date.",
    ),
    _ReviewSpec(
        "orrinford", "marcus.bell", "Orrinford Housing", "Housing", LIVE, "3 2 3 3 3 3 2", 5, False,
        "Does the basics, expensive to adapt",
        "Tenancy and rent records are reliable and the tenant portal is simple to use.",
        "Changes to letters and workflows are charged as development work, and the options for integrating with "
        "our repairs contractor were limited.",
        "List every interface you need in the tender and ask for a fixed price for each one.",
    ),
    _ReviewSpec(
        "orrinford", "aisha.rahman", "Orrinford Repairs", "Housing", PILOT, "3 3 2 3 - 3 3", 5, False,
        "Repairs booking pilot did not meet our needs",
        "Tenants who booked by text message liked choosing their own appointment slot.",
        "The scheduling did not account for our contractor's trades and travel times, so many bookings had to be "
        "moved by hand.",
        "Test with your real repair types and contractor schedules, not demonstration data.",
    ),
    _ReviewSpec(
        "orrinford", "priya.shah", "Orrinford Housing", "Housing", LIVE, "4 3 4 3 4 3 3", 7, True,
        "Better than we feared after a slow start",
        "After a change of project manager on the supplier's side, delivery improved and the second phase went "
        "live on time. The repairs module now handles most jobs without manual steps.",
        "The first phase was late, and our housing officers had to run two systems side by side for too long.",
        "Phase the rollout and agree exit criteria for each phase before you start.",
    ),
    _ReviewSpec(
        "orrinford", "tom.okafor", "Orrinford Housing", "ICT infrastructure", EVALUATED, "- 2 3 - 2 2 1", 3, False,
        "Closed platform that did not fit our architecture",
        "The functional demonstrations covered most of our housing requirements.",
        "There was no way to get near real-time data out for our own reporting, and the hosting options did not "
        "meet our security requirements without extra cost.",
        "Ask for a technical deep dive with their architects, not only a functional demonstration.",
    ),
    # Peverick: a small planning specialist that officers like.
    _ReviewSpec(
        "peverick", "fiona.grant", "Peverick Planning", "Planning", LIVE, "4 4 5 4 4 4 4", 8, True,
        "A planning system our officers actually like",
        "Case officers find applications quickly, the map layers load fast, and validation checklists are easy "
        "to maintain ourselves.",
        "The public access site needed extra work to meet accessibility standards.",
        "Plan the public access site as a separate piece of work with its own testing.",
    ),
    _ReviewSpec(
        "peverick", "priya.shah", "Peverick Building Control", "Planning", LIVE, "4 3 4 4 4 4 3", 8, True,
        "Solid building control module with good mobile working",
        "Surveyors record inspections on tablets on site, even without signal, and the sync is reliable.",
        "Fee calculations needed configuration by the supplier each time the regulations changed.",
        "Ask the supplier how quickly they updated other customers after the last change in regulations.",
    ),
    _ReviewSpec(
        "peverick", "rhys.pritchard", "Peverick Planning", "Planning", LIVE, "5 4 4 4 5 4 4", 9, True,
        "Buying through a framework was quick and painless",
        "The supplier answered our further competition clearly, and the implementation plan they submitted was "
        "the one they delivered.",
        "Their small team was stretched when three councils went live in the same quarter.",
        "Ask about other go-lives planned at the same time as yours.",
    ),
    _ReviewSpec(
        "peverick", "fiona.grant", "Peverick Building Control", "Planning", PILOT, "3 4 3 3 - 5 4", 7, True,
        "Building control pilot: good partner, product still maturing",
        "The supplier adapted the inspection workflow to Scottish building standards during the pilot.",
        "Some inspection types were not yet supported, so we ran those on paper.",
        "Be clear with the supplier about which inspection types must work from day one.",
    ),
    # Caddenholt: good software, weaker hardware and data feeds.
    _ReviewSpec(
        "caddenholt", "gareth.lloyd", "Caddenholt In-Cab", "Waste and recycling", LIVE, "3 3 4 2 3 3 3", 6, True,
        "Good software, unreliable in-cab hardware",
        "Crews use the in-cab screens without much training, and missed collections are down since go-live.",
        "The rugged tablets failed more often than expected and replacements took too long. Hardware faults are "
        "handled by a third party.",
        "Make the supplier responsible for hardware as well as software, with a replacement time in the contract.",
    ),
    _ReviewSpec(
        "caddenholt", "sinead.murphy", "Caddenholt Rounds", "Waste and recycling", LIVE, "4 3 4 3 4 4 4", 8, True,
        "Route optimisation paid for itself",
        "Re-planning our rounds noticeably reduced mileage, and the supplier's analysts worked closely with our "
        "crews and their union representatives.",
        "Updating rounds for new housing developments still needs a request to the supplier.",
        "Get your own staff trained to adjust rounds, so that new homes do not wait for the supplier.",
    ),
    _ReviewSpec(
        "caddenholt", "olu.adeyemi", "Caddenholt In-Cab", "Customer services", LIVE, "3 3 3 3 3 2 2", 5, False,
        "Crew updates reach the contact centre too slowly",
        "Call handlers can see whether a street has been collected, which answers many calls quickly.",
        "Updates from crews can take hours to appear, and the data feed into our own systems is a nightly file.",
        "Ask for a live data feed, and check how it performs in areas with poor mobile coverage.",
        pending=True,
    ),
    _ReviewSpec(
        "caddenholt", "rhys.pritchard", "Caddenholt Rounds", "Waste and recycling", EVALUATED, "- 3 4 - 3 3 3", 6,
        True,
        "Strong optimisation tool, hard to compare on whole-life cost",
        "The modelling of our rounds during the evaluation was thorough and easy to understand.",
        "Devices, mobile data and installation were priced separately, and the total was hard to compare with "
        "other bids.",
        "Ask every bidder for a whole-life cost that includes devices, data and installation.",
    ),
    # Vellanby: payroll that runs, with slow change and a hard year end.
    _ReviewSpec(
        "vellanby", "daniel.cohen", "Vellanby HR and Payroll", "HR and payroll", LIVE, "2 2 3 2 2 2 3", 4, False,
        "Payroll runs, but year end is a struggle every time",
        "Monthly payroll is accurate and the employee self-service app is popular.",
        "Legislative updates arrive late, leaving little time for testing before year end. Support answers are "
        "slow and often need escalation.",
        "Agree a testing window for legislative releases in the contract, with service credits if it is missed.",
    ),
    _ReviewSpec(
        "vellanby", "tom.okafor", "Vellanby HR and Payroll", "HR and payroll", PAST, "2 1 3 2 2 2 2", 3, False,
        "We left at the end of the contract",
        "The core HR records were accurate and the data model was clear.",
        "Every change to pay rules or reports was treated as chargeable development, and delivery often slipped "
        "by months.",
        "Check carefully how pay rule changes are handled and charged before you commit.",
    ),
    _ReviewSpec(
        "vellanby", "daniel.cohen", "Vellanby Recruit", "HR and payroll", PILOT, "4 3 4 3 3 4 3", 7, True,
        "Recruitment module pilot went better than our payroll experience",
        "Hiring managers found the approval steps simple, and candidate data flowed into the HR record without "
        "rekeying.",
        "The careers site templates were hard to brand and not fully accessible at first.",
        "Test the candidate journey with applicants who use assistive technology.",
        pending=True,
    ),
)
# fmt: on


# --- pilots --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PilotSpec:
    supplier: str
    officer: str
    product: str
    area: str
    title: str
    problem: str
    pilot_status: PilotStatus
    outcome: PilotOutcome | None
    cost_band: CostBand | None
    nda: NdaStatus
    start_days_ago: int  # negative: starts in the future
    length_days: int
    lessons: str | None
    pending: bool = False


# fmt: off
# One entry each: supplier, officer, product, service area, title, problem, then status, outcome, cost band, NDA,
# start (days before the anchor day), length in days, lessons.
PILOTS = (
    _PilotSpec(
        "hollowmere", "priya.shah", "Hollowmere Notes", "Adult social care",
        "AI-drafted case notes for adult social care assessments",
        "Social workers spend a large part of each week writing up assessment visits. We wanted to know whether an "
        "AI assistant could draft case notes from a recorded conversation for the worker to check and edit.",
        PilotStatus.completed, PilotOutcome.extending, CostBand.from_5k_to_25k, NdaStatus.no, 420, 180,
        "Workers saved time on write-ups, but every draft still needed careful checking, especially where the "
        "person's own words mattered. Agree the data protection impact assessment and the consent wording with "
        "your information governance team before the first recording. We are extending to a second team before "
        "deciding.",
    ),
    _PilotSpec(
        "hollowmere", "olu.adeyemi", "Hollowmere Webchat", "Customer services",
        "Webchat assistant for council tax questions",
        "Call volumes peak in the weeks after annual billing. We tested an AI webchat that answers common council "
        "tax questions from our own web pages.",
        PilotStatus.stopped, PilotOutcome.not_adopted, CostBand.under_5k, NdaStatus.unknown, 300, 60,
        "The assistant handled simple questions well but gave confident wrong answers about arrears and "
        "reductions, so we stopped early. Keep a clear route to a person, and review transcripts every day during "
        "any pilot.",
    ),
    _PilotSpec(
        "hollowmere", "hannah.whitfield", "Hollowmere Notes", "Children's services",
        "Draft summaries of child protection conferences",
        "Conference minutes often reach families and partner agencies weeks after the meeting. We are testing "
        "whether a drafted summary, checked by the chair, can go out within days.",
        PilotStatus.running, None, CostBand.from_5k_to_25k, NdaStatus.yes, 90, 180,
        "Early feedback from chairs is positive. Families are asked for consent at the start of every conference.",
    ),
    _PilotSpec(
        "caddenholt", "gareth.lloyd", "Caddenholt In-Cab", "Waste and recycling",
        "In-cab devices on two recycling rounds",
        "Crews reported missed and contaminated bins on paper, and the contact centre could not tell residents "
        "what had happened to their collection.",
        PilotStatus.completed, PilotOutcome.adopted, CostBand.from_25k_to_100k, NdaStatus.no, 730, 120,
        "Crews adopted the devices quickly once they saw that their reports reached the contact centre. Mount "
        "the devices properly from day one: loose cradles caused most of the early faults.",
    ),
    _PilotSpec(
        "thistlecombe", "marcus.bell", "Thistlecombe Forms", "Revenues and benefits",
        "Online change of circumstances form for council tax support",
        "Paper forms and emailed evidence slowed down processing and led to errors when staff rekeyed them.",
        PilotStatus.completed, PilotOutcome.adopted, CostBand.under_5k, NdaStatus.no, 600, 90,
        "Start with the highest-volume form and measure processing time before and after. Residents needed a "
        "simple way to upload evidence from a phone.",
    ),
    _PilotSpec(
        "quillmere", "tom.okafor", "Quillmere Provider Portal", "Adult social care",
        "Provider portal for home care invoicing",
        "Home care providers sent invoices in many formats, and reconciling them against planned care took a "
        "whole team every month.",
        PilotStatus.completed, PilotOutcome.inconclusive, CostBand.from_25k_to_100k, NdaStatus.yes, 540, 180,
        "Larger providers saw the benefit; smaller ones did not engage. The pilot was too short to show an effect "
        "on payment times. Decide at the start what evidence you need to make a decision.",
    ),
    _PilotSpec(
        "orrinford", "aisha.rahman", "Orrinford Repairs", "Housing",
        "Repairs appointments booked by text message",
        "Tenants struggled to get through by phone to book repairs, and many appointments were missed.",
        PilotStatus.stopped, PilotOutcome.not_adopted, CostBand.from_5k_to_25k, NdaStatus.unknown, 480, 120,
        "Tenants liked choosing a slot, but the scheduling did not reflect our contractor's trades and travel, so "
        "slots were often moved. Involve your repairs contractor in designing the pilot.",
    ),
    _PilotSpec(
        "peverick", "fiona.grant", "Peverick Planning", "Planning",
        "Automated checks on new planning applications",
        "Many applications arrive invalid, and checking them takes officer time before any assessment can start.",
        PilotStatus.running, None, CostBand.from_5k_to_25k, NdaStatus.no, 120, 180,
        "So far the automated checks catch missing documents reliably; checking the scale of drawings still "
        "needs an officer.",
    ),
    _PilotSpec(
        "larkspindle", "olu.adeyemi", "Larkspindle Self-Service", "Customer services",
        "Direct debit sign-up at the end of the moving home form",
        "Too few residents paid council tax by direct debit, and setting one up meant a phone call.",
        PilotStatus.completed, PilotOutcome.adopted, CostBand.under_5k, NdaStatus.no, 850, 90,
        "Sign-ups rose once the option was offered at the end of the moving home form rather than on a page of "
        "its own.",
    ),
    _PilotSpec(
        "caddenholt", "sinead.murphy", "Caddenholt Rounds", "Waste and recycling",
        "Route optimisation for garden waste rounds",
        "Garden waste rounds have grown piecemeal as subscriptions rose, and some crews cross the city twice a "
        "day.",
        PilotStatus.planned, None, CostBand.from_25k_to_100k, NdaStatus.unknown, -60, 180, None,
        pending=True,
    ),
)
# fmt: on

FRAMEWORK_LOTS = (
    "G-Cloud 13, Lot 2: cloud software",
    "G-Cloud 14, Lot 2: cloud software",
    "G-Cloud 14, Lot 3: cloud support",
)
COST_BANDS = {
    "quillmere": (CostBand.from_100k_to_500k, CostBand.over_500k),
    "larkspindle": (CostBand.from_100k_to_500k, CostBand.from_25k_to_100k),
    "thistlecombe": (CostBand.from_5k_to_25k, CostBand.from_25k_to_100k),
    "orrinford": (CostBand.from_100k_to_500k, CostBand.over_500k),
    "peverick": (CostBand.from_25k_to_100k, CostBand.from_100k_to_500k),
    "caddenholt": (CostBand.from_25k_to_100k, CostBand.from_100k_to_500k),
    "vellanby": (CostBand.from_100k_to_500k, CostBand.from_25k_to_100k),
    "hollowmere": (CostBand.under_5k, CostBand.from_5k_to_25k),
}
MAX_AGE_DAYS = 912  # about 30 months, so some reviews are older than the 24 months the score period covers


# --- seeding -------------------------------------------------------------------------------------


def seed_demo(session: Session, *, today: date | None = None) -> DemoReport:
    """Add the fictional demo suppliers, officers, reviews and pilots once; report what the demo data holds."""
    if _demo_exists(session):
        return _report(session, created=False)
    councils = _councils(session)
    now = utcnow()
    # Whatever convention the models keep for datetimes (naive UTC or aware UTC), the demo keeps too.
    anchor = datetime.combine(today or now.date(), time(9, 0), tzinfo=now.tzinfo)
    rng = random.Random(SEED)

    suppliers, products = _add_suppliers(session, anchor=anchor)
    officers = _add_officers(session, councils=councils, anchor=anchor)
    pending: list[tuple[ContentType, Review | Pilot]] = []
    for spec in REVIEWS:
        review = _review(spec, rng=rng, anchor=anchor, suppliers=suppliers, products=products, officers=officers)
        session.add(review)
        if spec.pending:
            pending.append((ContentType.review, review))
    for pilot_spec in PILOTS:
        pilot = _pilot(pilot_spec, rng=rng, anchor=anchor, suppliers=suppliers, products=products, officers=officers)
        session.add(pilot)
        if pilot_spec.pending:
            pending.append((ContentType.pilot, pilot))
    session.flush()
    # Pending content waits in the moderation queue like any other first submission.
    for content_type, item in pending:
        assert item.id is not None
        session.add(ModerationItem(content_type=content_type, content_id=item.id, opened_at=item.created_at))
    session.commit()
    return _report(session, created=True)


def has_content(session: Session) -> bool:
    """Whether anyone has used this database yet: any user, review or pilot, demo or not."""
    return any(session.exec(select(model.id).limit(1)).first() is not None for model in (User, Review, Pilot))


def _slug(name: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())


_DemoModel = type[Supplier] | type[User] | type[Review] | type[Pilot]


def _demo_exists(session: Session) -> bool:
    # Demo users count too: their unique emails would collide if the suppliers had been deleted by hand.
    return _count(session, Supplier) > 0 or _count(session, User) > 0


def _count(session: Session, model: _DemoModel) -> int:
    query = select(func.count()).select_from(model).where(col(model.is_demo).is_(True))
    return session.exec(query).one()


def _report(session: Session, *, created: bool) -> DemoReport:
    return DemoReport(
        created=created,
        suppliers=_count(session, Supplier),
        officers=_count(session, User),
        reviews=_count(session, Review),
        pilots=_count(session, Pilot),
    )


def _councils(session: Session) -> dict[str, Council]:
    rows = session.exec(select(Council).where(col(Council.gss_code).in_(DEMO_COUNCILS))).all()
    found = {council.gss_code: council for council in rows}
    if set(found) != set(DEMO_COUNCILS):
        raise DemoDataError("Load the reference data first: supplier-intel init")
    return found


_Products = dict[tuple[str, str], Product]  # by (supplier key, product name)


def _add_suppliers(session: Session, *, anchor: datetime) -> tuple[dict[str, Supplier], _Products]:
    all_codes = {code for spec in SUPPLIERS for code in spec.cpv_codes}
    categories = {c.code: c for c in session.exec(select(Category).where(col(Category.code).in_(all_codes)))}
    suppliers: dict[str, Supplier] = {}
    products: _Products = {}
    for spec in SUPPLIERS:
        name = spec.name + DEMO_NAME_SUFFIX
        supplier = Supplier(
            slug=_slug(name),
            name=name,
            name_key=supplier_name_key(name),
            description=spec.description,
            website=f"https://{_slug(spec.name)}.{DEMO_WEBSITE_TLD}",
            sme=spec.sme,
            status=ContentStatus.published,
            is_demo=True,
            created_at=anchor - timedelta(days=MAX_AGE_DAYS + 30),
        )
        session.add(supplier)
        session.flush()
        assert supplier.id is not None
        suppliers[spec.key] = supplier
        for product_name, product_description in spec.products:
            product = Product(supplier_id=supplier.id, name=product_name, description=product_description)
            session.add(product)
            products[(spec.key, product_name)] = product
        for alias in spec.aliases:
            session.add(SupplierAlias(supplier_id=supplier.id, alias=alias, alias_key=supplier_name_key(alias)))
        # Categories come from the reference import; without them the suppliers are simply uncategorised.
        for code in spec.cpv_codes:
            category = categories.get(code)
            if category is not None and category.id is not None:
                session.add(SupplierCategory(supplier_id=supplier.id, category_id=category.id))
    session.flush()
    return suppliers, products


def _add_officers(session: Session, *, councils: dict[str, Council], anchor: datetime) -> dict[str, User]:
    officers: dict[str, User] = {}
    for spec in OFFICERS:
        council_id = councils[spec.council].id
        assert council_id is not None
        officer = User(
            email=spec.email,
            name=spec.name,
            job_title=spec.job_title,
            role=spec.role,
            council_id=council_id,
            open_to_contact=spec.open_to_contact,
            is_demo=True,
            created_at=anchor - timedelta(days=MAX_AGE_DAYS + 10),
        )
        session.add(officer)
        officers[spec.key] = officer
    session.flush()
    return officers


def _scores(text: str) -> list[int | None]:
    values = [None if part == "-" else int(part) for part in text.split()]
    if len(values) != 7:
        raise ValueError(f"seven scores expected, got {text!r}")
    return values


def _review(
    spec: _ReviewSpec,
    *,
    rng: random.Random,
    anchor: datetime,
    suppliers: dict[str, Supplier],
    products: _Products,
    officers: dict[str, User],
) -> Review:
    supplier, officer = suppliers[spec.supplier], officers[spec.officer]
    product = products[(spec.supplier, spec.product)]
    assert supplier.id is not None and officer.id is not None and officer.job_title is not None
    implementation, customisation_cost, fit, support, value, partnership, data_exit = _scores(spec.scores)

    days_ago = rng.randint(1, 4) if spec.pending else rng.randint(7, MAX_AGE_DAYS)
    created_at = anchor - timedelta(days=days_ago, minutes=rng.randint(0, 600))
    published_at = None if spec.pending else created_at + timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 8))

    review = Review(
        supplier_id=supplier.id,
        product_id=product.id,
        author_id=officer.id,
        council_id=officer.council_id,
        author_role=officer.job_title,
        status=ContentStatus.pending if spec.pending else ContentStatus.published,
        implementation=implementation,
        customisation_cost=customisation_cost,
        fit=fit,
        support=support,
        value=value,
        partnership=partnership,
        data_exit=data_exit,
        overall=spec.overall,
        recommend=spec.recommend,
        relationship=spec.relationship,
        service_area=spec.area,
        time_used=_time_used(spec.relationship, rng),
        headline=spec.headline,
        worked_well=spec.worked_well,
        did_not_work=spec.did_not_work,
        advice=spec.advice,
        keep_text_private=rng.random() < 0.15,
        is_demo=True,
        created_at=created_at,
        updated_at=published_at or created_at,
        published_at=published_at,
    )
    if spec.relationship in (LIVE, PAST) and rng.random() < 0.7:
        review.procurement_route = rng.choice(list(ProcurementRoute))
        if review.procurement_route is ProcurementRoute.framework:
            review.framework_lot = rng.choice(FRAMEWORK_LOTS)
        review.cost_band = rng.choice(COST_BANDS[spec.supplier])
        if spec.relationship is LIVE:
            review.contract_end = anchor.date() + timedelta(days=rng.randint(60, 1100))
        else:
            review.contract_end = created_at.date() - timedelta(days=rng.randint(30, 400))
    return review


def _time_used(relationship: Relationship, rng: random.Random) -> str | None:
    if relationship is EVALUATED:
        return None
    if relationship is PILOT:
        return TIME_USED[0]
    return rng.choice(TIME_USED[1:])


def _pilot(
    spec: _PilotSpec,
    *,
    rng: random.Random,
    anchor: datetime,
    suppliers: dict[str, Supplier],
    products: _Products,
    officers: dict[str, User],
) -> Pilot:
    supplier, officer = suppliers[spec.supplier], officers[spec.officer]
    product = products[(spec.supplier, spec.product)]
    assert supplier.id is not None and officer.id is not None and officer.job_title is not None

    start = anchor.date() - timedelta(days=spec.start_days_ago)
    end = start + timedelta(days=spec.length_days)
    if spec.pending:
        created_at = anchor - timedelta(days=rng.randint(1, 4), minutes=rng.randint(0, 600))
        published_at = None
    else:
        # Recorded once there was something to say: at the start of a running pilot, after the end otherwise.
        recorded = start if spec.pilot_status is PilotStatus.running else min(end, anchor.date())
        created_at = datetime.combine(recorded, time(9, 0), tzinfo=anchor.tzinfo) + timedelta(
            days=rng.randint(1, 14), minutes=rng.randint(0, 480)
        )
        created_at = min(created_at, anchor - timedelta(days=1))
        published_at = created_at + timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 8))
        published_at = min(published_at, anchor - timedelta(hours=1))

    return Pilot(
        supplier_id=supplier.id,
        product_id=product.id,
        author_id=officer.id,
        council_id=officer.council_id,
        author_role=officer.job_title,
        status=ContentStatus.pending if spec.pending else ContentStatus.published,
        title=spec.title,
        service_area=spec.area,
        problem=spec.problem,
        start_date=start,
        end_date=end,
        pilot_status=spec.pilot_status,
        outcome=spec.outcome,
        cost_band=spec.cost_band,
        nda=spec.nda,
        lessons=spec.lessons,
        open_to_contact=officer.open_to_contact,
        is_demo=True,
        created_at=created_at,
        updated_at=published_at or created_at,
        published_at=published_at,
    )
