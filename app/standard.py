"""The review standard, version 1 (`product.md`): the one place its dimensions, descriptors and choices live."""

from dataclasses import dataclass

from app.models import CostBand, NdaStatus, PilotOutcome, PilotStatus, ProcurementRoute, Relationship

STANDARD_VERSION = 1


@dataclass(frozen=True)
class Dimension:
    key: str  # the Review attribute
    label: str
    at_1: str
    at_3: str
    at_5: str


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "implementation",
        "Implementation and delivery",
        "failed or badly late; weak team",
        "delivered with manageable issues",
        "on time, competent, proactive",
    ),
    Dimension(
        "customisation_cost",
        "Cost of customisation and change",
        "every change is slow and expensive",
        "changes cost what we expected",
        "most changes in-house, or included",
    ),
    Dimension(
        "fit",
        "Fit to requirements",
        "major gaps; workarounds everywhere",
        "core needs met, some gaps",
        "met our needs out of the box",
    ),
    Dimension(
        "support",
        "Support and service levels",
        "SLAs missed, slow answers",
        "SLAs mostly met",
        "SLAs met, fast and expert help",
    ),
    Dimension("value", "Value for money", "poor value for what we pay", "fair", "excellent value"),
    Dimension(
        "partnership",
        "Partnership and improvement",
        "ignores feedback",
        "listens sometimes",
        "acts on feedback; real roadmap input",
    ),
    Dimension(
        "data_exit",
        "Data, integration and exit",
        "data locked in; closed",
        "some export and APIs",
        "open APIs, full export, helps at exit",
    ),
)

SERVICE_AREAS: tuple[str, ...] = (
    "Adult social care",
    "Children's services",
    "Revenues and benefits",
    "Housing",
    "Planning",
    "Waste and recycling",
    "Customer services",
    "Finance",
    "HR and payroll",
    "ICT infrastructure",
    "Education",
    "Highways and transport",
    "Public health",
    "Libraries and leisure",
    "Elections and democratic services",
    "Legal and governance",
    "Other",
)

TIME_USED: tuple[str, ...] = ("Under 6 months", "6 months to 1 year", "1 to 2 years", "2 to 5 years", "Over 5 years")

RELATIONSHIPS: dict[Relationship, str] = {
    Relationship.pilot: "Pilot",
    Relationship.live_contract: "Live contract",
    Relationship.past_contract: "Past contract",
    Relationship.evaluated: "Evaluated but did not buy",
}

PROCUREMENT_ROUTES: dict[ProcurementRoute, str] = {
    ProcurementRoute.framework: "Framework",
    ProcurementRoute.direct_award: "Direct award",
    ProcurementRoute.open_tender: "Open tender",
}

COST_BANDS: dict[CostBand, str] = {
    CostBand.under_5k: "Under £5k",
    CostBand.from_5k_to_25k: "£5k to £25k",
    CostBand.from_25k_to_100k: "£25k to £100k",
    CostBand.from_100k_to_500k: "£100k to £500k",
    CostBand.over_500k: "Over £500k",
}

PILOT_STATUSES: dict[PilotStatus, str] = {
    PilotStatus.planned: "Planned",
    PilotStatus.running: "Running",
    PilotStatus.completed: "Completed",
    PilotStatus.stopped: "Stopped early",
}

PILOT_OUTCOMES: dict[PilotOutcome, str] = {
    PilotOutcome.adopted: "Adopted",
    PilotOutcome.extending: "Extending the pilot",
    PilotOutcome.not_adopted: "Not adopted",
    PilotOutcome.inconclusive: "Inconclusive",
}

NDA_STATUSES: dict[NdaStatus, str] = {
    NdaStatus.yes: "Yes",
    NdaStatus.no: "No",
    NdaStatus.unknown: "I do not know",
}

# Where an exact contract value may be quoted from: it must already be public.
PUBLISHED_SOURCE_HOSTS: tuple[str, ...] = (
    "www.contractsfinder.service.gov.uk",
    "contractsfinder.service.gov.uk",
    "www.find-tender.service.gov.uk",
    "find-tender.service.gov.uk",
    "www.publiccontractsscotland.gov.uk",
    "www.sell2wales.gov.wales",
    "etendersni.gov.uk",
)
