"""What the exit export holds: one part per model, in the order an import recreates them.

Invariant: every model with a foreign key to ``Mission`` (and every row that belongs to one
through a cascading foreign key) is either a ``Part`` here or in ``LEFT_OUT`` with the reason;
a test fails otherwise, so a new model cannot be forgotten silently.

A row becomes a JSON object of its concrete columns by attribute name (``case_id``,
``data_key_id``), encrypted columns decrypted, and its many-to-many links as sorted id lists.
``data_key_id`` is only a label saying which rows share a data subject's key: the key itself
never leaves, and the import gives each label a fresh key.
"""

from __future__ import annotations

import base64
import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import QuerySet

from haven.core.models import Mission
from haven.crypto.blindindex import BlindIndexField
from haven.crypto.fields import EncryptedField

SCHEMA_ID = "haven.exit-export"
SCHEMA_VERSION = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Part:
    """One model in the export: ``label`` is ``app_label.ModelName``; ``scope`` the lookup that
    reaches the mission; ``omit`` the columns left out (secrets, derived values, new keys)."""

    label: str
    scope: str = "mission"
    omit: frozenset[str] = field(default_factory=frozenset)

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)

    @property
    def path(self) -> str:
        return f"records/{self.label}.json"

    def rows(self, mission: Mission) -> QuerySet[Any]:
        if self.label == "accounts.User":
            return self.model._base_manager.filter(pk__in=referenced_users(mission)).order_by("pk")
        if self.label == "audit.AuditEvent":
            return self.model.objects.for_mission(mission).order_by("sequence")  # type: ignore[attr-defined,no-any-return]
        if self.label == "core.Mission":
            return self.model._base_manager.filter(pk=mission.pk)
        return self.model._base_manager.filter(**{self.scope: mission}).order_by("pk")


def _omit(*names: str) -> frozenset[str]:
    return frozenset(names)


PARTS: tuple[Part, ...] = (
    Part("core.Mission"),
    # No password hash, no second factor, no superuser flag: accounts come back without a
    # usable password and an operator issues one-time passwords.
    Part(
        "accounts.User",
        omit=_omit(
            "password",
            "is_superuser",
            "is_staff",
            "must_change_password",
            "sessions_valid_after",
            "groups",
            "user_permissions",
        ),
    ),
    Part("accounts.Membership"),
    Part("accounts.EmergencyRequest"),
    Part("registry.Defender"),
    Part("registry.Organisation"),
    # ``lookup`` is a blind index, recomputed under the new instance's index key.
    Part("registry.ContactChannel", omit=_omit("lookup")),
    Part("registry.Affiliation"),
    Part("registry.Relation"),
    Part("registry.ConsentRecord"),
    Part("intake.PortalText"),
    Part("intake.PortalUsage"),
    # What the person wrote is exported decrypted as ``content``; the request gets a new key.
    Part("intake.Submission", omit=_omit("sealed", "key_id", "public_key")),
    # The mission's copy is exported decrypted as ``text``; the person's copy stays sealed to
    # their receipt (only they can read it) and is carried over as it is.
    Part("intake.Message", scope="submission__mission", omit=_omit("sealed_for_mission")),
    Part("intake.Attachment", scope="submission__mission"),
    Part("cases.Case"),
    Part("cases.CaseMember", scope="case__mission"),
    Part("cases.StatusChange", scope="case__mission"),
    Part("cases.Incident"),
    Part("cases.RiskAssessment"),
    Part("cases.Action"),
    Part("cases.Note"),
    Part("cases.FollowUp"),
    Part("cases.Handover"),
    Part("cases.RelocationTask"),
    Part("cases.Notice"),
    Part("monitoring.Hearing"),
    Part("monitoring.ObservationReport"),
    Part("monitoring.Detention"),
    Part("monitoring.DetentionVisit"),
    Part("monitoring.CivicEvent"),
    # A feed's digest opens the calendar to whoever holds its address: it stays behind and
    # the imported feed is revoked (its owner makes a new one).
    Part("monitoring.CalendarFeed", omit=_omit("digest")),
    Part("referrals.Mechanism"),
    Part("referrals.Referral"),
    # Partners keep their public keys; what was sent and received keeps its provenance.
    Part("coordination.Partner"),
    Part("coordination.Disclosure"),
    Part("coordination.ReceivedBundle"),
    Part("reports.ExportRequest"),
    Part("reports.ArchivedAuditEvent", omit=_omit("id")),
    # This instance's chain for the mission, as it is; imported as archived events.
    Part("audit.AuditEvent"),
)

