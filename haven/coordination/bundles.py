"""What goes into a bundle for a partner, decided by the defender's consent, and how a received
bundle is read back.

The rule (DOMAIN.md, consent scopes): with consent to "share with named like-minded missions"
in force and naming this partner, a case summary carries the defender's name, work focus,
region, the case's title and summary, its incidents (date, kind, alleged perpetrator,
verification) and hearings (date, court, kind of tribunal, status). With only consent to
de-identified reporting it carries region, work focus, incident kinds and dates with their
verification, and the case's status and urgency: no name, no free text. Contact channels,
relatives, identity tags and notes never travel. Without either consent nothing is made.

Invariant: the payload is built field by field from what the consent allows; nothing is
copied wholesale from a model, so a field added to a model later does not leak into bundles.
"""

from __future__ import annotations

import datetime
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from haven.cases.models import Case, CaseStatus, Verification
from haven.coordination.models import ROTA_SCHEMA, SUMMARY_SCHEMA, ConsentBasis, Partner
from haven.core.choices import Urgency
from haven.core.models import Mission
from haven.core.vocab.consent_scopes import CONSENT_SCOPES
from haven.core.vocab.threats import PERPETRATOR_TYPES, THREAT_TYPES
from haven.core.vocab.work_focus import WORK_FOCUS
from haven.monitoring.models import Hearing, HearingStatus, Tribunal
from haven.registry.consent import in_force, records_of
from haven.registry.models import Defender, Organisation

NAMED_SCOPE = "share_missions"
DEIDENTIFIED_SCOPE = "deidentified_reporting"
SCHEMAS = (SUMMARY_SCHEMA, ROTA_SCHEMA)
MAX_ROWS = 500  # incidents, hearings or rota lines a received bundle may list
MAX_TEXT = 20_000


class ConsentMissing(Exception):
    """No consent in force lets this case go to this partner; the message says which to record."""


class MalformedPayload(Exception):
    """The bundle opened and its signature holds, but its contents are not a form Haven knows."""


def named_recipients(detail: str) -> set[str]:
    """The recipients a consent names: one per line or separated by commas, any case."""
    return {part.strip().casefold() for part in re.split(r"[,\n;]", detail or "") if part.strip()}


def names_partner(detail: str, partner: Partner) -> bool:
    named = named_recipients(detail)
    return partner.name.casefold() in named or partner.code.casefold() in named


def consent_basis(subject: Defender | Organisation | None, partner: Partner) -> str:
    """Which consent lets the subject's case go to ``partner``; ``ConsentMissing`` if none."""
    if subject is None:
        raise ConsentMissing(
            _("This case has no defender or organisation, so no consent covers sharing it.")
        )
    records = records_of(subject).filter(in_force())
    for record in records.filter(scope=NAMED_SCOPE):
        if names_partner(record.detail, partner):
            return ConsentBasis.NAMED
    if records.filter(scope=DEIDENTIFIED_SCOPE).exists():
        return ConsentBasis.DEIDENTIFIED
    raise ConsentMissing(
        _(
            "Their consent does not allow sharing this case with %(partner)s. Record consent to "
            "“%(named)s” naming %(partner)s (or its code %(code)s), or consent to “%(deid)s” to "
            "send it without their name."
        )
        % {
            "partner": partner.name,
            "code": partner.code,
            "named": CONSENT_SCOPES.label(NAMED_SCOPE),
            "deid": CONSENT_SCOPES.label(DEIDENTIFIED_SCOPE),
        }
    )


def _envelope(schema: str, mission: Mission, partner: Partner) -> dict[str, Any]:
    return {
        "schema": schema,
        "bundle": str(uuid.uuid4()),
        "created_at": timezone.now().isoformat(),
        "sender": {"name": mission.name},
        "recipient": {"name": partner.name, "code": partner.code},
    }


