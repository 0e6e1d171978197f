"""The access matrix: every route, as every kind of visitor, against one mission's objects.

Routes are discovered from the URL resolver, so routes added later are walked without
editing this file. A route must be classified: public, workspace (with its roles) or API.
A parameter this file cannot fill makes the test fail, naming it, until an object for it is
added to ``OBJECT_FACTORIES`` below.
"""

from __future__ import annotations

import datetime
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from PIL import Image

from haven.accounts.models import Membership
from haven.accounts.services import create_api_token
from haven.cases import relocation
from haven.cases import services as cases
from haven.cases.models import (
    Action,
    Case,
    CaseMember,
    FollowUp,
    Incident,
    Note,
    RelocationTask,
    RiskAssessment,
)
from haven.coordination import services as coordination
from haven.coordination.models import Disclosure, Partner, ReceivedBundle
from haven.core.access import ALL_ROLES, access_of
from haven.intake import services as intake
from haven.intake.models import Message, Submission
from haven.monitoring import services as monitoring
from haven.monitoring.models import (
    CalendarFeed,
    CivicEvent,
    Detention,
    DetentionVisit,
    Hearing,
    ObservationReport,
)
from haven.referrals import services as referrals
from haven.referrals.models import Mechanism, Referral
from haven.registry import services as registry
from haven.registry.models import (
    Affiliation,
    ConsentRecord,
    ContactChannel,
    Defender,
    Organisation,
    Relation,
)
from haven.reports.models import APPROVAL_WINDOW, ExportRequest
from tests.factories import (
    make_defender,
    make_mission,
    make_organisation,
    make_received_bundle,
    make_user,
    signed_in_client,
)

# Public API routes are few and deliberate: each is named here.
PUBLIC_API_ROUTES = {"api:openapi-json"}
# Private data of mission A (usernames, token names) and its name, which the public portal
# shows but no one outside the mission may see in the workspace or the API.
MARKER = "zq7canary"
MISSION_MARKER = "Mission A qx9"
# Registry records of mission A are named "<kind> zq7canary".
REGISTRY_KINDS = (
    "Defender",
    "Organisation",
    "Relative",
    "Request",
    "Reply",
    "Case",
    "Threat",
    "Court",
    "Report",
    "Cell",
    "Event",
    "Referral",
    "Sent",
)


@dataclass(frozen=True)
class Route:
    name: str  # namespaced, e.g. "accounts:member"
    params: tuple[str, ...]
    callback: Callable[..., Any]
    route: str

    @property
    def kind(self) -> str:
        if self.route.startswith("api/v1/"):
            return "public" if self.name in PUBLIC_API_ROUTES else "api"
        mark = access_of(self.callback)
        if mark == "public":
            return "public"
        if self.route.startswith("desk/") and mark in {"workspace", "login_step"}:
            return mark
        return "unclassified"

    @property
    def roles(self) -> frozenset[str]:
        return getattr(self.callback, "haven_roles", frozenset())


def _walk(patterns: list[Any], namespace: str = "", prefix: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
            params = tuple(pattern.pattern.regex.groupindex)
            yield Route(name, params, pattern.callback, prefix + str(pattern.pattern))


ROUTES = sorted(_walk(get_resolver().url_patterns), key=lambda r: r.name)


class World:
    """Mission A with one member of each role and one object of each kind; mission B's admin."""

    def __init__(self) -> None:
        self.mission = make_mission(name=MISSION_MARKER, slug="mission-a")
        self.members = {
            role: make_user(self.mission, role, username=f"{role}-{MARKER}") for role in ALL_ROLES
        }
        self.other_mission = make_mission(name="Mission B", slug="mission-b")
        self.outsider = make_user(self.other_mission, "admin", username="outsider-b")
        # Admin of mission B and only a viewer in mission A: B's powers must not reach A.
        self.dual = make_user(self.other_mission, "admin", username="dual-b")
        Membership.objects.create(user=self.dual, mission=self.mission, role="viewer")
        self.tokens = {
            role: create_api_token(
                user=user, mission=self.mission, name=f"token {MARKER}", scope="write", days=30
            )
            for role, user in self.members.items()
        }
        self.outsider_token = create_api_token(
            user=self.outsider, mission=self.other_mission, name="b", scope="write", days=30
        )
        # The registry: a defender (with a channel, consent, relation) in an organisation.
        admin = self.members["admin"]
        self.organisation = make_organisation(
            self.mission, name=f"Organisation {MARKER}", channels=[("email", "org@example.org")]
        )
        self.defender = make_defender(
            self.mission, name=f"Defender {MARKER}", channels=[("phone", "+254712345678")]
        )
        self.consent = registry.record_consent(
            entry=self.defender,
            actor=admin,
            scope="raise_named",
            channel="in_person",
            given_on=timezone.localdate(),
        )
        self.affiliation = registry.add_affiliation(
            defender=self.defender, organisation=self.organisation, actor=admin
        )
        self.relation = registry.add_relation(
            defender=self.defender, actor=admin, kind="family", name=f"Relative {MARKER}"
        )
        # A request from the portal, answered once.
        self.submission, _receipt = intake.submit(
            mission=self.mission,
            answers={"kind": "help", "description": f"Request {MARKER}", "name": MARKER},
            language="en",
        )
        intake.reply(submission=self.submission, actor=admin, text=f"Reply {MARKER}")
        # A photo, kept also as sent (the mission keeps originals).
        self.mission.keep_originals = True
        self.mission.save()
        photo = io.BytesIO()
        Image.new("RGB", (8, 8)).save(photo, format="PNG")
        self.attachment = intake.add_file(
            submission=self.submission, upload=SimpleUploadedFile("p.png", photo.getvalue())
        )
        # A case about the defender, from the request, with an incident and an action.
        self.case = cases.open_case(
            mission=self.mission,
            actor=admin,
            title=f"Case {MARKER}",
            urgency="high",
            defender=self.defender,
            submission=self.submission,
        )
        cases.record_incident(
            case=self.case,
            actor=admin,
            incident_type="death_threat",
            occurred_on=timezone.localdate(),
            description=f"Threat {MARKER}",
            perpetrator_type="police",
            source_type="victim",
        )
        cases.add_team_member(case=self.case, actor=admin, user=self.members["officer"])
        self.action = cases.plan_action(
            case=self.case,
            actor=admin,
            action_type="demarche_named",
            reprisal_check=f"Threat {MARKER} weighed",
        )
        self.relocation_task = relocation.plan_relocation(
            case=self.case,
            actor=admin,
            departs_on=timezone.localdate(),
            returns_on=timezone.localdate() + datetime.timedelta(days=90),
        )[0]
        # Monitoring: a hearing that was held and reported, a detention with a visit request,
        # a reprisal in the register, a hearings feed.
        self.hearing = monitoring.schedule_hearing(
            case=self.case,
            actor=admin,
            court=f"Court {MARKER}",
            starts_at=timezone.now() - datetime.timedelta(days=1),
            observers=[admin],
        )
        monitoring.record_observation(
            hearing=self.hearing,
            actor=admin,
            summary=f"Report {MARKER}",
            access="granted",
            authorities_informed=True,
            checklist={},
        )
        self.detention = monitoring.record_detention(
            case=self.case,
            actor=admin,
            defender=self.defender,
            detained_on=timezone.localdate(),
            acknowledged=False,
            location_disclosed=False,
            place=f"Cell {MARKER}",
        )
        self.visit = monitoring.request_visit(
            detention=self.detention, actor=admin, requested_on=timezone.localdate()
        )
        self.civic_event = monitoring.record_civic_event(
            mission=self.mission,
            actor=admin,
            kind="reprisal",
            title=f"Event {MARKER}",
            starts_on=timezone.localdate(),
            source_type="media",
            cases_linked=[self.case],
        )
        self.feed_secret = monitoring.create_feed(
            user=self.members["officer"], mission=self.mission
        )
        # Referrals: the starter directory, and a referral with the defender's consent.
        registry.record_consent(
            entry=self.defender,
            actor=admin,
            scope="refer_named",
            channel="in_person",
            given_on=timezone.localdate(),
            detail="Lifeline",
        )
        self.mechanism = Mechanism.objects.filter(mission=self.mission).first()
        self.referral = referrals.refer(
            case=self.case, actor=admin, mechanism=self.mechanism, outcome=f"Referral {MARKER}"
        )
        # An exit export the admin asked for (the service wants a second admin, which would
        # change every role's view of the members; the row is what the routes need).
        self.export_request = ExportRequest.objects.create(
            mission=self.mission,
            kind="exit",
            reason="system_move",
            requested_by=admin,
            expires_at=timezone.now() + APPROVAL_WINDOW,
        )
        # Coordination: a third mission is A's verified partner and sent it a case summary
        # (mission B stays a stranger, so its staff know nothing of A, not even its name).
        partner_mission = make_mission(name="Mission C", slug="mission-c")
        self.received = make_received_bundle(
            self.mission,
            partner_mission,
            actor=admin,
            name=f"Sent {MARKER}",
            title=f"Sent {MARKER} case",
        )
        self.partner = Partner.objects.get(mission=self.mission)
        registry.record_consent(
            entry=self.defender,
            actor=admin,
            scope="share_missions",
            channel="in_person",
            given_on=timezone.localdate(),
            detail=self.partner.code,
        )
        self.disclosure, _bundle = coordination.send_case_summary(
            case=self.case, partner=self.partner, actor=admin, reason="protection"
        )


# How to fill each URL parameter with an object of mission A. ``role`` is who is asking:
# personal objects (tokens) are the asker's own, so an in-scope request is a fair one.
OBJECT_FACTORIES: dict[str, Callable[[World, str], Any]] = {
    "membership_id": lambda w, role: Membership.objects.get(user=w.members["officer"]).pk,
    "token_id": lambda w, role: w.tokens.get(role, w.tokens["officer"]).token.pk,
    "mission_id": lambda w, role: w.mission.pk,
    "defender_id": lambda w, role: w.defender.pk,
    "organisation_id": lambda w, role: w.organisation.pk,
    "channel_id": lambda w, role: w.defender.channels.get().pk,
    "consent_id": lambda w, role: w.consent.pk,
    "affiliation_id": lambda w, role: w.affiliation.pk,
    "relation_id": lambda w, role: w.relation.pk,
    "submission_id": lambda w, role: w.submission.pk,
    "attachment_id": lambda w, role: w.attachment.pk,
    "case_id": lambda w, role: w.case.pk,
    "user_id": lambda w, role: w.members["officer"].pk,
    "action_id": lambda w, role: w.action.pk,
    "task_id": lambda w, role: w.relocation_task.pk,
    "hearing_id": lambda w, role: w.hearing.pk,
    "detention_id": lambda w, role: w.detention.pk,
    "visit_id": lambda w, role: w.visit.pk,
    "event_id": lambda w, role: w.civic_event.pk,
    "feed_token": lambda w, role: w.feed_secret,
    "mechanism_id": lambda w, role: w.mechanism.pk,
    "referral_id": lambda w, role: w.referral.pk,
    "export_id": lambda w, role: w.export_request.pk,
    "partner_id": lambda w, role: w.partner.pk,
    "received_id": lambda w, role: w.received.pk,
    "path": lambda w, role: "core/haven.css",
}


def _url(route: Route, world: World, role: str) -> str:
    missing = [p for p in route.params if p not in OBJECT_FACTORIES]
    assert not missing, (
        f"{route.name} takes {missing}: add an object factory for it to OBJECT_FACTORIES"
    )
    kwargs = {p: OBJECT_FACTORIES[p](world, role) for p in route.params}
    return reverse(route.name, kwargs=kwargs)


def _body(response: Any) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


@pytest.fixture
def world(db: Any) -> World:
    return World()


def test_every_route_is_classified() -> None:
    unclassified = [r.name for r in ROUTES if r.kind == "unclassified"]
    assert not unclassified, f"routes without an access mark: {unclassified}"
    assert len(ROUTES) > 20


def test_every_route_has_a_name() -> None:
    assert all(r.name and r.name != "None" for r in ROUTES)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_anonymous_reaches_no_workspace_or_api_data(route: Route, world: World) -> None:
    url = _url(route, world, "anonymous")
    client = Client()
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code < 500, (route.name, method)
        body = _body(response)
        if route.kind in {"workspace", "login_step"}:
            assert response.status_code == 302, (route.name, method)
            assert response.url.startswith("/desk/login/"), route.name
        elif route.kind == "api":
            assert response.status_code in {401, 404, 405}, (route.name, method)
        assert MARKER not in body, (route.name, method)


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.kind == "workspace"], ids=lambda r: r.name
)
def test_workspace_roles(route: Route, world: World) -> None:
    for role, user in world.members.items():
        client = signed_in_client(user, reauthenticated=True)
        response = client.get(_url(route, world, role))
        if role in route.roles:
            assert response.status_code not in {403, 404}, (route.name, role)
            assert response.status_code < 500, (route.name, role)
        else:
            assert response.status_code == 403, (route.name, role, response.status_code)


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.kind == "workspace"], ids=lambda r: r.name
)
def test_staff_of_another_mission_reach_nothing_of_it(route: Route, world: World) -> None:
    client = signed_in_client(world.outsider, reauthenticated=True)
    url = _url(route, world, "outsider")
    before = _snapshot(world)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code < 500, (route.name, method)
        if route.params:
            assert response.status_code == 404, (route.name, method, response.status_code)
        body = _body(response)
        assert MARKER not in body and MISSION_MARKER not in body, (route.name, method)
    assert _snapshot(world) == before, f"{route.name} changed mission A's data for an outsider"


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.kind == "workspace"], ids=lambda r: r.name
)
def test_admin_elsewhere_and_viewer_here_gets_viewer_rights_here(
    route: Route, world: World
) -> None:
    before = _snapshot(world)
    for active in (world.mission, world.other_mission):
        client = signed_in_client(world.dual, reauthenticated=True)
        session = client.session
        session["haven_mission_id"] = active.pk
        session.save()
        url = _url(route, world, "viewer")
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code < 500, (route.name, method)
            if route.params:
                assert response.status_code in {403, 404}, (route.name, method, active.slug)
            body = _body(response)
            assert MARKER not in body, (route.name, method)
    assert _snapshot(world) == before, f"{route.name} let an admin of B change mission A"


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.kind in {"workspace", "login_step"}], ids=lambda r: r.name
)
def test_password_alone_reaches_no_workspace_page(route: Route, world: World) -> None:
    client = Client()
    client.force_login(world.members["admin"])
    url = _url(route, world, "admin")
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code < 500, (route.name, method)
        assert MARKER not in _body(response), (route.name, method)
        if route.kind == "workspace":
            assert response.status_code in {302, 403}, (route.name, method)
            if response.status_code == 302:
                assert response.url == reverse("accounts:mfa_verify"), route.name


def _snapshot(world: World) -> list[Any]:
    members = Membership.objects.filter(mission=world.mission).order_by("pk")
    return [
        list(members.values_list("pk", "role")),
        [(u.pk, u.password, u.sessions_valid_after) for u in world.members.values()],
        [t.token.__class__.objects.get(pk=t.token.pk).revoked_at for t in world.tokens.values()],
        # The registry: rows, and what changes when they are edited or withdrawn.
        list(Defender.objects.values_list("pk", "updated_at")),
        list(Organisation.objects.values_list("pk", "updated_at")),
        list(ContactChannel.objects.values_list("pk", "preferred")),
        list(ConsentRecord.objects.values_list("pk", "withdrawn_at")),
        list(Affiliation.objects.values_list("pk", "ended_on")),
        list(Relation.objects.values_list("pk")),
        list(Submission.objects.values_list("pk", "status", "urgency", "defender_id")),
        list(Message.objects.values_list("pk")),
        list(
            Case.objects.values_list("pk", "status", "owner_id", "second_officer_id", "updated_at")
        ),
        list(Action.objects.values_list("pk", "status", "outcome")),
        list(Incident.objects.values_list("pk")),
        list(RiskAssessment.objects.values_list("pk")),
        list(FollowUp.objects.values_list("pk")),
        list(Note.objects.values_list("pk")),
        list(CaseMember.objects.values_list("pk")),
        list(Case.objects.values_list("pk", "restricted")),
        list(RelocationTask.objects.values_list("pk", "done_on")),
        list(Hearing.objects.values_list("pk", "status")),
        list(ObservationReport.objects.values_list("pk", "access")),
        list(Detention.objects.values_list("pk", "released_on", "counsel")),
        list(DetentionVisit.objects.values_list("pk", "status")),
        list(CivicEvent.objects.values_list("pk")),
        list(CalendarFeed.objects.filter(mission=world.mission).values_list("pk", "revoked_at")),
        list(Mechanism.objects.values_list("pk", "updated_at", "last_verified_on")),
        list(Referral.objects.values_list("pk", "status")),
        list(ExportRequest.objects.values_list("pk", "status", "decided_by_id")),
        list(Partner.objects.values_list("pk", "verified_at", "active")),
        list(Disclosure.objects.values_list("pk")),
        list(ReceivedBundle.objects.values_list("pk")),
    ]


