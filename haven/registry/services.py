"""Every write to the registry: defenders, organisations, channels, affiliations, relations,
consent, merging and the subject-access export.

Each service names its actor, validates its input (``ValidationError`` keyed by field, for
forms and the API), refuses what breaks a rule with ``RegistryError`` (a sentence a person can
act on), writes in one transaction and records an audit event listing the fields it touched,
never their values.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haven.accounts.models import Membership, User
from haven.audit.services import record
from haven.core.choices import RiskLevel
from haven.core.models import Mission
from haven.core.vocab.channel_types import CHANNEL_TYPES
from haven.core.vocab.consent_scopes import CONSENT_SCOPES
from haven.core.vocab.identity_tags import IDENTITY_TAGS
from haven.crypto.blindindex import blind_index, normalise
from haven.crypto.commits import keys_first
from haven.crypto.datakeys import new_data_key
from haven.crypto.shredding import shred_subject
from haven.registry.models import (
    Affiliation,
    ConsentGiver,
    ConsentRecord,
    ContactChannel,
    Defender,
    Organisation,
    Relation,
    RelationKind,
    WithdrawalReason,
)
from haven.registry.signals import consent_withdrawn, defenders_merged


class RegistryError(Exception):
    """A registry rule refused the change; the message says why and what to do."""


Entry = Defender | Organisation

DEFENDER_FIELDS = (
    "name",
    "known_as",
    "country",
    "region",
    "place",
    "actor_type",
    "work_focus",
    "identity_tags",
    "visibility",
    "notes",
)
ORGANISATION_FIELDS = ("name", "kind", "country", "region", "work_focus", "visibility", "notes")
# Longest accepted text per field; anything longer is refused with a message, not cut.
TEXT_LIMITS = {
    "name": 200,
    "known_as": 1000,
    "region": 100,
    "place": 1000,
    "notes": 20000,
    "value": 500,
    "safety_notes": 1000,
    "role": 200,
    "details": 2000,
    "given_by_name": 200,
    "detail": 1000,
    "withdrawal_note": 2000,
}
RISK_ORDER = ["", *RiskLevel.values]
PHONE_CHARACTERS = re.compile(r"^\+?[\d\s().\-/]+$")
SIGNAL_USERNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{2,31}\.\d{2,10}$")


# -- input checks


def _limit(name: str, value: str) -> None:
    limit = TEXT_LIMITS.get(name)
    if limit is not None and len(value) > limit:
        raise ValidationError(
            {name: _("This is too long: at most %(limit)d characters.") % {"limit": limit}}
        )


def _channel_error(accepts: str, value: str, quote: bool) -> ValidationError:
    """The message for a value its channel type does not accept; with the value quoted, or
    without it where the message may end up in a terminal or a log (imports)."""
    shown = {"value": value[:60]}
    if accepts == "phone":
        text = (
            _("“%(value)s” is not a phone number.") % shown
            if quote
            else _("This is not a phone number.")
        )
        hint = _("Use 6 to 15 digits, with + and the country code for a number abroad.")
        return ValidationError(f"{text} {hint}")
    if accepts == "phone_or_username":
        text = (
            _("“%(value)s” is neither a phone number nor a Signal username.") % shown
            if quote
            else _("This is neither a phone number nor a Signal username.")
        )
        hint = _("A Signal username is a name, a dot and digits, like maria.42.")
        return ValidationError(f"{text} {hint}")
    if quote:
        return ValidationError(_("“%(value)s” is not an e-mail address.") % shown)
    return ValidationError(_("This is not an e-mail address."))


def _is_phone(value: str) -> bool:
    digits = [char for char in unicodedata.normalize("NFKC", value) if char.isdecimal()]
    return bool(PHONE_CHARACTERS.match(value)) and 6 <= len(digits) <= 15


def clean_channel_value(channel_type: str, value: str, *, quote: bool = True) -> str:
    """Check a channel's value against what its type accepts; returns it tidied.

    Phone numbers: digits in any script, spaces, + ( ) . - /, 6 to 15 digits.
    """
    term = CHANNEL_TYPES.get(channel_type)
    value = " ".join(value.split())
    if not value:
        raise ValidationError(_("Give the number, address or details of this channel."))
    _limit("value", value)
    accepts = term["accepts"]
    if accepts == "phone" and not _is_phone(value):
        raise _channel_error(accepts, value, quote)
    if accepts == "phone_or_username" and not (SIGNAL_USERNAME.match(value) or _is_phone(value)):
        raise _channel_error(accepts, value, quote)
    if accepts == "email":
        try:
            validate_email(value)
        except ValidationError:
            raise _channel_error(accepts, value, quote) from None
    return value


@dataclass
class ChannelInput:
    """A contact channel as typed into a form, the API or a CSV line."""

    channel_type: str
    value: str
    safety_notes: str = ""
    preferred: bool = False


def _check_channels(channels: Sequence[ChannelInput]) -> list[ChannelInput]:
    cleaned: list[ChannelInput] = []
    for channel in channels:
        CHANNEL_TYPES.validate(channel.channel_type)
        _limit("safety_notes", channel.safety_notes)
        value = clean_channel_value(channel.channel_type, channel.value)
        cleaned.append(
            ChannelInput(
                channel.channel_type, value, channel.safety_notes.strip(), channel.preferred
            )
        )
    if sum(1 for channel in cleaned if channel.preferred) > 1:
        raise ValidationError(_("Mark only one channel as preferred."))
    if cleaned and not any(channel.preferred for channel in cleaned):
        cleaned[0].preferred = True
    return cleaned


def _apply(entry: Entry, values: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    """Set the allowed fields that changed; returns their names. Validates the whole row."""
    allowed = set(allowed)
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValidationError(
            _("These fields cannot be set here: %(fields)s.") % {"fields": ", ".join(unknown)}
        )
    changed: list[str] = []
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
            _limit(name, value)
        if name == "country" and isinstance(value, str):
            value = value.upper()
        if name == "work_focus":
            value = list(dict.fromkeys(value or []))
        if name == "identity_tags":
            IDENTITY_TAGS.validate_list(value)
            value = list(dict.fromkeys(value))
        if entry.pk is None or getattr(entry, name) != value:
            setattr(entry, name, value)
            changed.append(name)
    if entry.country and not re.fullmatch(r"[A-Z]{2}", entry.country):
        raise ValidationError({"country": _("Use the two-letter ISO 3166 country code, like KE.")})
    entry.full_clean(exclude=["mission", "data_key", "uid", "name_index", "risk_level"])
    return changed


def validate_entry(model: type[Entry], *, mission: Mission, values: Mapping[str, Any]) -> None:
    """Check a new record's fields as ``create_defender``/``create_organisation`` would,
    without writing anything (an import's dry run)."""
    values = {"country": mission.country, **values}
    allowed = DEFENDER_FIELDS if model is Defender else ORGANISATION_FIELDS
    _apply(model(mission=mission), values, allowed)


# -- duplicates


@dataclass
class PossibleDuplicate:
    """An existing record that shares a name, phone number or e-mail address with new input."""

    entry: Entry
    reasons: list[str] = field(default_factory=list)

    REASON_LABELS = {
        "name": gettext_lazy("same name"),
        "phone": gettext_lazy("same phone"),
        "email": gettext_lazy("same e-mail"),
    }

    @property
    def because(self) -> str:
        return ", ".join(str(self.REASON_LABELS[reason]) for reason in self.reasons)

    def message(self) -> str:
        return _("Possible duplicate of %(name)s (%(because)s).") % {
            "name": self.entry.name,
            "because": self.because,
        }


class PossibleDuplicates(RegistryError):
    """Raised instead of creating a record that may already exist, unless told to go on."""

    def __init__(self, matches: list[PossibleDuplicate]) -> None:
        self.matches = matches
        super().__init__(" ".join(match.message() for match in matches))


def channel_lookups(channels: Iterable[ChannelInput]) -> list[tuple[str, str]]:
    """(kind, blind index) of each searchable channel value."""
    found = []
    for channel in channels:
        kind = CHANNEL_TYPES.get(channel.channel_type)["lookup"]
        index = blind_index(channel.value, kind) if kind else ""
        if index:
            found.append((kind, index))
    return found


def find_duplicates(
    *,
    mission: Mission,
    model: type[Entry] = Defender,
    name: str = "",
    channels: Iterable[ChannelInput] = (),
    exclude: Entry | None = None,
) -> list[PossibleDuplicate]:
    """Records of ``mission`` with the same name, phone number or e-mail address.

    Blind indexes only: nothing is decrypted to compare, and two queries answer it.
    """
    matches: dict[int, PossibleDuplicate] = {}
    name_index = blind_index(name, "name")
    if name_index:
        for entry in model.objects.filter(mission=mission, name_index=name_index):
            matches.setdefault(entry.pk, PossibleDuplicate(entry)).reasons.append("name")
    lookups = dict((index, kind) for kind, index in channel_lookups(channels))
    if lookups:
        owner = "defender" if model is Defender else "organisation"
        hits = (
            ContactChannel.objects.filter(mission=mission, lookup__in=list(lookups))
            .filter(**{f"{owner}__isnull": False})
            .select_related(owner)
        )
        for hit in hits:
            entry = getattr(hit, owner)
            match = matches.setdefault(entry.pk, PossibleDuplicate(entry))
            if lookups[hit.lookup] not in match.reasons:
                match.reasons.append(lookups[hit.lookup])
    if exclude is not None:
        matches.pop(exclude.pk, None)
    return sorted(matches.values(), key=lambda match: match.entry.pk)


# -- defenders and organisations


def possible_duplicates_of(entry: Entry) -> list[PossibleDuplicate]:
    """Other records of the entry's mission that share its name, phone or e-mail address."""
    channels = [
        ChannelInput(channel.channel_type, channel.value) for channel in entry.channels.all()
    ]
    return find_duplicates(
        mission=entry.mission, model=type(entry), name=entry.name, channels=channels, exclude=entry
    )


def _create_entry(
    entry: Entry,
    *,
    actor: User | None,
    values: Mapping[str, Any],
    allowed: Iterable[str],
    channels: Sequence[ChannelInput],
    allow_duplicates: bool,
    audit: bool = True,
) -> Entry:
    values = dict(values)
    values.setdefault("country", entry.mission.country)
    _apply(entry, values, allowed)
    cleaned = _check_channels(channels)
    if not allow_duplicates:
        matches = find_duplicates(
            mission=entry.mission, model=type(entry), name=entry.name, channels=cleaned
        )
        if matches:
            raise PossibleDuplicates(matches)
    with keys_first():
        entry.data_key = new_data_key()
        entry.save()
        for channel in cleaned:
            _save_channel(entry, channel)
        if audit:
            record(
                action=f"registry.{entry._meta.model_name}_created",
                actor=actor,
                mission=entry.mission,
                obj=entry,
                fields=sorted({*values, *(["channels"] if cleaned else [])}),
            )
    return entry


def create_defender(
    *,
    mission: Mission,
    actor: User | None,
    channels: Sequence[ChannelInput] = (),
    allow_duplicates: bool = False,
    audit: bool = True,
    **values: Any,
) -> Defender:
    """Register a person. Refuses with ``PossibleDuplicates`` when the name, a phone number
    or an e-mail address is already known, unless ``allow_duplicates``."""
    entry = _create_entry(
        Defender(mission=mission),
        actor=actor,
        values=values,
        allowed=DEFENDER_FIELDS,
        channels=channels,
        allow_duplicates=allow_duplicates,
        audit=audit,
    )
    assert isinstance(entry, Defender)
    return entry


def create_organisation(
    *,
    mission: Mission,
    actor: User | None,
    channels: Sequence[ChannelInput] = (),
    allow_duplicates: bool = False,
    audit: bool = True,
    **values: Any,
) -> Organisation:
    """Register an organisation; duplicates by name or contact as for defenders."""
    entry = _create_entry(
        Organisation(mission=mission),
        actor=actor,
        values=values,
        allowed=ORGANISATION_FIELDS,
        channels=channels,
        allow_duplicates=allow_duplicates,
        audit=audit,
    )
    assert isinstance(entry, Organisation)
    return entry


def update_entry(*, entry: Entry, actor: User | None, changes: Mapping[str, Any]) -> list[str]:
    """Change a defender's or organisation's own fields; returns the names of those changed."""
    allowed = DEFENDER_FIELDS if isinstance(entry, Defender) else ORGANISATION_FIELDS
    changed = _apply(entry, changes, allowed)
    if changed:
        with transaction.atomic():
            entry.save(update_fields=[*changed, "updated_at"])
            record(
                action=f"registry.{entry._meta.model_name}_changed",
                actor=actor,
                mission=entry.mission,
                obj=entry,
                fields=changed,
            )
    return changed


# -- contact channels


def _owner_field(entry: Entry) -> str:
    return "defender" if isinstance(entry, Defender) else "organisation"


def _save_channel(entry: Entry, channel: ChannelInput) -> ContactChannel:
    row = ContactChannel(
        mission=entry.mission,
        data_key=entry.data_key,
        channel_type=channel.channel_type,
        value=channel.value,
        safety_notes=channel.safety_notes,
        preferred=channel.preferred,
        **{_owner_field(entry): entry},
    )
    row.save()
    return row


def _touch(entry: Entry) -> None:
    entry.save(update_fields=["updated_at"])


def add_channel(*, entry: Entry, actor: User | None, channel: ChannelInput) -> ContactChannel:
    """Add a way to reach a defender or organisation; the first one becomes preferred."""
    (cleaned,) = _check_channels([channel])
    with transaction.atomic():
        existing = ContactChannel.objects.filter(**{_owner_field(entry): entry})
        if channel.preferred:
            existing.update(preferred=False)
        else:
            cleaned.preferred = not existing.exists()
        row = _save_channel(entry, cleaned)
        _touch(entry)
        record(
            action="registry.channel_added",
            actor=actor,
            mission=entry.mission,
            obj=entry,
            fields=["channels"],
        )
    return row


def update_channel(
    *, channel: ContactChannel, actor: User | None, changes: ChannelInput
) -> list[str]:
    """Change a channel's type, value, safety notes or whether it is preferred."""
    (cleaned,) = _check_channels([changes])
    changed = [
        name
        for name in ("channel_type", "value", "safety_notes", "preferred")
        if getattr(channel, name) != getattr(cleaned, name)
    ]
    if not changed:
        return []
    entry = channel.defender or channel.organisation
    assert entry is not None
    with transaction.atomic():
        if cleaned.preferred and not channel.preferred:
            ContactChannel.objects.filter(**{_owner_field(entry): entry}).update(preferred=False)
        for name in changed:
            setattr(channel, name, getattr(cleaned, name))
        channel.save()
        _touch(entry)
        record(
            action="registry.channel_changed",
            actor=actor,
            mission=entry.mission,
            obj=entry,
            fields=[f"channels.{name}" for name in changed],
        )
    return changed


def remove_channel(*, channel: ContactChannel, actor: User) -> None:
    """Delete a channel; if it was the preferred one, the next one takes its place."""
    entry = channel.defender or channel.organisation
    assert entry is not None
    with transaction.atomic():
        was_preferred = channel.preferred
        channel.delete()
        if was_preferred:
            following = ContactChannel.objects.filter(**{_owner_field(entry): entry}).first()
            if following is not None:
                ContactChannel.objects.filter(pk=following.pk).update(preferred=True)
        _touch(entry)
        record(
            action="registry.channel_removed",
            actor=actor,
            mission=entry.mission,
            obj=entry,
            fields=["channels"],
        )


# -- affiliations and relations


Row = TypeVar("Row", Affiliation, Relation, ConsentRecord)


def _add_row(
    entry: Entry, model: type[Row], *, actor: User | None, action: str, **values: Any
) -> Row:
    """Create a row that belongs to ``entry``, under its key; audit the fields given a value."""
    with transaction.atomic():
        row = model.objects.create(mission=entry.mission, data_key=entry.data_key, **values)
        _touch(entry)
        filled = [name for name, value in values.items() if value not in ("", None)]
        record(action=action, actor=actor, mission=entry.mission, obj=row, fields=filled)
    return row


def _same_mission(*rows: Any) -> None:
    if len({row.mission_id for row in rows}) != 1:
        raise RegistryError(_("Both records must belong to the same mission."))


def add_affiliation(
    *,
    defender: Defender,
    organisation: Organisation,
    actor: User | None,
    role: str = "",
    started_on: datetime.date | None = None,
    ended_on: datetime.date | None = None,
) -> Affiliation:
    """Record that a defender belongs or belonged to an organisation."""
    _same_mission(defender, organisation)
    role = role.strip()
    _limit("role", role)
    if started_on and ended_on and ended_on < started_on:
        raise ValidationError({"ended_on": _("The end date is before the start date.")})
    return _add_row(
        defender,
        Affiliation,
        actor=actor,
        action="registry.affiliation_added",
        defender=defender,
        organisation=organisation,
        role=role,
        started_on=started_on,
        ended_on=ended_on,
    )


def end_affiliation(
    *, affiliation: Affiliation, actor: User | None, ended_on: datetime.date
) -> None:
    """Close an affiliation on ``ended_on``; the history stays."""
    if affiliation.started_on and ended_on < affiliation.started_on:
        raise ValidationError({"ended_on": _("The end date is before the start date.")})
    with transaction.atomic():
        affiliation.ended_on = ended_on
        affiliation.save(update_fields=["ended_on"])
        record(
            action="registry.affiliation_ended",
            actor=actor,
            mission=affiliation.mission_id,
            obj=affiliation,
            fields=["ended_on"],
        )


def add_relation(
    *,
    defender: Defender,
    actor: User | None,
    kind: str,
    linked: Defender | None = None,
    name: str = "",
    details: str = "",
) -> Relation:
    """Link a relative or another person to a defender: someone in the registry, or described."""
    if kind not in RelationKind.values:
        raise ValidationError({"kind": _("Choose one of the listed relations.")})
    name, details = name.strip(), details.strip()
    _limit("name", name)
    _limit("details", details)
    if linked is None and not name:
        raise ValidationError(
            {"name": _("Choose a defender in the registry or give the person's name.")}
        )
    if linked is not None:
        _same_mission(defender, linked)
        if linked.pk == defender.pk:
            raise RegistryError(_("A person cannot be linked to themselves."))
    return _add_row(
        defender,
        Relation,
        actor=actor,
        action="registry.relation_added",
        defender=defender,
        kind=kind,
        linked=linked,
        name=name,
        details=details,
    )


def remove_relation(*, relation: Relation, actor: User) -> None:
    with transaction.atomic():
        record(
            action="registry.relation_removed",
            actor=actor,
            mission=relation.mission_id,
            obj=relation,
            fields=["kind", "linked", "name", "details"],
        )
        relation.delete()


# -- consent


def record_consent(
    *,
    entry: Entry,
    actor: User | None,
    scope: str,
    channel: str,
    given_on: datetime.date,
    given_by: str = ConsentGiver.PERSON,
    given_by_name: str = "",
    expires_on: datetime.date | None = None,
    detail: str = "",
) -> ConsentRecord:
    """Record consent to one scope. Representatives and family give it only with a name
    (DOMAIN.md safety rule 2); scopes that name a recipient need the recipient."""
    errors: dict[str, str] = {}
    try:
        term = CONSENT_SCOPES.get(scope)
    except ValidationError as error:
        raise ValidationError({"scope": error.messages}) from None
    try:
        CHANNEL_TYPES.validate(channel)
    except ValidationError as error:
        raise ValidationError({"channel": error.messages}) from None
    if given_by not in ConsentGiver.values:
        errors["given_by"] = _("Choose who gave the consent.")
    given_by_name, detail = given_by_name.strip(), detail.strip()
    _limit("given_by_name", given_by_name)
    _limit("detail", detail)
    if given_by != ConsentGiver.PERSON and not given_by_name:
        errors["given_by_name"] = _("Give the name of the person who consented on their behalf.")
    if given_on > timezone.localdate():
        errors["given_on"] = _("Consent cannot be given in the future.")
    if expires_on is not None and expires_on < given_on:
        errors["expires_on"] = _("The expiry date is before the date the consent was given.")
    if term["detail"] and not detail:
        errors["detail"] = _("Name the recipients this consent covers.")
    if errors:
        raise ValidationError(errors)
    return _add_row(
        entry,
        ConsentRecord,
        actor=actor,
        action="consent.recorded",
        scope=scope,
        channel=channel,
        given_on=given_on,
        given_by=given_by,
        given_by_name=given_by_name,
        expires_on=expires_on,
        detail=detail,
        recorded_by=actor,
        **{_owner_field(entry): entry},
    )


def withdraw_consent(
    *, consent: ConsentRecord, actor: User | None, reason: str, note: str = ""
) -> ConsentRecord:
    """Withdraw consent from now on, with a reason (audited); cases hear of it at once and
    put pending actions that relied on it on hold."""
    if reason not in WithdrawalReason.values:
        raise ValidationError({"reason": _("Choose why the consent is withdrawn.")})
    note = note.strip()
    _limit("withdrawal_note", note)
    if reason == WithdrawalReason.OTHER and not note:
        raise ValidationError({"note": _("Say in the note why the consent is withdrawn.")})
    with transaction.atomic():
        consent = ConsentRecord.objects.select_for_update().get(pk=consent.pk)
        if consent.withdrawn_at is not None:
            raise RegistryError(_("This consent was already withdrawn."))
        consent.withdrawn_at = timezone.now()
        consent.withdrawal_reason = reason
        consent.withdrawal_note = note
        consent.save(update_fields=["withdrawn_at", "withdrawal_reason", "withdrawal_note"])
        record(
            action="consent.withdrawn",
            actor=actor,
            mission=consent.mission_id,
            obj=consent,
            fields=["withdrawn_at", "withdrawal_reason"] + (["withdrawal_note"] if note else []),
            reason=reason,
        )
        consent_withdrawn.send(sender=ConsentRecord, consent=consent, actor=actor)
    return consent


# -- merging duplicates


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def merge_defenders(*, survivor: Defender, duplicate: Defender, actor: User) -> Defender:
    """Fold ``duplicate`` into ``survivor``, then shred the duplicate's key.

    Every link moves to the survivor, re-encrypted under its key: channels, affiliations,
    consent records, relations both ways, and (through ``defenders_merged``) whatever higher
    apps link to a defender. The duplicate's names join the survivor's "also known as";
    its notes, place and tags are kept. Nothing of the duplicate is left readable.
    """
    _same_mission(survivor, duplicate)
    if survivor.pk == duplicate.pk:
        raise RegistryError(_("Choose two different records to merge."))
    with transaction.atomic():
        survivor = Defender.objects.select_for_update().get(pk=survivor.pk)
        duplicate = Defender.objects.select_for_update().get(pk=duplicate.pk)
        key = survivor.data_key
        has_preferred = survivor.channels.filter(preferred=True).exists()
        moved: set[str] = set()
        for channel in duplicate.channels.all():
            channel.move_to_key(key)
            channel.defender = survivor
            channel.preferred = channel.preferred and not has_preferred
            channel.save()
            moved.add("channels")
        linked_rows: list[Affiliation | ConsentRecord] = [
            *duplicate.affiliations.all(),
            *duplicate.consents.all(),
        ]
        for row in linked_rows:
            row.move_to_key(key)
            row.defender = survivor
            row.save()
            moved.add(f"{row._meta.model_name}s")
        for relation in duplicate.relations.all():
            if relation.linked_id == survivor.pk:
                relation.delete()
                continue
            relation.move_to_key(key)
            relation.defender = survivor
            relation.save()
            moved.add("relations")
        for relation in Relation.objects.filter(linked=duplicate):
            if relation.defender_id == survivor.pk:
                relation.delete()
            else:
                Relation.objects.filter(pk=relation.pk).update(linked=survivor)
            moved.add("relations")
        changed = _fold_fields(survivor, duplicate)
        survivor.save()
        defenders_merged.send(sender=Defender, survivor=survivor, duplicate=duplicate, actor=actor)
        record(
            action="registry.defenders_merged",
            actor=actor,
            mission=survivor.mission,
            obj=survivor,
            fields=sorted(moved | set(changed)),
            reason=f"defender {duplicate.pk} merged into defender {survivor.pk}",
        )
    # Only once what moved is committed under the survivor's key is the duplicate's key
    # destroyed: shredding inside the transaction would commit the key store first, and a
    # crash then would leave the moved rows, rolled back, under a key that no longer exists.
    shred_subject(
        duplicate,
        actor=actor,
        reason=f"duplicate of defender {survivor.pk}, merged into it",
    )
    return survivor


def _fold_fields(survivor: Defender, duplicate: Defender) -> list[str]:
    """Keep what only the duplicate knew; the survivor's own values win where both have one."""
    changed: list[str] = []
    names = _lines(survivor.known_as)
    known = {normalise(line, "name") for line in [survivor.name, *names]}
    for line in [duplicate.name, *_lines(duplicate.known_as)]:
        if normalise(line, "name") not in known:
            names.append(line)
            known.add(normalise(line, "name"))
    if "\n".join(names) != survivor.known_as:
        survivor.known_as = "\n".join(names)
        changed.append("known_as")
    for name in ("country", "region", "place", "actor_type"):
        if not getattr(survivor, name) and getattr(duplicate, name):
            setattr(survivor, name, getattr(duplicate, name))
            changed.append(name)
    if duplicate.notes and duplicate.notes not in survivor.notes:
        survivor.notes = "\n\n".join(filter(None, [survivor.notes, duplicate.notes]))
        changed.append("notes")
    for name in ("work_focus", "identity_tags"):
        union = list(dict.fromkeys([*getattr(survivor, name), *getattr(duplicate, name)]))
        if union != list(getattr(survivor, name)):
            setattr(survivor, name, union)
            changed.append(name)
    if RISK_ORDER.index(duplicate.risk_level) > RISK_ORDER.index(survivor.risk_level):
        survivor.risk_level = duplicate.risk_level
        changed.append("risk_level")
    return changed


# -- subject-access export


def export_defender(
    *, defender: Defender, actor: User | None, membership: Membership
) -> dict[str, Any]:
    """A defender's whole record as JSON-ready data, for a subject-access request. Audited.

    Identity tags are included only for members allowed to see them; the export says so
    when they are withheld.
    """
    data: dict[str, Any] = {
        "schema": "haven.registry.defender/1",
        "exported_at": timezone.now().isoformat(),
        "mission": defender.mission.name,
        "id": defender.pk,
        "name": defender.name,
        "known_as": _lines(defender.known_as),
        "country": defender.country,
        "region": defender.region,
        "place": defender.place,
        "actor_type": defender.actor_type,
        "work_focus": list(defender.work_focus),
        "visibility": defender.visibility,
        "risk_level": defender.risk_level,
        "notes": defender.notes,
        "created_at": defender.created_at.isoformat(),
        "updated_at": defender.updated_at.isoformat(),
        "channels": [
            {
                "type": channel.channel_type,
                "value": channel.value,
                "safety_notes": channel.safety_notes,
                "preferred": channel.preferred,
            }
            for channel in defender.channels.all()
        ],
        "affiliations": [
            {
                "organisation": affiliation.organisation.name,
                "role": affiliation.role,
                "started_on": _iso(affiliation.started_on),
                "ended_on": _iso(affiliation.ended_on),
            }
            for affiliation in defender.affiliations.select_related("organisation")
        ],
        "relations": [
            {
                "kind": relation.kind,
                "name": relation.linked.name if relation.linked else relation.name,
                "details": relation.details,
            }
            for relation in defender.relations.select_related("linked")
        ],
        "consents": [
            {
                "scope": consent.scope,
                "given_by": consent.given_by,
                "given_by_name": consent.given_by_name,
                "channel": consent.channel,
                "detail": consent.detail,
                "given_on": _iso(consent.given_on),
                "expires_on": _iso(consent.expires_on),
                "withdrawn_at": _iso(consent.withdrawn_at),
                "withdrawal_reason": consent.withdrawal_reason,
                "withdrawal_note": consent.withdrawal_note,
            }
            for consent in defender.consents.all()
        ],
    }
    if membership.may_see_identity_tags:
        data["identity_tags"] = list(defender.identity_tags)
    else:
        data["identity_tags_withheld"] = True
    record(
        action="registry.defender_exported",
        actor=actor,
        mission=defender.mission,
        obj=defender,
        fields=sorted(key for key in data if key not in {"schema", "exported_at", "mission"}),
        reason="subject-access export",
    )
    return data


def _iso(value: datetime.date | datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