def case_summary(case: Case, partner: Partner, basis: str) -> tuple[dict[str, Any], list[str]]:
    """The payload of a case summary for ``partner`` under ``basis``, and its field names."""
    named = basis == ConsentBasis.NAMED
    subject = case.subject
    assert subject is not None  # consent_basis refused a case without one
    payload = _envelope(SUMMARY_SCHEMA, case.mission, partner)
    payload["consent"] = str(basis)
    fields = ["subject.region", "subject.work_focus", "case.status", "case.urgency"]
    payload["subject"] = {
        "kind": "defender" if isinstance(subject, Defender) else "organisation",
        "region": subject.region,
        "work_focus": list(subject.work_focus),
    }
    payload["case"] = {"status": case.status, "urgency": case.urgency}
    incidents = list(case.incidents.all())
    payload["incidents"] = [
        {
            "occurred_on": incident.occurred_on.isoformat(),
            "incident_type": incident.incident_type,
            "verification": incident.verification,
        }
        for incident in incidents
    ]
    fields += ["incidents.occurred_on", "incidents.incident_type", "incidents.verification"]
    if named:
        payload["subject"]["name"] = subject.name
        payload["case"]["title"] = case.title
        payload["case"]["summary"] = case.summary
        for row, incident in zip(payload["incidents"], incidents, strict=True):
            row["perpetrator_type"] = incident.perpetrator_type
        payload["hearings"] = [
            {
                "starts_at": hearing.starts_at.isoformat(),
                "court": hearing.court,
                "tribunal": hearing.tribunal,
                "status": hearing.status,
            }
            for hearing in Hearing.objects.filter(case=case).order_by("starts_at", "pk")
        ]
        fields += [
            "subject.name",
            "case.title",
            "case.summary",
            "incidents.perpetrator_type",
            "hearings.starts_at",
            "hearings.court",
            "hearings.tribunal",
            "hearings.status",
        ]
    return payload, sorted(fields)


OBSERVERS = ("sender", "recipient", "both")
ROTA_FIELDS = [
    "hearings.starts_at",
    "hearings.court",
    "hearings.tribunal",
    "hearings.subject_name",
    "hearings.observer",
]


def rota(
    mission: Mission, partner: Partner, lines: list[tuple[Hearing, str]]
) -> tuple[dict[str, Any], list[str]]:
    """The payload of a trial-observation rota: each hearing and who observes it."""
    payload = _envelope(ROTA_SCHEMA, mission, partner)
    payload["hearings"] = [
        {
            "starts_at": hearing.starts_at.isoformat(),
            "court": hearing.court,
            "tribunal": hearing.tribunal,
            "subject_name": hearing.case.subject.name if hearing.case.subject else "",
            "observer": observer,
        }
        for hearing, observer in lines
    ]
    return payload, list(ROTA_FIELDS)


# -- reading what a partner sent


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    return str(value if value is not None else "")[:limit]


def _when(value: Any) -> datetime.datetime | None:
    parsed = parse_datetime(_text(value, 64)) if value else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, datetime.UTC)
    return parsed


