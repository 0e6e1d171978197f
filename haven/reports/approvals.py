"""Identifiable exports need two administrators: one asks, with a reason, another approves.

Invariants: the requester never approves their own request; only the requester downloads,
once, before the approval lapses (``APPROVAL_WINDOW``); every step is an audit event carrying
the reason code. Re-authentication before each step is the views' job (``@reauthenticate``).
"""

from __future__ import annotations

import tempfile
from typing import IO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import Membership, Role, User
from haven.audit.services import record
from haven.core.models import Mission
from haven.crypto.archives import new_archive_passphrase
from haven.reports.exit.writer import write_exit_archive
from haven.reports.models import (
    APPROVAL_WINDOW,
    ExportKind,
    ExportReason,
    ExportRequest,
    ExportStatus,
)


class ExportRefused(Exception):
    """A refused export step; ``str()`` is the message to show."""


def _admin_ids(mission: Mission) -> set[int]:
    return set(
        Membership.objects.filter(mission=mission, role=Role.ADMIN).values_list(
            "user_id", flat=True
        )
    )


def _refuse_unless_admin(actor: User, mission: Mission) -> None:
    if actor.pk not in _admin_ids(mission):
        raise ExportRefused(_("Only an administrator of this mission can do this."))


def has_second_admin(mission: Mission, actor: User) -> bool:
    return bool(_admin_ids(mission) - {actor.pk})


def _audit(action: str, request: ExportRequest, actor: User | None) -> None:
    record(
        action=action,
        actor=actor,
        mission=request.mission_id,
        obj=request,
        fields=["status"],
        reason=f"{request.kind}:{request.reason}",
    )


def expire_lapsed(mission: Mission) -> None:
    """Mark requests past their window as expired (audited), so the lists say so."""
    for request in ExportRequest.objects.filter(
        mission=mission,
        status__in=[ExportStatus.PENDING, ExportStatus.APPROVED],
        expires_at__lte=timezone.now(),
    ):
        with transaction.atomic():
            if ExportRequest.objects.filter(pk=request.pk, status=request.status).update(
                status=ExportStatus.EXPIRED
            ):
                request.status = ExportStatus.EXPIRED
                _audit("export.expired", request, None)


def request_export(*, mission: Mission, actor: User, kind: str, reason: str) -> ExportRequest:
    """An administrator asks for an export, saying why (a reason code)."""
    _refuse_unless_admin(actor, mission)
    if kind not in ExportKind.values:
        raise ExportRefused(_("Choose one of the listed exports."))
    if reason not in ExportReason.values:
        raise ExportRefused(_("Choose one of the listed reasons."))
    if not has_second_admin(mission, actor):
        raise ExportRefused(
            _(
                "This mission has only one administrator. An export of identifiable data needs "
                "a second administrator to approve it: make another member an administrator "
                "first."
            )
        )
    with transaction.atomic():
        now = timezone.now()
        request = ExportRequest.objects.create(
            mission=mission,
            kind=kind,
            reason=reason,
            requested_by=actor,
            requested_at=now,
            expires_at=now + APPROVAL_WINDOW,
        )
        _audit("export.requested", request, actor)
    return request


def _decide(request: ExportRequest, actor: User, status: str, action: str) -> ExportRequest:
    _refuse_unless_admin(actor, request.mission)
    if actor.pk == request.requested_by_id:
        raise ExportRefused(
            _("You asked for this export, so another administrator must decide on it.")
        )
    if request.lapsed:
        expire_lapsed(request.mission)
        raise ExportRefused(_("This request waited too long and has expired. Ask again."))
    with transaction.atomic():
        now = timezone.now()
        changes = {"status": status, "decided_by": actor, "decided_at": now}
        if status == ExportStatus.APPROVED:
            changes["expires_at"] = now + APPROVAL_WINDOW
        updated = ExportRequest.objects.filter(pk=request.pk, status=ExportStatus.PENDING).update(
            **changes
        )
        if not updated:
            raise ExportRefused(_("This request was already decided."))
        request.refresh_from_db()
        _audit(action, request, actor)
    return request


def approve_export(*, request: ExportRequest, actor: User) -> ExportRequest:
    """A second administrator approves: the requester may download once, within 24 hours."""
    return _decide(request, actor, ExportStatus.APPROVED, "export.approved")


def refuse_export(*, request: ExportRequest, actor: User) -> ExportRequest:
    """A second administrator refuses: nothing can be downloaded."""
    return _decide(request, actor, ExportStatus.REFUSED, "export.refused")


def cancel_export(*, request: ExportRequest, actor: User) -> ExportRequest:
    """The requester withdraws a request that was not downloaded yet."""
    if actor.pk != request.requested_by_id:
        raise ExportRefused(_("Only the administrator who asked can cancel this request."))
    with transaction.atomic():
        updated = ExportRequest.objects.filter(
            pk=request.pk, status__in=[ExportStatus.PENDING, ExportStatus.APPROVED]
        ).update(status=ExportStatus.CANCELLED)
        if not updated:
            raise ExportRefused(_("This request can no longer be cancelled."))
        request.refresh_from_db()
        _audit("export.cancelled", request, actor)
    return request


def check_downloadable(*, request: ExportRequest, actor: User) -> None:
    """Refuse unless ``actor`` asked for it, another admin approved it and it is unused."""
    _refuse_unless_admin(actor, request.mission)
    if actor.pk != request.requested_by_id:
        raise ExportRefused(_("Only the administrator who asked can download this export."))
    if request.lapsed:
        expire_lapsed(request.mission)
        raise ExportRefused(_("The approval has expired. Ask again."))
    if request.status == ExportStatus.DOWNLOADED:
        raise ExportRefused(_("This export was already downloaded. Ask again for another."))
    if request.status != ExportStatus.APPROVED:
        raise ExportRefused(_("This export has not been approved by a second administrator."))


def use_approval(*, request: ExportRequest, actor: User) -> ExportRequest:
    """Spend the approval: from now on the request cannot be downloaded again."""
    check_downloadable(request=request, actor=actor)
    with transaction.atomic():
        updated = ExportRequest.objects.filter(
            pk=request.pk, status=ExportStatus.APPROVED, expires_at__gt=timezone.now()
        ).update(status=ExportStatus.DOWNLOADED, downloaded_at=timezone.now())
        if not updated:
            raise ExportRefused(_("This export was already downloaded. Ask again for another."))
        request.refresh_from_db()
        _audit("export.downloaded", request, actor)
    return request


def awaiting_approval(mission: Mission, actor: User) -> list[ExportRequest]:
    """Requests another administrator made that ``actor`` may approve."""
    if actor.pk not in _admin_ids(mission):
        return []
    expire_lapsed(mission)
    return list(
        ExportRequest.objects.filter(mission=mission, status=ExportStatus.PENDING)
        .exclude(requested_by=actor)
        .select_related("requested_by")
    )


def suggested_passphrase() -> str:
    """A passphrase to offer on the download page (seven diceware words, about 90 bits)."""
    return new_archive_passphrase()


def download_export(*, request: ExportRequest, actor: User, passphrase: str) -> IO[bytes]:
    """Build the export encrypted under ``passphrase`` and spend the approval; return the
    file, positioned at its start, for the response to stream.

    The archive is written into an unnamed temporary file, encrypted as it is written: the
    disk only ever sees ciphertext, and the file vanishes when the caller closes it.
    """
    check_downloadable(request=request, actor=actor)
    handle = tempfile.TemporaryFile()  # noqa: SIM115  (closed by the response that streams it)
    try:
        write_exit_archive(request.mission, handle, passphrase)
        use_approval(request=request, actor=actor)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle
