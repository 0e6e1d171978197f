"""API: defenders, organisations, affiliations, consent, contact channels, relations and
merges, with the workspace's services and scopes. A token acts in its one mission; only
administrators and officers reach the registry; another mission's ids answer 404; identity
tags follow the member's permission; reading a record's channels or relations is an audited
read, as opening the record is."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.db.models import Model
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from haven.accounts.api import casework_membership
from haven.accounts.models import Membership, User
from haven.audit.services import record_read
from haven.core.models import Mission
from haven.core.schemas import Code, Day, Error, PageNumber, RowId, items, text
from haven.registry import consent, selectors, services
from haven.registry.models import (
    Affiliation,
    ConsentRecord,
    ContactChannel,
    Defender,
    Organisation,
    Relation,
)

router = Router(tags=["registry"])


# -- schemas


class ChannelIn(Schema):
    channel_type: Code
    value: str = text(500)
    safety_notes: str = text(1000, "")
    preferred: bool = False


class ChannelOut(Schema):
    id: int
    channel_type: str
    value: str
    safety_notes: str
    preferred: bool


class EntryIn(Schema):
    name: str = text(200)
    country: str = text(2, "")
    region: str = text(100, "")
    work_focus: list[Code] = items(50, [])
    visibility: Code = "discreet"
    notes: str = text(20000, "")
    channels: list[ChannelIn] = items(20, [])
    allow_duplicate: bool = False


class DefenderIn(EntryIn):
    known_as: list[Annotated[str, text(200)]] = items(20, [])
    place: str = text(1000, "")
    actor_type: Code = ""
    identity_tags: list[Code] | None = items(50, None)


class OrganisationIn(EntryIn):
    kind: Code


class EntryPatch(Schema):
    name: str | None = text(200, None)
    country: str | None = text(2, None)
    region: str | None = text(100, None)
    work_focus: list[Code] | None = items(50, None)
    visibility: Code | None = None
    notes: str | None = text(20000, None)


class DefenderPatch(EntryPatch):
    known_as: list[Annotated[str, text(200)]] | None = items(20, None)
    place: str | None = text(1000, None)
    actor_type: Code | None = None
    identity_tags: list[Code] | None = items(50, None)


class OrganisationPatch(EntryPatch):
    kind: Code | None = None


class EntrySummary(Schema):
    id: int
    name: str
    country: str
    region: str
    work_focus: list[str]
    visibility: str
    risk_level: str
    updated_at: datetime.datetime


class DefenderSummary(EntrySummary):
    known_as: list[str]
    actor_type: str


class OrganisationSummary(EntrySummary):
    kind: str


class AffiliationOut(Schema):
    id: int
    defender_id: int
    organisation_id: int
    role: str
    started_on: datetime.date | None
    ended_on: datetime.date | None


class RelationOut(Schema):
    id: int
    kind: str
    linked_defender_id: int | None
    name: str
    details: str


class ConsentIn(Schema):
    scope: Code
    channel: Code
    given_on: Day
    given_by: Code = "person"
    given_by_name: str = text(200, "")
    expires_on: Day | None = None
    detail: str = text(1000, "")


class ConsentOut(Schema):
    id: int
    scope: str
    channel: str
    given_by: str
    given_by_name: str
    detail: str
    given_on: datetime.date
    expires_on: datetime.date | None
    withdrawn_at: datetime.datetime | None
    withdrawal_reason: str
    in_force: bool


class DefenderOut(DefenderSummary):
    place: str
    notes: str
    identity_tags: list[str] | None
    channels: list[ChannelOut]
    affiliations: list[AffiliationOut]
    relations: list[RelationOut]
    consents: list[ConsentOut]


class OrganisationOut(OrganisationSummary):
    notes: str
    channels: list[ChannelOut]
    affiliations: list[AffiliationOut]
    consents: list[ConsentOut]


class DefenderPage(Schema):
    count: int
    page: int
    pages: int
    results: list[DefenderSummary]


class OrganisationPage(Schema):
    count: int
    page: int
    pages: int
    results: list[OrganisationSummary]


class Filters(Schema):
    q: str = text(200, "")
    work_focus: Code = ""
    region: str = text(100, "")
    risk_level: Code = ""
    visibility: Code = ""
    organisation: RowId | None = None
    page: PageNumber = 1


class AffiliationIn(Schema):
    defender_id: RowId
    organisation_id: RowId
    role: str = text(200, "")
    started_on: Day | None = None
    ended_on: Day | None = None


class EndIn(Schema):
    ended_on: Day


class WithdrawIn(Schema):
    reason: Code
    note: str = text(2000, "")


# -- scope


def _membership(request: HttpRequest) -> Membership:
    """The token owner's membership of the token's mission, if it may use the registry."""
    return casework_membership(request, _("Only administrators and officers may use the registry."))


def _user_and_mission(request: HttpRequest) -> tuple[User, Mission]:
    membership = _membership(request)
    return membership.user, membership.mission


def _get(request: HttpRequest, model: type[Model], pk: int) -> Any:
    user, mission = _user_and_mission(request)
    found = model.objects.for_user(user, mission=mission).filter(pk=pk).first()  # type: ignore[attr-defined]
    if found is None:
        raise Http404
    return found


def _refuse_identity_tags(membership: Membership, tags: list[str] | None) -> None:
    if tags is not None and not membership.may_see_identity_tags:
        raise HttpError(403, _("You are not allowed to see or set identity tags."))


# -- output


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _channels(entry: Defender | Organisation) -> list[ChannelOut]:
    return [_channel(c) for c in entry.channels.all()]


def _channel(row: ContactChannel) -> ChannelOut:
    return ChannelOut(
        id=row.pk,
        channel_type=row.channel_type,
        value=row.value,
        safety_notes=row.safety_notes,
        preferred=row.preferred,
    )


def _relation(row: Relation) -> RelationOut:
    return RelationOut(
        id=row.pk,
        kind=row.kind,
        linked_defender_id=row.linked_id,
        name=row.name,
        details=row.details,
    )


def _affiliation(row: Affiliation) -> AffiliationOut:
    return AffiliationOut(
        id=row.pk,
        defender_id=row.defender_id,
        organisation_id=row.organisation_id,
        role=row.role,
        started_on=row.started_on,
        ended_on=row.ended_on,
    )


def _consents(entry: Defender | Organisation) -> list[ConsentOut]:
    in_force = set(
        consent.records_of(entry).filter(consent.in_force()).values_list("pk", flat=True)
    )
    return [_consent(row, row.pk in in_force) for row in consent.records_of(entry)]


def _consent(row: ConsentRecord, in_force: bool) -> ConsentOut:
    return ConsentOut(
        id=row.pk,
        scope=row.scope,
        channel=row.channel,
        given_by=row.given_by,
        given_by_name=row.given_by_name,
        detail=row.detail,
        given_on=row.given_on,
        expires_on=row.expires_on,
        withdrawn_at=row.withdrawn_at,
        withdrawal_reason=row.withdrawal_reason,
        in_force=in_force,
    )


def _summary_fields(entry: Defender | Organisation) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "name": entry.name,
        "country": entry.country,
        "region": entry.region,
        "work_focus": list(entry.work_focus),
        "visibility": entry.visibility,
        "risk_level": entry.risk_level,
        "updated_at": entry.updated_at,
    }


def _defender_summary(defender: Defender) -> DefenderSummary:
    return DefenderSummary(
        **_summary_fields(defender),
        known_as=_lines(defender.known_as),
        actor_type=defender.actor_type,
    )


def _organisation_summary(organisation: Organisation) -> OrganisationSummary:
    return OrganisationSummary(**_summary_fields(organisation), kind=organisation.kind)


def _defender_out(defender: Defender, membership: Membership) -> DefenderOut:
    record_read(actor=membership.user, mission=membership.mission, obj=defender)
    return DefenderOut(
        **_defender_summary(defender).dict(),
        place=defender.place,
        notes=defender.notes,
        identity_tags=list(defender.identity_tags) if membership.may_see_identity_tags else None,
        channels=_channels(defender),
        affiliations=[_affiliation(row) for row in defender.affiliations.all()],
        relations=[_relation(row) for row in defender.relations.all()],
        consents=_consents(defender),
    )


def _organisation_out(organisation: Organisation, membership: Membership) -> OrganisationOut:
    record_read(actor=membership.user, mission=membership.mission, obj=organisation)
    return OrganisationOut(
        **_organisation_summary(organisation).dict(),
        notes=organisation.notes,
        channels=_channels(organisation),
        affiliations=[_affiliation(row) for row in organisation.affiliations.all()],
        consents=_consents(organisation),
    )


def _filters(query: Filters) -> selectors.RegistryFilters:
    return selectors.RegistryFilters(
        q=query.q,
        work_focus=query.work_focus,
        region=query.region,
        risk_level=query.risk_level,
        visibility=query.visibility,
        organisation=query.organisation,
    )


def _entry_values(payload: EntryIn | EntryPatch, *, exclude_unset: bool) -> dict[str, Any]:
    values = payload.dict(exclude_unset=exclude_unset, exclude={"channels", "allow_duplicate"})
    if exclude_unset:
        values = {name: value for name, value in values.items() if value is not None}
    if "known_as" in values:
        values["known_as"] = "\n".join(values["known_as"])
    if values.get("identity_tags") is None:
        values.pop("identity_tags", None)
    if not values.get("country", True):
        values.pop("country")
    return values


def _channel_inputs(channels: list[ChannelIn]) -> list[services.ChannelInput]:
    return [
        services.ChannelInput(c.channel_type, c.value, c.safety_notes, c.preferred)
        for c in channels
    ]


# -- defenders


@router.get("/defenders", response=DefenderPage, summary="Defenders, 50 a page, filtered")
def defenders(request: HttpRequest, query: Query[Filters]) -> DefenderPage:
    user, mission = _user_and_mission(request)
    page = selectors.defender_page(user, mission, _filters(query), query.page)
    return DefenderPage(
        count=page.paginator.count,
        page=page.number,
        pages=page.paginator.num_pages,
        results=[_defender_summary(defender) for defender in page.object_list],
    )


@router.post("/defenders", response={201: DefenderOut}, summary="Register a defender")
def create_defender(request: HttpRequest, payload: DefenderIn) -> Status[DefenderOut]:
    membership = _membership(request)
    _refuse_identity_tags(membership, payload.identity_tags)
    defender = services.create_defender(
        mission=membership.mission,
        actor=membership.user,
        channels=_channel_inputs(payload.channels),
        allow_duplicates=payload.allow_duplicate,
        **_entry_values(payload, exclude_unset=False),
    )
    return Status(201, _defender_out(defender, membership))


@router.get("/defenders/{defender_id}", response=DefenderOut, summary="A defender's record")
def defender(request: HttpRequest, defender_id: RowId) -> DefenderOut:
    return _defender_out(_get(request, Defender, defender_id), _membership(request))


@router.patch("/defenders/{defender_id}", response=DefenderOut, summary="Change a defender")
def change_defender(
    request: HttpRequest, defender_id: RowId, payload: DefenderPatch
) -> DefenderOut:
    membership = _membership(request)
    found: Defender = _get(request, Defender, defender_id)
    _refuse_identity_tags(membership, payload.identity_tags)
    services.update_entry(
        entry=found, actor=membership.user, changes=_entry_values(payload, exclude_unset=True)
    )
    return _defender_out(found, membership)


# -- organisations


@router.get("/organisations", response=OrganisationPage, summary="Organisations, 50 a page")
def organisations(request: HttpRequest, query: Query[Filters]) -> OrganisationPage:
    user, mission = _user_and_mission(request)
    page = selectors.organisation_page(user, mission, _filters(query), query.page)
    return OrganisationPage(
        count=page.paginator.count,
        page=page.number,
        pages=page.paginator.num_pages,
        results=[_organisation_summary(row) for row in page.object_list],
    )


@router.post("/organisations", response={201: OrganisationOut}, summary="Register one")
def create_organisation(request: HttpRequest, payload: OrganisationIn) -> Status[OrganisationOut]:
    membership = _membership(request)
    organisation = services.create_organisation(
        mission=membership.mission,
        actor=membership.user,
        channels=_channel_inputs(payload.channels),
        allow_duplicates=payload.allow_duplicate,
        **_entry_values(payload, exclude_unset=False),
    )
    return Status(201, _organisation_out(organisation, membership))


@router.get("/organisations/{organisation_id}", response=OrganisationOut, summary="One")
def organisation(request: HttpRequest, organisation_id: RowId) -> OrganisationOut:
    return _organisation_out(_get(request, Organisation, organisation_id), _membership(request))


@router.patch("/organisations/{organisation_id}", response=OrganisationOut, summary="Change")
def change_organisation(
    request: HttpRequest, organisation_id: RowId, payload: OrganisationPatch
) -> OrganisationOut:
    membership = _membership(request)
    found: Organisation = _get(request, Organisation, organisation_id)
    services.update_entry(
        entry=found, actor=membership.user, changes=_entry_values(payload, exclude_unset=True)
    )
    return _organisation_out(found, membership)


# -- affiliations


@router.get(
    "/defenders/{defender_id}/affiliations",
    response=list[AffiliationOut],
    summary="A defender's organisations",
)
def affiliations(request: HttpRequest, defender_id: RowId) -> list[AffiliationOut]:
    found: Defender = _get(request, Defender, defender_id)
    return [_affiliation(row) for row in found.affiliations.all()]


@router.post("/affiliations", response={201: AffiliationOut}, summary="Add an affiliation")
def add_affiliation(request: HttpRequest, payload: AffiliationIn) -> Status[AffiliationOut]:
    membership = _membership(request)
    row = services.add_affiliation(
        defender=_get(request, Defender, payload.defender_id),
        organisation=_get(request, Organisation, payload.organisation_id),
        actor=membership.user,
        role=payload.role,
        started_on=payload.started_on,
        ended_on=payload.ended_on,
    )
    return Status(201, _affiliation(row))


@router.post(
    "/affiliations/{affiliation_id}/end", response=AffiliationOut, summary="End an affiliation"
)
def end_affiliation(request: HttpRequest, affiliation_id: RowId, payload: EndIn) -> AffiliationOut:
    membership = _membership(request)
    row: Affiliation = _get(request, Affiliation, affiliation_id)
    services.end_affiliation(affiliation=row, actor=membership.user, ended_on=payload.ended_on)
    return _affiliation(row)


# -- consent


def _record_consent(
    request: HttpRequest, entry: Defender | Organisation, payload: ConsentIn
) -> Status[ConsentOut]:
    row = services.record_consent(entry=entry, actor=_membership(request).user, **payload.dict())
    in_force = consent.records_of(entry).filter(consent.in_force(), pk=row.pk).exists()
    return Status(201, _consent(row, in_force))


@router.get(
    "/defenders/{defender_id}/consents", response=list[ConsentOut], summary="A defender's consent"
)
def defender_consents(request: HttpRequest, defender_id: RowId) -> list[ConsentOut]:
    return _consents(_get(request, Defender, defender_id))


@router.post(
    "/defenders/{defender_id}/consents", response={201: ConsentOut}, summary="Record consent"
)
def record_defender_consent(
    request: HttpRequest, defender_id: RowId, payload: ConsentIn
) -> Status[ConsentOut]:
    return _record_consent(request, _get(request, Defender, defender_id), payload)


@router.get(
    "/organisations/{organisation_id}/consents",
    response=list[ConsentOut],
    summary="An organisation's consent",
)
def organisation_consents(request: HttpRequest, organisation_id: RowId) -> list[ConsentOut]:
    return _consents(_get(request, Organisation, organisation_id))


@router.post(
    "/organisations/{organisation_id}/consents",
    response={201: ConsentOut},
    summary="Record an organisation's consent",
)
def record_organisation_consent(
    request: HttpRequest, organisation_id: RowId, payload: ConsentIn
) -> Status[ConsentOut]:
    return _record_consent(request, _get(request, Organisation, organisation_id), payload)


@router.post("/consents/{consent_id}/withdraw", response=ConsentOut, summary="Withdraw consent")
def withdraw_consent(request: HttpRequest, consent_id: RowId, payload: WithdrawIn) -> ConsentOut:
    membership = _membership(request)
    row: ConsentRecord = _get(request, ConsentRecord, consent_id)
    row = services.withdraw_consent(
        consent=row, actor=membership.user, reason=payload.reason, note=payload.note
    )
    return _consent(row, in_force=False)


# -- contact channels


def _read(request: HttpRequest, entry: Defender | Organisation, fields: list[str]) -> None:
    membership = _membership(request)
    record_read(actor=membership.user, mission=membership.mission, obj=entry, fields=fields)


def _add_channel(
    request: HttpRequest, entry: Defender | Organisation, payload: ChannelIn
) -> Status[ChannelOut]:
    row = services.add_channel(
        entry=entry, actor=_membership(request).user, channel=_channel_inputs([payload])[0]
    )
    return Status(201, _channel(row))


@router.get(
    "/defenders/{defender_id}/channels",
    response={200: list[ChannelOut], 403: Error, 404: Error},
    summary="How to reach a defender (the read is logged)",
)
def defender_channels(request: HttpRequest, defender_id: RowId) -> list[ChannelOut]:
    found: Defender = _get(request, Defender, defender_id)
    _read(request, found, ["channels"])
    return _channels(found)


@router.post(
    "/defenders/{defender_id}/channels",
    response={201: ChannelOut, 403: Error, 404: Error, 409: Error},
    summary="Add a contact channel to a defender",
)
def add_defender_channel(
    request: HttpRequest, defender_id: RowId, payload: ChannelIn
) -> Status[ChannelOut]:
    return _add_channel(request, _get(request, Defender, defender_id), payload)


@router.get(
    "/organisations/{organisation_id}/channels",
    response={200: list[ChannelOut], 403: Error, 404: Error},
    summary="How to reach an organisation (the read is logged)",
)
def organisation_channels(request: HttpRequest, organisation_id: RowId) -> list[ChannelOut]:
    found: Organisation = _get(request, Organisation, organisation_id)
    _read(request, found, ["channels"])
    return _channels(found)


@router.post(
    "/organisations/{organisation_id}/channels",
    response={201: ChannelOut, 403: Error, 404: Error, 409: Error},
    summary="Add a contact channel to an organisation",
)
def add_organisation_channel(
    request: HttpRequest, organisation_id: RowId, payload: ChannelIn
) -> Status[ChannelOut]:
    return _add_channel(request, _get(request, Organisation, organisation_id), payload)


@router.put(
    "/channels/{channel_id}",
    response={200: ChannelOut, 403: Error, 404: Error, 409: Error},
    summary="Change a contact channel",
)
def change_channel(request: HttpRequest, channel_id: RowId, payload: ChannelIn) -> ChannelOut:
    row: ContactChannel = _get(request, ContactChannel, channel_id)
    services.update_channel(
        channel=row, actor=_membership(request).user, changes=_channel_inputs([payload])[0]
    )
    return _channel(row)


@router.delete(
    "/channels/{channel_id}",
    response={204: None, 403: Error, 404: Error},
    summary="Remove a contact channel (the next one becomes preferred)",
)
def remove_channel(request: HttpRequest, channel_id: RowId) -> Status[None]:
    row: ContactChannel = _get(request, ContactChannel, channel_id)
    services.remove_channel(channel=row, actor=_membership(request).user)
    return Status(204, None)


# -- relations


class RelationIn(Schema):
    kind: str = Field(max_length=20)
    linked_defender_id: RowId | None = None
    name: str = Field(default="", max_length=200)
    details: str = Field(default="", max_length=2000)


@router.get(
    "/defenders/{defender_id}/relations",
    response={200: list[RelationOut], 403: Error, 404: Error},
    summary="A defender's relatives and linked people (the read is logged)",
)
def relations(request: HttpRequest, defender_id: RowId) -> list[RelationOut]:
    found: Defender = _get(request, Defender, defender_id)
    _read(request, found, ["relations"])
    return [_relation(row) for row in found.relations.all()]


@router.post(
    "/defenders/{defender_id}/relations",
    response={201: RelationOut, 403: Error, 404: Error, 409: Error},
    summary="Link a relative or another person: someone in the registry, or described",
)
def add_relation(
    request: HttpRequest, defender_id: RowId, payload: RelationIn
) -> Status[RelationOut]:
    found: Defender = _get(request, Defender, defender_id)
    linked = None
    if payload.linked_defender_id is not None:
        linked = _get(request, Defender, payload.linked_defender_id)
    row = services.add_relation(
        defender=found,
        actor=_membership(request).user,
        kind=payload.kind,
        linked=linked,
        name=payload.name,
        details=payload.details,
    )
    return Status(201, _relation(row))


@router.delete(
    "/relations/{relation_id}",
    response={204: None, 403: Error, 404: Error},
    summary="Remove a relation",
)
def remove_relation(request: HttpRequest, relation_id: RowId) -> Status[None]:
    row: Relation = _get(request, Relation, relation_id)
    services.remove_relation(relation=row, actor=_membership(request).user)
    return Status(204, None)


# -- merges


class DuplicateOut(Schema):
    id: int
    name: str
    reasons: list[str]


class MergeIn(Schema):
    duplicate_id: RowId


@router.get(
    "/defenders/{defender_id}/duplicates",
    response={200: list[DuplicateOut], 403: Error, 404: Error},
    summary="Records that share a name, phone number or e-mail address with this defender",
)
def defender_duplicates(request: HttpRequest, defender_id: RowId) -> list[DuplicateOut]:
    found: Defender = _get(request, Defender, defender_id)
    return [
        DuplicateOut(id=match.entry.pk, name=match.entry.name, reasons=match.reasons)
        for match in services.possible_duplicates_of(found)
    ]


@router.post(
    "/defenders/{defender_id}/merge",
    response={200: DefenderOut, 403: Error, 404: Error, 409: Error},
    summary="Fold another record into this one; the other is destroyed for good",
)
def merge_defenders(request: HttpRequest, defender_id: RowId, payload: MergeIn) -> DefenderOut:
    membership = _membership(request)
    survivor: Defender = _get(request, Defender, defender_id)
    duplicate: Defender = _get(request, Defender, payload.duplicate_id)
    services.merge_defenders(survivor=survivor, duplicate=duplicate, actor=membership.user)
    survivor.refresh_from_db()
    return _defender_out(survivor, membership)