def _rows(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_ROWS:
        raise MalformedPayload(_("The bundle lists more rows than Haven accepts, or not a list."))
    if not all(isinstance(row, dict) for row in value):
        raise MalformedPayload(_("The bundle's rows are not in the form Haven writes."))
    return value


@dataclass(frozen=True)
class Envelope:
    schema: str
    bundle_uuid: uuid.UUID
    created_at: datetime.datetime
    sender_name: str


def check_payload(payload: Any) -> Envelope:
    """The envelope of a decoded payload, or ``MalformedPayload`` naming what is wrong."""
    if not isinstance(payload, dict):
        raise MalformedPayload(_("The bundle's contents are not in the form Haven writes."))
    schema = payload.get("schema")
    if schema not in SCHEMAS:
        raise MalformedPayload(
            _("The bundle holds “%(schema)s”, which this version of Haven cannot read.")
            % {"schema": _text(schema, 80)}
        )
    try:
        bundle_uuid = uuid.UUID(_text(payload.get("bundle"), 40))
    except ValueError:
        raise MalformedPayload(_("The bundle has no valid identifier.")) from None
    created_at = _when(payload.get("created_at"))
    if created_at is None:
        raise MalformedPayload(_("The bundle does not say when it was made."))
    sender = payload.get("sender")
    sender_name = _text(sender.get("name"), 200) if isinstance(sender, dict) else ""
    for key in ("incidents", "hearings"):
        if key in payload:
            _rows(payload[key])
    for key in ("subject", "case"):
        if key in payload and not isinstance(payload[key], dict):
            raise MalformedPayload(_("The bundle's contents are not in the form Haven writes."))
    return Envelope(str(schema), bundle_uuid, created_at, sender_name)


@dataclass
class Reading:
    """A received payload turned into labelled, plain values for a page (escaped there)."""

    kind: str
    named: bool = False
    subject: list[tuple[str, str]] = field(default_factory=list)
    case: list[tuple[str, str]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    hearings: list[dict[str, str]] = field(default_factory=list)


def _label(choices: Any, code: Any) -> str:
    code = _text(code, 60)
    return str(dict(choices).get(code, code))


def _date(value: Any) -> str:
    parsed = parse_date(_text(value, 40)) if value else None
    return parsed.isoformat() if parsed else _text(value, 40)


def _datetime(value: Any) -> str:
    parsed = _when(value)
    if parsed is None:
        return _text(value, 40)
    return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M")


def read_payload(payload: dict[str, Any], *, sender: str, recipient: str) -> Reading:
    """What a person sees of a received bundle: known fields only, codes as labels.

    ``sender`` and ``recipient`` are the names to show for the rota's observer codes.
    """
    if payload.get("schema") == ROTA_SCHEMA:
        who = {"sender": sender, "recipient": recipient, "both": _("Both missions")}
        reading = Reading(kind="rota")
        for row in _rows(payload.get("hearings", [])):
            reading.hearings.append(
                {
                    "starts_at": _datetime(row.get("starts_at")),
                    "court": _text(row.get("court"), 500),
                    "tribunal": _label(Tribunal.choices, row.get("tribunal")),
                    "subject_name": _text(row.get("subject_name"), 200),
                    "observer": who.get(_text(row.get("observer"), 20), _("Not agreed")),
                }
            )
        return reading
    subject = payload.get("subject") or {}
    case = payload.get("case") or {}
    reading = Reading(kind="case_summary", named=payload.get("consent") == ConsentBasis.NAMED)
    if "name" in subject:
        reading.subject.append((_("Name"), _text(subject.get("name"), 200)))
    reading.subject.append((_("Region"), _text(subject.get("region"), 100) or "—"))
    raw_focus = subject.get("work_focus")
    focus: list[Any] = raw_focus if isinstance(raw_focus, list) else []
    reading.subject.append(
        (_("Work focus"), ", ".join(WORK_FOCUS.label(_text(c, 60)) for c in focus[:50]) or "—")
    )
    if "title" in case:
        reading.case.append((_("Title"), _text(case.get("title"), 500)))
    if "summary" in case:
        reading.case.append((_("Summary"), _text(case.get("summary"))))
    reading.case.append((_("Status"), _label(CaseStatus.choices, case.get("status"))))
    reading.case.append((_("Urgency"), _label(Urgency.choices, case.get("urgency"))))
    for row in _rows(payload.get("incidents", [])):
        reading.incidents.append(
            {
                "occurred_on": _date(row.get("occurred_on")),
                "incident_type": THREAT_TYPES.label(_text(row.get("incident_type"), 60)),
                "perpetrator_type": (
                    PERPETRATOR_TYPES.label(_text(row.get("perpetrator_type"), 60))
                    if "perpetrator_type" in row
                    else ""
                ),
                "verification": _label(Verification.choices, row.get("verification")),
                "unverified": str(row.get("verification")) != Verification.CONFIRMED,
            }
        )
    for row in _rows(payload.get("hearings", [])):
        reading.hearings.append(
            {
                "starts_at": _datetime(row.get("starts_at")),
                "court": _text(row.get("court"), 500),
                "tribunal": _label(Tribunal.choices, row.get("tribunal")),
                "status": _label(HearingStatus.choices, row.get("status")),
            }
        )
    return reading
