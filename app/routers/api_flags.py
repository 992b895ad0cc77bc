"""Reporting ("flagging") published reviews and pilots through the JSON API (bearer tokens).

The same service and messages as the HTML form (`app/moderation/flags.py`): an invalid body gets 422 with one message
per field, the author's own content 403, content that is not published 404, too many reports 429.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.deps import ApiUser, SessionDep, get_api_user
from app.errors import InvalidInput
from app.models import ContentType, Flag
from app.moderation import flags
from app.routers.api import INVALID, _validated, invalid

router = APIRouter(prefix="/api/v1", tags=["flags"], dependencies=[Depends(get_api_user)])

ContentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
REASON_HELP = "; ".join(
    f"`{code}`{' (message required)' if reason.message_required else ''}" for code, reason in flags.REASONS.items()
)


class FlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=40, description=REASON_HELP)
    message: str = Field(default="", max_length=10000)


class FlagPublic(BaseModel):
    """A report as its sender sees it: never who wrote the content, nor what other officers reported."""

    id: int
    content_type: str
    content_id: int
    reason: str
    message: str | None
    status: str = Field(description="`received`: a moderator will decide")
    complaint_url: str = Field(description="the statutory notice of complaint form about this content (s5)")


RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "The content is the sender's own"},
    404: {"description": "There is no published review or pilot with this id"},
    429: {"description": "Too many reports in the last hour (see Retry-After)"},
    **INVALID,
}
EXAMPLES = {
    "personal data": {"value": {"reason": "personal_data", "message": "It names a member of staff."}},
    "defamatory": {"value": {"reason": "inaccurate_or_defamatory", "message": "The claim about fraud is false."}},
}


def _public(flag: Flag) -> FlagPublic:
    return FlagPublic(
        id=flag.id or 0,
        content_type=flag.content_type.value,
        content_id=flag.content_id,
        reason=flag.reason,
        message=flag.message,
        status="received",
        complaint_url=flags.complaint_url(flag.content_type, flag.content_id),
    )


def _flag(session: SessionDep, user: ApiUser, content_type: ContentType, content_id: int, body: Any) -> JSONResponse:
    try:
        data = _validated(FlagIn, body)
        flag = flags.create_flag(
            session,
            user=user,
            content_type=content_type,
            content_id=content_id,
            reason=data.reason,
            message=data.message,
        )
    except InvalidInput as error:
        session.rollback()
        return invalid(error)
    return JSONResponse(_public(flag).model_dump(), status_code=201)


@router.post(
    "/reviews/{review_id}/flags",
    name="api:flag_review",
    status_code=201,
    response_model=FlagPublic,
    responses=RESPONSES,
)
def flag_review(
    session: SessionDep,
    user: ApiUser,
    review_id: ContentId,
    body: Annotated[dict[str, Any], Body(openapi_examples=EXAMPLES)],
) -> JSONResponse:
    """Report a published review to the moderators, once per officer; a message is required for some reasons."""
    return _flag(session, user, ContentType.review, review_id, body)


@router.post(
    "/pilots/{pilot_id}/flags",
    name="api:flag_pilot",
    status_code=201,
    response_model=FlagPublic,
    responses=RESPONSES,
)
def flag_pilot(
    session: SessionDep,
    user: ApiUser,
    pilot_id: ContentId,
    body: Annotated[dict[str, Any], Body(openapi_examples=EXAMPLES)],
) -> JSONResponse:
    """Report a published pilot record to the moderators, once per officer."""
    return _flag(session, user, ContentType.pilot, pilot_id, body)
