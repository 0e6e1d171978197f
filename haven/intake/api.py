"""API: portal requests in triage (the inbox, one request opened, its conversation, replies,
triage, linking to a defender, discarding), through the workspace's services and scope.

Only administrators and officers reach requests, as in the workspace; another mission's
request answers 404. Opening a request or its conversation decrypts it, so each is an audited
read, as the workspace's request page is; files stay in the workspace.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from haven.accounts.api import casework_membership
from haven.accounts.models import Membership
from haven.audit.services import record_read
from haven.core.schemas import Error, RowId
from haven.intake import selectors, services
from haven.intake.models import Message, Submission
from haven.intake.services import MAX_MESSAGE
from haven.registry import selectors as registry_selectors

router = Router(tags=["requests"])

INBOX_SIZE = 200
# The answers that are lists of vocabulary codes; every other answer is text.
_LISTS = ("help_wanted", "consent")


# -- schemas


class SubmissionSummary(Schema):
    id: int
    received_on: datetime.date
    kind: str
    status: str
    urgency: str
    suggested_urgency: str
    defender_id: int | None
    deletion_requested_on: datetime.date | None


class AnswersOut(Schema):
    """What the person wrote on the portal form."""

    kind: str
    at_risk: str
    name: str
    work: str
    happened_on: str
    place: str
    description: str
    responsible: str
    steps_taken: str
    help_wanted: list[str]
    contact: str
    consent: list[str]
    language: str


class AttachmentOut(Schema):
    id: int
    kind: str
    size: int
    sanitised: bool
    has_original: bool


class SubmissionOut(SubmissionSummary):
    answers: AnswersOut
    attachments: list[AttachmentOut]


class MessageOut(Schema):
    id: int
    direction: str
    sent_on: datetime.date
    author_id: int | None
    text: str


class ReplyIn(Schema):
    text: str = Field(min_length=1, max_length=MAX_MESSAGE)


class TriageIn(Schema):
    status: str = Field(max_length=12)
    urgency: str = Field(max_length=10)


class LinkIn(Schema):
    defender_id: RowId


# -- scope


def _membership(request: HttpRequest) -> Membership:
    return casework_membership(
        request, _("Only administrators and officers may read requests from the portal.")
    )


def _submission(request: HttpRequest, submission_id: int) -> tuple[Membership, Submission]:
    membership = _membership(request)
    rows = selectors.submissions(membership.user, membership.mission)
    found = rows.filter(pk=submission_id).first()
    if found is None:
        raise Http404
    return membership, found


# -- output


def _summary_fields(row: Submission) -> dict[str, Any]:
    return {
        "id": row.pk,
        "received_on": row.received_on,
        "kind": row.kind,
        "status": row.status,
        "urgency": row.urgency,
        "suggested_urgency": row.suggested_urgency,
        "defender_id": row.defender_id,
        "deletion_requested_on": row.deletion_requested_on,
    }


def _answers(answers: dict[str, Any]) -> AnswersOut:
    """The sealed answers as the schema says: an answer left empty is "" or [], never null."""
    values: dict[str, Any] = {
        name: [str(code) for code in answers.get(name) or []]
        if name in _LISTS
        else str(answers.get(name) or "")
        for name in AnswersOut.model_fields
    }
    return AnswersOut(**values)


def message_out(message: Message, text: str) -> MessageOut:
    """One message of a conversation, as the cases' API shows it too."""
    return MessageOut(
        id=message.pk,
        direction=message.direction,
        sent_on=message.sent_on,
        author_id=message.author_id,
        text=text,
    )


# -- routes


@router.get(
    "/submissions",
    response={200: list[SubmissionSummary], 403: Error},
    summary="Open requests from the portal, most urgent first",
)
def submissions(request: HttpRequest) -> list[SubmissionSummary]:
    membership = _membership(request)
    rows = selectors.inbox(membership.user, membership.mission)[:INBOX_SIZE]
    return [SubmissionSummary(**_summary_fields(row)) for row in rows]


@router.get(
    "/submissions/{submission_id}",
    response={200: SubmissionOut, 403: Error, 404: Error},
    summary="Open one request (decrypted; the read is logged)",
)
def submission(request: HttpRequest, submission_id: RowId) -> SubmissionOut:
    membership, found = _submission(request, submission_id)
    answers = services.open_submission(submission=found, actor=membership.user)
    return SubmissionOut(
        **_summary_fields(found),
        answers=_answers(answers),
        attachments=[
            AttachmentOut(
                id=row.pk,
                kind=row.kind,
                size=row.size,
                sanitised=row.sanitised,
                has_original=row.has_original,
            )
            for row in found.attachments.all()
        ],
    )


@router.get(
    "/submissions/{submission_id}/messages",
    response={200: list[MessageOut], 403: Error, 404: Error},
    summary="The conversation with the person (decrypted; the read is logged)",
)
def submission_messages(request: HttpRequest, submission_id: RowId) -> list[MessageOut]:
    membership, found = _submission(request, submission_id)
    record_read(actor=membership.user, mission=membership.mission, obj=found, fields=["messages"])
    return [message_out(row, text) for row, text in services.conversation_for_mission(found)]


@router.post(
    "/submissions/{submission_id}/messages",
    response={201: MessageOut, 403: Error, 404: Error, 409: Error},
    summary="Reply, sealed to the person's receipt",
)
def reply_to_submission(
    request: HttpRequest, submission_id: RowId, payload: ReplyIn
) -> Status[MessageOut]:
    membership, found = _submission(request, submission_id)
    message = services.reply(submission=found, actor=membership.user, text=payload.text)
    return Status(201, message_out(message, payload.text.strip()))


@router.post(
    "/submissions/{submission_id}/triage",
    response={200: SubmissionSummary, 403: Error, 404: Error, 409: Error},
    summary="Confirm the urgency and set the status the person sees",
)
def triage_submission(
    request: HttpRequest, submission_id: RowId, payload: TriageIn
) -> SubmissionSummary:
    membership, found = _submission(request, submission_id)
    services.triage(submission=found, actor=membership.user, **payload.dict())
    return SubmissionSummary(**_summary_fields(found))


@router.post(
    "/submissions/{submission_id}/defender",
    response={200: SubmissionSummary, 403: Error, 404: Error, 409: Error},
    summary="Say which defender of the registry the request is about",
)
def link_submission(
    request: HttpRequest, submission_id: RowId, payload: LinkIn
) -> SubmissionSummary:
    membership, found = _submission(request, submission_id)
    defenders = registry_selectors.defenders(membership.user, membership.mission)
    defender = defenders.filter(pk=payload.defender_id).first()
    if defender is None:
        raise Http404
    services.link_defender(submission=found, defender=defender, actor=membership.user)
    return SubmissionSummary(**_summary_fields(found))


@router.delete(
    "/submissions/{submission_id}",
    response={204: None, 403: Error, 404: Error},
    summary="Delete a request with its messages and files, for good (shredded)",
)
def discard_submission(request: HttpRequest, submission_id: RowId) -> Status[None]:
    membership, found = _submission(request, submission_id)
    services.discard(submission=found, actor=membership.user)
    return Status(204, None)