def _api_methods(client: Client, url: str) -> list[str]:
    """The methods an API path answers, from the ``Allow`` of its 405 to OPTIONS."""
    allowed = client.options(url).get("Allow", "GET")
    return [method.strip().lower() for method in allowed.split(",") if method.strip()]


def _api_call(client: Client, url: str, method: str) -> Any:
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, {}, content_type="application/json")


@pytest.mark.parametrize("route", [r for r in ROUTES if r.kind == "api"], ids=lambda r: r.name)
def test_api_scope(route: Route, world: World) -> None:
    # Mission A's members reach their own mission; mission B's token reaches none of it.
    # Viewers and auditors are refused (403) what their role does not cover, and no registry
    # record of the mission reaches them.
    for role, created in world.tokens.items():
        client = Client(headers={"Authorization": f"Bearer {created.secret}"})
        response = client.get(_url(route, world, role))
        assert response.status_code in {200, 403, 404, 405}, (route.name, role)
        if role in {"viewer", "auditor"}:
            body = _body(response)
            assert not any(f"{kind} {MARKER}" in body for kind in REGISTRY_KINDS), (
                route.name,
                role,
            )
    outsider = Client(headers={"Authorization": f"Bearer {world.outsider_token.secret}"})
    url = _url(route, world, "outsider")
    before = _snapshot(world)
    methods = _api_methods(outsider, url)
    assert methods, route.name
    for method in methods:
        response = _api_call(outsider, url, method)
        if method != "get":
            # A write: an empty body is refused (422) before any lookup, or the object is
            # not found; either way nothing of mission A changes or shows.
            assert response.status_code in {404, 422}, (route.name, method)
        elif route.params:
            assert response.status_code == 404, route.name
        body = _body(response)
        assert MARKER not in body and MISSION_MARKER not in body, (route.name, method)
    assert _snapshot(world) == before, route.name


@pytest.mark.parametrize("route", [r for r in ROUTES if r.kind == "api"], ids=lambda r: r.name)
def test_api_writes_refused_to_viewers_and_auditors(route: Route, world: World) -> None:
    # Every write method of every API path, as a viewer and as an auditor of mission A with
    # a read-and-write token: refused (or its empty body refused), and nothing changes.
    before = _snapshot(world)
    for role in ("viewer", "auditor"):
        client = Client(headers={"Authorization": f"Bearer {world.tokens[role].secret}"})
        url = _url(route, world, role)
        for method in _api_methods(client, url):
            if method == "get":
                continue
            response = _api_call(client, url, method)
            assert response.status_code in {403, 404, 422}, (route.name, role, method)
            body = _body(response)
            assert not any(f"{kind} {MARKER}" in body for kind in REGISTRY_KINDS), (
                route.name,
                role,
            )
    assert _snapshot(world) == before, route.name


def test_matrix_covers_every_role_pair() -> None:
    kinds = {r.kind for r in ROUTES}
    assert {"public", "workspace", "login_step", "api"} <= kinds
    assert list(itertools.chain.from_iterable(r.roles for r in ROUTES if r.kind == "workspace"))
