"""How the API answers what goes wrong: always JSON with a ``detail`` a person can read, a 4xx
for anything the client sent, 503 when the database does not answer, and for a bug a 500
with the request id to quote and nothing of the failure itself."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import OperationalError, connections
from django.test import Client
from django.utils import timezone

from haven.accounts.services import create_api_token
from haven.cases import services as cases
from haven.monitoring.models import CivicEvent
from haven.registry.models import Defender
from tests.factories import make_defender

BEYOND_64_BITS = 2**64


@pytest.fixture
def secret(mission: Any, officer: Any) -> str:
    return create_api_token(user=officer, mission=mission, name="t", scope="write", days=5).secret


@pytest.fixture
def api(secret: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"})


def _failing_client(secret: str) -> Client:
    """A client that sees the 500 a person would, rather than the exception behind it."""
    return Client(headers={"Authorization": f"Bearer {secret}"}, raise_request_exception=False)


def _event(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "reprisal",
        "title": "Raid on an office",
        "starts_on": timezone.localdate().isoformat(),
        "source_type": "media",
        **fields,
    }


def _is_json_error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_an_id_beyond_64_bits_in_a_list_is_a_422_naming_it(api: Client) -> None:
    response = api.post(
        "/api/v1/civic-events", _event(case_ids=[BEYOND_64_BITS]), content_type="application/json"
    )
    assert response.status_code == 422
    body = _is_json_error(response)
    assert "case_ids.0" in body["errors"] and "case_ids.0" in body["detail"]
    assert not CivicEvent.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/cases/{}", "/api/v1/cases/{}/actions"])
def test_an_id_beyond_64_bits_in_a_path_is_a_422(api: Client, path: str) -> None:
    response = api.get(path.format(BEYOND_64_BITS))
    assert response.status_code == 422
    assert "case_id" in _is_json_error(response)["errors"]


def test_an_id_of_no_row_is_a_404_in_json(api: Client) -> None:
    response = api.get("/api/v1/cases/9223372036854775807")
    assert response.status_code == 404
    _is_json_error(response)


def test_text_longer_than_the_form_allows_is_a_422(api: Client) -> None:
    response = api.post(
        "/api/v1/civic-events", _event(title="x" * 201), content_type="application/json"
    )
    assert response.status_code == 422
    assert "200" in " ".join(_is_json_error(response)["errors"]["title"])


def test_a_body_that_is_not_json_is_a_400_saying_so(api: Client) -> None:
    response = api.post("/api/v1/civic-events", "{'kind': ", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in _is_json_error(response)["detail"]


def test_json_nested_beyond_reason_is_a_400_not_a_crash(api: Client) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    response = api.post("/api/v1/civic-events", deep, content_type="application/json")
    assert response.status_code == 400
    _is_json_error(response)


def test_json_that_is_not_an_object_is_a_422(api: Client) -> None:
    response = api.post("/api/v1/civic-events", "[1, 2]", content_type="application/json")
    assert response.status_code == 422
    _is_json_error(response)


def test_a_nul_character_is_refused_in_body_and_query(api: Client, mission: Any) -> None:
    body = json.dumps(_event(region="North\u0000"))
    response = api.post("/api/v1/civic-events", body, content_type="application/json")
    assert response.status_code == 400 and "NUL" in _is_json_error(response)["detail"]
    assert not CivicEvent.objects.exists()
    response = api.get("/api/v1/civic-events", {"region": "North\x00"})
    assert response.status_code == 400 and "NUL" in _is_json_error(response)["detail"]
    response = api.post(
        "/api/v1/defenders",
        json.dumps({"name": "Amina", "channels": [{"channel_type": "phone", "value": "\x00"}]}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not Defender.objects.filter(mission=mission).exists()


def test_an_unknown_route_is_a_json_404_pointing_at_the_schema(api: Client) -> None:
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert "openapi.json" in _is_json_error(response)["detail"]
    assert response["X-Request-ID"]


def test_a_method_the_route_does_not_take_is_a_json_405(api: Client) -> None:
    response = api.delete("/api/v1/civic-events")
    assert response.status_code == 405
    assert "DELETE" in _is_json_error(response)["detail"]
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_without_a_token_the_answer_is_a_json_401(db: Any) -> None:
    response = Client().get("/api/v1/cases")
    assert response.status_code == 401
    _is_json_error(response)


def test_a_database_that_does_not_answer_is_a_503_to_retry(secret: str) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    client = _failing_client(secret)
    with connections["default"].execute_wrapper(down):
        response = client.get("/api/v1/cases")
    assert response.status_code == 503
    body = _is_json_error(response)
    assert body["request_id"] == response["X-Request-ID"]
    assert "server closed" not in response.content.decode()
    assert response["Retry-After"]


def test_a_bug_is_a_500_with_the_request_id_and_nothing_of_the_failure(
    secret: str, mission: Any, officer: Any, monkeypatch: Any
) -> None:
    case = cases.open_case(
        mission=mission,
        actor=officer,
        title="Trial",
        urgency="high",
        defender=make_defender(mission),
    )

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(cases, "reopen_case", broken)
    response = _failing_client(secret).post(f"/api/v1/cases/{case.pk}/reopen")
    assert response.status_code == 500
    body = _is_json_error(response)
    assert body["request_id"] == response["X-Request-ID"]
    assert body["request_id"] in body["detail"]
    text = response.content.decode()
    assert "secret internal detail" not in text and "Traceback" not in text


def test_a_lone_surrogate_is_refused_not_a_crash(api: Client, mission: Any) -> None:
    body = json.dumps(_event(region="North\ud800"))
    response = api.post("/api/v1/civic-events", body, content_type="application/json")
    assert response.status_code in {400, 422}
    _is_json_error(response)
    response = api.get("/api/v1/civic-events?region=North%ED%A0%80")
    assert response.status_code in {200, 400}


def test_a_body_beyond_the_upload_limit_is_a_413(api: Client, settings: Any) -> None:
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    body = json.dumps(_event(description=padding))
    response = api.post("/api/v1/civic-events", body, content_type="application/json")
    assert response.status_code == 413
    _is_json_error(response)
    assert not CivicEvent.objects.exists()


@pytest.mark.parametrize(
    "starts_at",
    [
        "0117-04-04T04:04:30.40-22:30",  # an offset PostgreSQL refuses (found by the fuzz test)
        "0001-01-01T00:00:00+23:00",  # before year 1 once in UTC
        "2024-05-01T09:00:00",  # no offset: which nine o'clock?
    ],
)
def test_a_moment_the_database_cannot_hold_is_a_422(
    api: Client, mission: Any, officer: Any, starts_at: str
) -> None:
    case = cases.open_case(
        mission=mission,
        actor=officer,
        title="Trial",
        urgency="high",
        defender=make_defender(mission),
    )
    response = api.post(
        f"/api/v1/cases/{case.pk}/hearings",
        {"court": "High Court", "starts_at": starts_at},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "starts_at" in _is_json_error(response)["errors"]


@pytest.mark.parametrize(
    ("offset", "in_utc"), [("+14:00", "2030-04-30T19:00:00"), ("-22:30", "2030-05-02T07:30:00")]
)
def test_a_moment_with_any_valid_offset_is_kept_as_the_same_instant(
    api: Client, mission: Any, officer: Any, offset: str, in_utc: str
) -> None:
    case = cases.open_case(
        mission=mission,
        actor=officer,
        title="Trial",
        urgency="high",
        defender=make_defender(mission),
    )
    response = api.post(
        f"/api/v1/cases/{case.pk}/hearings",
        {"court": "High Court", "starts_at": f"2030-05-01T09:00:00{offset}"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["starts_at"].startswith(in_utc)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_date_at_the_calendars_ends_is_a_422_not_an_overflow(
    api: Client, mission: Any, officer: Any, day: str
) -> None:
    case = cases.open_case(
        mission=mission,
        actor=officer,
        title="Trial",
        urgency="high",
        defender=make_defender(mission),
    )
    response = api.post(
        f"/api/v1/cases/{case.pk}/relocation",
        {"departs_on": day, "returns_on": day},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "departs_on" in _is_json_error(response)["errors"]
