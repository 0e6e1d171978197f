"""The API at ``/api/v1/``: personal tokens, the same services and scopes as the workspace.

A read-only token may only use safe methods. No interactive docs page: it would load
scripts from a CDN, and nothing leaves the premises.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer

from haven.accounts.api import router as accounts_router
from haven.accounts.models import ApiToken, TokenScope
from haven.accounts.services import AccountError, authenticate_api_token
from haven.audit.api import router as audit_router
from haven.cases.api import router as cases_router
from haven.cases.services import CaseError
from haven.coordination.api import router as coordination_router
from haven.coordination.services import CoordinationError
from haven.core.api import router as core_router
from haven.intake.api import router as intake_router
from haven.intake.services import IntakeError
from haven.monitoring.api import router as monitoring_router
from haven.monitoring.services import MonitoringError
from haven.referrals.api import router as referrals_router
from haven.referrals.services import ReferralError
from haven.registry.api import router as registry_router
from haven.registry.services import PossibleDuplicates, RegistryError
from haven.reports.api import router as reports_router
from haven.reports.approvals import ExportRefused

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = authenticate_api_token(token)
        if found is None:
            return None
        if request.method not in SAFE_METHODS and found.scope != TokenScope.WRITE:
            raise HttpError(403, _("This token is read only. Create a read-and-write token."))
        request.user = found.user
        return found


api = NinjaAPI(
    title="Haven API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    docs_url=None,
    openapi_url="/openapi.json",
)
api.add_router("/", accounts_router)
api.add_router("/", core_router)
api.add_router("/", registry_router)
api.add_router("/", intake_router)
api.add_router("/", reports_router)
api.add_router("/", audit_router)
api.add_router("/", coordination_router)
api.add_router("/", cases_router)
api.add_router("/", monitoring_router)
api.add_router("/", referrals_router)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(AuthenticationError)
def unauthorised(request: HttpRequest, exc: Exception) -> HttpResponse:
    body: dict[str, Any] = {
        "detail": _("A valid API token is needed: send it as “Authorization: Bearer …”.")
    }
    return api.create_response(request, body, status=401)


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A service refused the input: 422, with the messages by field where there is one."""
    assert isinstance(exc, ValidationError)
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    detail = " ".join(message for messages in errors.values() for message in messages)
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(RegistryError)
def refused(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A registry rule refused the change: 409, with the reason (and possible duplicates)."""
    body: dict[str, Any] = {"detail": str(exc)}
    if isinstance(exc, PossibleDuplicates):
        body["duplicates"] = [
            {"id": match.entry.pk, "reasons": match.reasons} for match in exc.matches
        ]
    return api.create_response(request, body, status=409)


@api.exception_handler(AccountError)
@api.exception_handler(CoordinationError)
@api.exception_handler(IntakeError)
@api.exception_handler(ExportRefused)
@api.exception_handler(CaseError)
@api.exception_handler(MonitoringError)
@api.exception_handler(ReferralError)
def case_refused(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A domain rule refused the change (an illegal move, no consent, an empty reply): 409,
    with the reason."""
    return api.create_response(request, {"detail": str(exc)}, status=409)
