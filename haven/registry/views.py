"""Workspace pages of the registry. Thin: find the row in the user's scope, call a service,
render. Every row is reached through the user's mission; another mission's id is a 404."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from haven.accounts.decorators import reauthenticate
from haven.accounts.models import Membership
from haven.audit.services import record_read
from haven.core.access import requires_role
from haven.core.http import acting_user, active_mission, apply_errors, form_page, posted
from haven.core.uploads import upload_too_large
from haven.core.vocab.identity_tags import IDENTITY_TAGS
from haven.registry import consent, csvimport, forms, selectors, services
from haven.registry.models import (
    Affiliation,
    ConsentRecord,
    ContactChannel,
    Defender,
    Organisation,
    Relation,
)

casework = requires_role("admin", "officer")
Entry = Defender | Organisation


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined,no-any-return]


def _scoped(request: HttpRequest, model: type[Model], pk: int) -> Any:
    rows: QuerySet[Any] = model.objects.for_user(  # type: ignore[attr-defined]
        acting_user(request), mission=active_mission(request)
    )
    return get_object_or_404(rows, pk=pk)


def _entry_url(entry: Entry) -> str:
    return entry.get_absolute_url()


def _form_page(
    request: HttpRequest,
    form: Form,
    *,
    title: str,
    submit: str,
    cancel: str,
    act: Callable[[], str],
    intro: str = "",
) -> HttpResponse:
    """A form page whose registry refusals show above the form."""
    return form_page(
        request,
        form,
        title=title,
        submit=submit,
        cancel=cancel,
        act=act,
        intro=intro,
        refused=(services.RegistryError,),
    )


# -- lists


def _filters(request: HttpRequest) -> tuple[forms.RegistryFilterForm, selectors.RegistryFilters]:
    regions = selectors.regions(acting_user(request), active_mission(request))
    form = forms.RegistryFilterForm(request.GET or None, regions=regions)
    # A filter with an unknown value is dropped on its own; the others still apply.
    values: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        values = form.cleaned_data
    filters = selectors.RegistryFilters(
        q=values.get("q", ""),
        work_focus=values.get("work_focus", ""),
        region=values.get("region", ""),
        risk_level=values.get("risk_level", ""),
        visibility=values.get("visibility", ""),
        organisation=values.get("organisation"),
    )
    return form, filters


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@casework
def defender_list(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    page = selectors.defender_page(
        acting_user(request), active_mission(request), filters, request.GET.get("page")
    )
    organisation = None
    if filters.organisation is not None:
        organisation = (
            selectors.organisations(acting_user(request), active_mission(request))
            .filter(pk=filters.organisation)
            .first()
        )
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "organisation": organisation,
        "query": _query_without_page(request),
    }
    return render(request, "registry/defender_list.html", context)


@casework
def organisation_list(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    page = selectors.organisation_page(
        acting_user(request), active_mission(request), filters, request.GET.get("page")
    )
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "query": _query_without_page(request),
    }
    return render(request, "registry/organisation_list.html", context)


# -- new and edit


def _new_entry(
    request: HttpRequest,
    *,
    form: forms.EntryForm,
    create: Callable[..., Entry],
    template: str,
) -> HttpResponse:
    """Shared by new defenders and organisations: warn of duplicates before saving."""
    channels = forms.ChannelFormSet(posted(request), prefix="channels")
    duplicates: list[services.PossibleDuplicate] = []
    if request.method == "POST" and form.is_valid() and channels.is_valid():
        try:
            entry = create(
                mission=active_mission(request),
                actor=acting_user(request),
                channels=forms.channel_inputs(channels),
                allow_duplicates=request.POST.get("confirm_not_duplicate") == "yes",
                **form.values(),
            )
        except services.PossibleDuplicates as error:
            duplicates = error.matches
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(_entry_url(entry))
    context = {"form": form, "channels": channels, "duplicates": duplicates}
    return render(request, template, context)


@casework
def defender_new(request: HttpRequest) -> HttpResponse:
    form = forms.DefenderForm(
        posted(request),
        show_identity_tags=_membership(request).may_see_identity_tags,
    )
    return _new_entry(
        request, form=form, create=services.create_defender, template="registry/defender_new.html"
    )


@casework
def organisation_new(request: HttpRequest) -> HttpResponse:
    form = forms.OrganisationForm(posted(request))
    return _new_entry(
        request,
        form=form,
        create=services.create_organisation,
        template="registry/organisation_new.html",
    )


def _edit_entry(request: HttpRequest, entry: Entry, form: forms.EntryForm) -> HttpResponse:
    def act() -> str:
        changed = services.update_entry(
            entry=entry, actor=acting_user(request), changes=form.values()
        )
        messages.success(request, _("Saved.") if changed else _("Nothing was changed."))
        return _entry_url(entry)

    return _form_page(
        request,
        form,
        title=_("Edit %(name)s") % {"name": entry.name},
        submit=_("Save"),
        cancel=_entry_url(entry),
        act=act,
    )


def _initial(entry: Entry, names: list[str]) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in names}


@casework
def defender_edit(request: HttpRequest, defender_id: int) -> HttpResponse:
    defender: Defender = _scoped(request, Defender, defender_id)
    show_tags = _membership(request).may_see_identity_tags
    names = [name for name in services.DEFENDER_FIELDS if show_tags or name != "identity_tags"]
    form = forms.DefenderForm(
        posted(request), initial=_initial(defender, names), show_identity_tags=show_tags
    )
    return _edit_entry(request, defender, form)


@casework
def organisation_edit(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation: Organisation = _scoped(request, Organisation, organisation_id)
    initial = _initial(organisation, list(services.ORGANISATION_FIELDS))
    form = forms.OrganisationForm(posted(request), initial=initial)
    return _edit_entry(request, organisation, form)


# -- record pages


def _consent_rows(entry: Entry) -> list[tuple[ConsentRecord, bool]]:
    in_force = set(
        consent.records_of(entry).filter(consent.in_force()).values_list("pk", flat=True)
    )
    return [(row, row.pk in in_force) for row in consent.records_of(entry)]


@casework
def defender_detail(request: HttpRequest, defender_id: int) -> HttpResponse:
    defender: Defender = _scoped(request, Defender, defender_id)
    membership = _membership(request)
    record_read(actor=acting_user(request), mission=active_mission(request), obj=defender)
    context = {
        "defender": defender,
        "channels": defender.channels.all(),
        "consents": _consent_rows(defender),
        "affiliations": defender.affiliations.select_related("organisation"),
        "relations": defender.relations.select_related("linked"),
        "linked_from": defender.linked_from.select_related("defender"),
        "duplicates": services.possible_duplicates_of(defender),
        "identity_tags": (
            [IDENTITY_TAGS.label(code) for code in defender.identity_tags]
            if membership.may_see_identity_tags
            else None
        ),
    }
    return render(request, "registry/defender_detail.html", context)


@casework
def organisation_detail(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation: Organisation = _scoped(request, Organisation, organisation_id)
    record_read(actor=acting_user(request), mission=active_mission(request), obj=organisation)
    context = {
        "organisation": organisation,
        "channels": organisation.channels.all(),
        "consents": _consent_rows(organisation),
        "affiliations": organisation.affiliations.select_related("defender"),
        "duplicates": services.possible_duplicates_of(organisation),
    }
    return render(request, "registry/organisation_detail.html", context)


# -- channels


def _channel_new(request: HttpRequest, entry: Entry) -> HttpResponse:
    form = forms.ChannelForm(posted(request))

    def act() -> str:
        services.add_channel(entry=entry, actor=acting_user(request), channel=form.channel())
        messages.success(request, _("The channel is added."))
        return _entry_url(entry)

    return _form_page(
        request,
        form,
        title=_("Add a contact channel for %(name)s") % {"name": entry.name},
        submit=_("Add"),
        cancel=_entry_url(entry),
        act=act,
    )


@casework
def defender_channel_new(request: HttpRequest, defender_id: int) -> HttpResponse:
    return _channel_new(request, _scoped(request, Defender, defender_id))


@casework
def organisation_channel_new(request: HttpRequest, organisation_id: int) -> HttpResponse:
    return _channel_new(request, _scoped(request, Organisation, organisation_id))


@casework
def channel_edit(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel: ContactChannel = _scoped(request, ContactChannel, channel_id)
    entry = channel.defender or channel.organisation
    assert entry is not None
    initial = {
        name: getattr(channel, name)
        for name in ("channel_type", "value", "safety_notes", "preferred")
    }
    form = forms.ChannelForm(posted(request), initial=initial)

    def act() -> str:
        services.update_channel(channel=channel, actor=acting_user(request), changes=form.channel())
        messages.success(request, _("Saved."))
        return _entry_url(entry)

    return _form_page(
        request,
        form,
        title=_("Edit a contact channel of %(name)s") % {"name": entry.name},
        submit=_("Save"),
        cancel=_entry_url(entry),
        act=act,
    )


@casework
def channel_remove(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel: ContactChannel = _scoped(request, ContactChannel, channel_id)
    entry = channel.defender or channel.organisation
    assert entry is not None

    def act() -> str:
        services.remove_channel(channel=channel, actor=acting_user(request))
        messages.success(request, _("The channel is removed."))
        return _entry_url(entry)

    return _form_page(
        request,
        Form(posted(request)),
        title=_("Remove the %(channel)s channel of %(name)s?")
        % {"channel": channel.get_channel_type_display(), "name": entry.name},
        intro=_("The number or address is deleted from this record."),
        submit=_("Remove"),
        cancel=_entry_url(entry),
        act=act,
    )


# -- consent


def _consent_new(request: HttpRequest, entry: Entry) -> HttpResponse:
    form = forms.ConsentForm(posted(request))

    def act() -> str:
        services.record_consent(entry=entry, actor=acting_user(request), **form.cleaned_data)
        messages.success(request, _("The consent is recorded."))
        return _entry_url(entry)

    return _form_page(
        request,
        form,
        title=_("Record consent from %(name)s") % {"name": entry.name},
        intro=_(
            "Record one consent at a time, as the person gave it: what for, who gave it, how "
            "and until when."
        ),
        submit=_("Record"),
        cancel=_entry_url(entry),
        act=act,
    )


@casework
def defender_consent_new(request: HttpRequest, defender_id: int) -> HttpResponse:
    return _consent_new(request, _scoped(request, Defender, defender_id))


@casework
def organisation_consent_new(request: HttpRequest, organisation_id: int) -> HttpResponse:
    return _consent_new(request, _scoped(request, Organisation, organisation_id))


@casework
def consent_withdraw(request: HttpRequest, consent_id: int) -> HttpResponse:
    record: ConsentRecord = _scoped(request, ConsentRecord, consent_id)
    entry = record.defender or record.organisation
    assert entry is not None
    form = forms.WithdrawConsentForm(posted(request))

    def act() -> str:
        services.withdraw_consent(
            consent=record,
            actor=acting_user(request),
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("The consent is withdrawn from now on."))
        return _entry_url(entry)

    return _form_page(
        request,
        form,
        title=_("Withdraw consent: %(scope)s") % {"scope": record.get_scope_display()},
        intro=_("Pending actions that relied on this consent are put on hold."),
        submit=_("Withdraw"),
        cancel=_entry_url(entry),
        act=act,
    )


# -- affiliations and relations


@casework
def affiliation_new(request: HttpRequest, defender_id: int) -> HttpResponse:
    defender: Defender = _scoped(request, Defender, defender_id)
    organisations = selectors.organisations(
        acting_user(request), active_mission(request)
    ).prefetch_related("data_key")
    choices = sorted(((row.pk, str(row.name)) for row in organisations), key=lambda c: c[1])
    form = forms.AffiliationForm(posted(request), organisations=choices)

    def act() -> str:
        data = form.cleaned_data
        services.add_affiliation(
            defender=defender,
            organisation=organisations.get(pk=data["organisation"]),
            actor=acting_user(request),
            role=data["role"],
            started_on=data["started_on"],
            ended_on=data["ended_on"],
        )
        messages.success(request, _("The affiliation is added."))
        return _entry_url(defender)

    return _form_page(
        request,
        form,
        title=_("Add an organisation of %(name)s") % {"name": defender.name},
        intro="" if choices else _("There is no organisation in the registry yet: add it first."),
        submit=_("Add"),
        cancel=_entry_url(defender),
        act=act,
    )


@casework
def affiliation_end(request: HttpRequest, affiliation_id: int) -> HttpResponse:
    affiliation: Affiliation = _scoped(request, Affiliation, affiliation_id)
    form = forms.EndAffiliationForm(posted(request))

    def act() -> str:
        services.end_affiliation(
            affiliation=affiliation,
            actor=acting_user(request),
            ended_on=form.cleaned_data["ended_on"],
        )
        messages.success(request, _("The affiliation is ended."))
        return _entry_url(affiliation.defender)

    return _form_page(
        request,
        form,
        title=_("End the affiliation of %(name)s with %(organisation)s")
        % {"name": affiliation.defender.name, "organisation": affiliation.organisation.name},
        submit=_("End"),
        cancel=_entry_url(affiliation.defender),
        act=act,
    )


def _find_defender(request: HttpRequest, text: str) -> Defender | None:
    if not text.strip():
        return None
    found = list(
        selectors.defenders(acting_user(request), active_mission(request)).filter(
            selectors.search_query(text, "defender")
        )[:2]
    )
    if not found:
        raise ValidationError({"find": _("No defender has exactly this name, number or address.")})
    if len(found) > 1:
        raise ValidationError(
            {"find": _("Several defenders match: use a phone number or e-mail address.")}
        )
    return found[0]


@casework
def relation_new(request: HttpRequest, defender_id: int) -> HttpResponse:
    defender: Defender = _scoped(request, Defender, defender_id)
    form = forms.RelationForm(posted(request))

    def act() -> str:
        data = form.cleaned_data
        services.add_relation(
            defender=defender,
            actor=acting_user(request),
            kind=data["kind"],
            linked=_find_defender(request, data["find"]),
            name=data["name"],
            details=data["details"],
        )
        messages.success(request, _("The person is linked."))
        return _entry_url(defender)

    return _form_page(
        request,
        form,
        title=_("Link a relative or another person to %(name)s") % {"name": defender.name},
        submit=_("Link"),
        cancel=_entry_url(defender),
        act=act,
    )


@casework
def relation_remove(request: HttpRequest, relation_id: int) -> HttpResponse:
    relation: Relation = _scoped(request, Relation, relation_id)
    defender = relation.defender

    def act() -> str:
        services.remove_relation(relation=relation, actor=acting_user(request))
        messages.success(request, _("The link is removed."))
        return _entry_url(defender)

    return _form_page(
        request,
        Form(posted(request)),
        title=_("Remove this link from %(name)s?") % {"name": defender.name},
        submit=_("Remove"),
        cancel=_entry_url(defender),
        act=act,
    )


# -- merge and export


def _merge_candidate(request: HttpRequest, survivor: Defender, form: Form) -> Defender | None:
    """The record to fold into ``survivor``: by id from a link, or found by the chooser."""
    if "duplicate" in request.GET:
        try:
            other_id = int(request.GET["duplicate"])
        except ValueError:
            other_id = 0
        candidate: Defender | None = _scoped(request, Defender, other_id)
    elif form.is_valid():
        try:
            candidate = _find_defender(request, form.cleaned_data["find"])
        except ValidationError as error:
            apply_errors(form, error)
            return None
    else:
        return None
    if candidate is not None and candidate.pk == survivor.pk:
        form.add_error(None, _("That is this record: choose the other one."))
        return None
    return candidate


@casework
@reauthenticate
def defender_merge(request: HttpRequest, defender_id: int) -> HttpResponse:
    survivor: Defender = _scoped(request, Defender, defender_id)
    chooser = forms.MergeChooserForm(request.GET if "find" in request.GET else None)
    duplicate = _merge_candidate(request, survivor, chooser)
    if duplicate is None:
        context = {
            "survivor": survivor,
            "form": chooser,
            "duplicates": services.possible_duplicates_of(survivor),
        }
        return render(request, "registry/merge_choose.html", context)

    def act() -> str:
        services.merge_defenders(survivor=survivor, duplicate=duplicate, actor=acting_user(request))
        messages.success(request, _("The two records are merged into one."))
        return _entry_url(survivor)

    return _form_page(
        request,
        Form(posted(request)),
        title=_("Merge %(duplicate)s into %(survivor)s?")
        % {"duplicate": duplicate.name, "survivor": survivor.name},
        intro=_(
            "Channels, organisations, consent, relations and cases of the second record move "
            "to the first; its other names, notes and tags are kept. Then the second record "
            "is destroyed and cannot be recovered."
        ),
        submit=_("Merge"),
        cancel=_entry_url(survivor),
        act=act,
    )


@casework
@reauthenticate
def defender_export(request: HttpRequest, defender_id: int) -> HttpResponse:
    defender: Defender = _scoped(request, Defender, defender_id)
    data = services.export_defender(
        defender=defender, actor=acting_user(request), membership=_membership(request)
    )
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="defender-{defender.pk}.json"'
    return response


# -- import

IMPORT_SESSION_KEY = "haven_import_checked"


@casework
def import_entries(request: HttpRequest) -> HttpResponse:
    """Check a CSV file, then import it. Only a file that was checked can be imported: the
    session keeps the SHA-256 of the last checked file, never its content."""
    form = forms.ImportForm(posted(request), request.FILES or None)
    report = None
    if request.method == "POST" and upload_too_large(request):
        form.add_error("file", _("The file is too large. Split it into smaller files."))
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"].read()
        kind, action = form.cleaned_data["kind"], form.cleaned_data["action"]
        fingerprint = f"{kind}:{hashlib.sha256(data).hexdigest()}"
        try:
            report = csvimport.check_file(data=data, kind=kind, mission=active_mission(request))
            if action == forms.ImportForm.CHECK:
                request.session[IMPORT_SESSION_KEY] = fingerprint
            elif request.session.get(IMPORT_SESSION_KEY) != fingerprint:
                form.add_error(None, _("Check this file first: choose “Check the file”."))
            else:
                created = csvimport.import_file(
                    report=report,
                    mission=active_mission(request),
                    actor=acting_user(request),
                    only_valid=action == forms.ImportForm.IMPORT_VALID,
                )
                request.session.pop(IMPORT_SESSION_KEY, None)
                messages.success(request, _("%(count)d records imported.") % {"count": created})
                return redirect(f"registry:{kind}")
        except csvimport.ImportRefused as error:
            form.add_error("file", str(error))
    return render(request, "registry/import.html", {"form": form, "report": report})