# Mission-scoped models deliberately not exported, with the reason (docs/exit-export.md).
LEFT_OUT: dict[str, str] = {
    "crypto.IntakeKey": "a key: the import makes the mission a new intake keypair",
    "accounts.ApiToken": "credentials: people issue new API tokens on the new instance",
    "accounts.DestructionToken": "credentials: administrators arm a new destruction token",
    "accounts.AccountNotice": (
        "desk notices about access changes on the old instance; the audit log (exported) "
        "records each change, and every account comes back needing a new one-time password"
    ),
    "scale.GeneratedMission": "a marker of invented benchmark data, which no real mission has",
    "crypto.MissionIdentity": (
        "a key: the new instance makes new identity keys, so partners must compare the new "
        "fingerprint before they exchange bundles again"
    ),
}

PARTS_BY_LABEL: dict[str, Part] = {part.label: part for part in PARTS}


def referenced_users(mission: Mission) -> set[int]:
    """Members of the mission and every account a row of the mission points to."""
    from haven.accounts.models import Membership, User

    ids = set(Membership.objects.filter(mission=mission).values_list("user_id", flat=True))
    for part in PARTS:
        if part.label in {"accounts.User", "audit.AuditEvent", "core.Mission"}:
            continue
        rows = part.rows(mission)
        for column in part.model._meta.concrete_fields:
            if isinstance(column, models.ForeignKey) and column.related_model is User:
                ids.update(
                    rows.exclude(**{column.attname: None}).values_list(column.attname, flat=True)
                )
        for link in part.model._meta.many_to_many:
            if link.related_model is User:
                ids.update(rows.exclude(**{link.name: None}).values_list(link.name, flat=True))
    return ids


def exported_columns(model: type[models.Model], part: Part) -> list[models.Field[Any, Any]]:
    return [
        column
        for column in model._meta.concrete_fields
        if column.name not in part.omit
        and column.attname not in part.omit
        and not isinstance(column, BlindIndexField)
    ]


def _jsonable(value: Any) -> Any:
    if isinstance(value, memoryview | bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def row_to_json(row: models.Model, part: Part) -> dict[str, Any]:
    """The row's columns by attribute name, decrypted, and its many-to-many links."""
    data: dict[str, Any] = {}
    for column in exported_columns(type(row), part):
        if isinstance(column, EncryptedField):
            value = getattr(row, column.attname)
        else:
            value = column.value_from_object(row)
        data[column.attname] = _jsonable(value)
    for link in type(row)._meta.many_to_many:
        if link.name in part.omit:
            continue
        data[link.name] = sorted(getattr(row, link.name).values_list("pk", flat=True))
    return data


def json_to_values(model: type[models.Model], part: Part, data: dict[str, Any]) -> dict[str, Any]:
    """Attribute values for a new row of ``model`` from its exported JSON (links apart)."""
    values: dict[str, Any] = {}
    for column in exported_columns(model, part):
        if column.attname not in data:
            continue
        value = data[column.attname]
        if value is None or isinstance(column, EncryptedField | models.JSONField):
            values[column.attname] = value
        elif isinstance(column, models.BinaryField):
            values[column.attname] = base64.b64decode(value)
        else:
            values[column.attname] = column.to_python(value)
    return values


def mission_models() -> list[type[models.Model]]:
    """Every installed model holding a foreign key to ``Mission``, or cascading from one."""
    found: list[type[models.Model]] = []
    for model in apps.get_models():
        for column in model._meta.concrete_fields:
            if isinstance(column, models.ForeignKey) and column.related_model is Mission:
                found.append(model)
                break
    rows_of_mission = set(found)
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            if model in rows_of_mission:
                continue
            for column in model._meta.concrete_fields:
                if (
                    isinstance(column, models.ForeignKey)
                    and column.related_model in rows_of_mission
                    and column.remote_field.on_delete is models.CASCADE
                ):
                    rows_of_mission.add(model)
                    found.append(model)
                    changed = True
                    break
    return found


Progress = Callable[[int], Any]
