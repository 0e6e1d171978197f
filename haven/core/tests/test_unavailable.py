"""The 503 answer when the database cannot be reached, in each face's own shape.

The real faults (a cut connection, a restarted server) are driven over loopback in
``tests/test_faults_database.py``; here the shape of the answer is checked in every face and
language, with the database error raised from a view the way a cut connection raises it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError, ProgrammingError
from django.test import Client
from django.urls import path

from haven import urls as haven_urls
from haven.core.access import public


def _cut(request: Any) -> Any:
    # A cut connection: the query fails, then the rollback finds the connection closed.
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        raise InterfaceError("connection already closed") from None


def _session_not_saved(request: Any) -> Any:
    # Django's database sessions turn a failed save into UpdateError, then SessionInterrupted
    # (a 400), with the database error as its context.
    try:
        try:
            raise OperationalError("server closed the connection unexpectedly")
        except OperationalError:
            raise UpdateError from None
    except UpdateError:
        raise SessionInterrupted("The request's session was deleted") from None


def _bad(request: Any) -> Any:
    raise SuspiciousOperation("a malformed request")


def _bug(request: Any) -> Any:
    raise ProgrammingError('relation "secret_table" does not exist')


urlpatterns = [
    path("desk/cut", public(_cut)),
    path("api/v1/cut", public(_cut)),
    path("cut", public(_cut)),
    path("ar/cut", public(_cut)),
    path("desk/bug", public(_bug)),
    path("desk/session", public(_session_not_saved)),
    path("desk/bad", public(_bad)),
    # The shell's links (the desk, the language form) resolve as in the real site.
    *haven_urls.urlpatterns,
]
handler400 = "haven.core.views.bad_request"
handler500 = "haven.core.views.server_error"

pytestmark = pytest.mark.urls("haven.core.tests.test_unavailable")


def _get(url: str, **headers: str) -> Any:
    return Client(raise_request_exception=False).get(url, headers=headers)


def test_workspace_says_the_database_is_unreachable_with_a_request_id(db: Any) -> None:
    response = _get("/desk/cut")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert "Haven cannot reach its database just now" in body
    assert 'class="workspace"' in body
    assert response["X-Request-ID"] in body
    assert "connection" not in body.lower().replace("haven cannot reach", "")
    assert "Traceback" not in body


def test_workspace_page_is_in_the_officers_language(db: Any) -> None:
    response = _get("/desk/cut", **{"Accept-Language": "fr"})
    assert response.status_code == 503
    body = response.content.decode()
    assert 'lang="fr"' in body
    assert "Haven cannot reach its database just now" not in body


def test_api_answers_json_503(db: Any) -> None:
    response = _get("/api/v1/cut")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["request_id"] == response["X-Request-ID"]
    assert "database" in response.json()["detail"]


@pytest.mark.parametrize(("url", "direction"), [("/cut", "ltr"), ("/ar/cut", "rtl")])
def test_portal_says_not_sent_without_a_script(db: Any, url: str, direction: str) -> None:
    response = _get(url)
    assert response.status_code == 503
    body = response.content.decode()
    assert 'class="portal"' in body
    assert f'dir="{direction}"' in body
    assert "<script" not in body
    assert response["X-Request-ID"] in body


def test_a_bug_in_a_query_stays_a_500(db: Any) -> None:
    response = _get("/desk/bug")
    assert response.status_code == 500
    assert "secret_table" not in response.content.decode()


def test_a_session_the_database_could_not_save_is_a_503_not_a_bad_request(db: Any) -> None:
    response = _get("/desk/session")
    assert response.status_code == 503
    assert "Haven cannot reach its database just now" in response.content.decode()


def test_a_malformed_request_stays_a_400(db: Any) -> None:
    assert _get("/desk/bad").status_code == 400
