"""The API at ``/api/v1/``: personal tokens, the same services and scopes as the workspace.

A read-only token may only use safe methods. No interactive docs page: it would load
scripts from a CDN, and nothing leaves the premises.

Every answer is JSON, errors included: each error carries a ``detail`` a person can read (and
``errors`` by field where the input was at fault); a server error carries the request id to
quote and never a trace. The OpenAPI schema declares these error answers on every operation.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, ValidationError
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from django.utils.log import log_response
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser
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
from haven.core.apierrors import error_body, server_error_detail, unavailable_detail
from haven.core.schemas import has_nul
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


class MalformedBody(ValueError):
    """The body is not JSON, is nested beyond what the parser follows, or holds a NUL."""


class JsonParser(Parser):
    """Ninja's JSON parser, with the reason a body could not be read kept for the answer, and
    NUL refused in bodies and queries alike (no route can store what PostgreSQL cannot)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        try:
            data = super().parse_body(request)
        except (ValueError, RecursionError) as error:
            detail = _("The body is not valid JSON (%(reason)s). Send one JSON object.")
            raise MalformedBody(detail % {"reason": str(error)[:200]}) from error
        if has_nul(data):
            raise MalformedBody(_("The body holds a NUL character, which is not allowed."))
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, str], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        if has_nul(parsed):
            raise HttpError(400, _("The query holds a NUL character, which is not allowed."))
        return parsed


class DuplicateOut(Schema):
    id: int
    reasons: list[str]


class ErrorOut(Schema):
    """Every error the API answers; ``detail`` is always there, the rest where it applies."""

    detail: str
    errors: dict[str, list[str]] | None = None
    request_id: str | None = None
    duplicates: list[DuplicateOut] | None = None
    certificate: dict[str, Any] | None = None


UNSAFE_METHODS = frozenset({"post", "put", "patch", "delete"})


def declared_errors(method: str, operation: dict[str, Any]) -> dict[int, str]:
    """The error statuses an operation can answer, by what it takes, with their meaning."""
    takes_input = bool(operation.get("parameters")) or "requestBody" in operation
    has_path_ids = any(p.get("in") == "path" for p in operation.get("parameters", []))
    statuses = {
        410: "The data of this instance was destroyed (emergency destruction).",
        503: "The database is not answering; try again.",
    }
    if operation.get("security"):
        statuses[401] = "No valid token."
        statuses[403] = "The token's role or scope does not allow this."
    if takes_input:
        statuses[400] = "The body is not JSON, or the body or query holds a NUL character."
        statuses[422] = "The input does not match the schema or a rule; errors by field."
    if "requestBody" in operation:
        statuses[413] = "The body is too large."
    if has_path_ids or "requestBody" in operation:
        statuses[404] = "Not found in the token's scope."
    if method in UNSAFE_METHODS:
        statuses[409] = "A rule refused the change; the detail says why."
    return statuses


class HavenAPI(NinjaAPI):
    """Ninja's API, whose OpenAPI schema declares the JSON error answers of every operation."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(error_schema.pop("$defs", {}))
        components["Error"] = error_schema
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for methods in schema.get("paths", {}).values():
            for method, operation in methods.items():
                responses = operation.setdefault("responses", {})
                for status, meaning in declared_errors(method, operation).items():
                    responses.setdefault(str(status), {"description": meaning, "content": content})
        return schema


api = HavenAPI(
    title="Haven API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    docs_url=None,
    openapi_url="/openapi.json",
    parser=JsonParser(),
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


# -- what reaches no service: bad input, a failing database, a bug


PYDANTIC_MESSAGES = {
    "missing": lambda ctx: _("This field is required."),
    "string_too_long": lambda ctx: _("At most %(n)s characters.") % {"n": ctx.get("max_length")},
    "too_long": lambda ctx: _("At most %(n)s items.") % {"n": ctx.get("max_length")},
    "less_than_equal": lambda ctx: _("At most %(n)s.") % {"n": ctx.get("le")},
    "greater_than_equal": lambda ctx: _("At least %(n)s.") % {"n": ctx.get("ge")},
    "int_parsing": lambda ctx: _("A whole number."),
    "int_type": lambda ctx: _("A whole number."),
    "string_type": lambda ctx: _("Text."),
    "string_pattern_mismatch": lambda ctx: _("Contains a character that is not allowed."),
    "bool_parsing": lambda ctx: _("true or false."),
    "bool_type": lambda ctx: _("true or false."),
    "date_from_datetime_parsing": lambda ctx: _("A date as YYYY-MM-DD."),
    "date_parsing": lambda ctx: _("A date as YYYY-MM-DD."),
    "date_type": lambda ctx: _("A date as YYYY-MM-DD."),
    "datetime_from_date_parsing": lambda ctx: _("A date and time as ISO 8601, with its offset."),
    "datetime_parsing": lambda ctx: _("A date and time as ISO 8601, with its offset."),
    "datetime_type": lambda ctx: _("A date and time as ISO 8601, with its offset."),
    "timezone_aware": lambda ctx: _("A date and time as ISO 8601, with its offset."),
    "list_type": lambda ctx: _("A list."),
    "dict_type": lambda ctx: _("An object."),
    "model_attributes_type": lambda ctx: _("An object."),
    "extra_forbidden": lambda ctx: _("Not a field of this request."),
}


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    """``case_ids.0`` for ``("body", "payload", "case_ids", 0)``; ``page`` for a query's."""
    parts = [str(part) for part in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] or ["__all__"]
    elif parts:
        parts = parts[1:] or ["__all__"]
    return ".".join(parts)


@api.exception_handler(SchemaError)
def does_not_match_schema(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Input the schema refuses: 422, with a message by field (as a service's refusal has)."""
    assert isinstance(exc, SchemaError)
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        explain = PYDANTIC_MESSAGES.get(error.get("type", ""))
        message = explain(error.get("ctx") or {}) if explain else str(error.get("msg", ""))
        errors.setdefault(_field(error.get("loc", ())), []).append(message)
    problems = " ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
    detail = _("The request does not match the schema. %(problems)s") % {"problems": problems}
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A refusal raised with its status; a body that is not JSON gets its own message."""
    assert isinstance(exc, HttpError)
    if isinstance(exc.__cause__, MalformedBody):
        detail = str(exc.__cause__)
    elif isinstance(exc.__cause__, RequestDataTooBig):
        return api.create_response(request, {"detail": _("The request is too large.")}, status=413)
    else:
        detail = exc.message
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(SuspiciousOperation)
def suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Django refused the request itself (too large, too many fields): a 4xx, never a 500."""
    if isinstance(exc, RequestDataTooBig):
        return api.create_response(request, {"detail": _("The request is too large.")}, status=413)
    detail = _("The request could not be read. Send one JSON object.")
    return api.create_response(request, {"detail": detail}, status=400)


def _log(request: HttpRequest, exc: Exception, response: HttpResponse) -> None:
    """Logged and signalled as Django logs an unhandled error (its id is in the log line)."""
    log_response(
        "%s: %s",
        response.reason_phrase,
        request.path,
        response=response,
        request=request,
        exception=exc,
    )
    got_request_exception.send(sender=None, request=request)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The database (or the key store) cannot be reached or is busy: 503, try again."""
    response = api.create_response(
        request, error_body(request, 503, unavailable_detail(request)), status=503
    )
    response["Retry-After"] = "60"
    _log(request, exc, response)
    return response


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A bug: 500 with the request id to quote; the trace goes to the log, never to the client."""
    response = api.create_response(
        request, error_body(request, 500, server_error_detail(request)), status=500
    )
    _log(request, exc, response)
    return response
