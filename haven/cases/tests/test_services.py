"""The rules of a case, through its services: the lifecycle, the threat log's escalation,
the second officer, the consent gate, withdrawal, handover and merging."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from haven.audit.models import AuditEvent
from haven.cases import services
from haven.cases.models import (
    Action,
    ActionStatus,
    Case,
    CaseStatus,
    Handover,
    Notice,
    NoticeKind,
    StatusChange,
)
from haven.cases.services import TRANSITIONS, CaseError
from haven.registry import services as registry
from tests.factories import make_defender, make_organisation, make_user


def _open(mission: Any, officer: Any, **values: Any) -> Case:
    defaults: dict[str, Any] = {"title": "Land dispute", "urgency": "medium"}
    defaults.update(values)
    if "defender" not in defaults and "organisation" not in defaults:
        defaults["defender"] = make_defender(mission)
    return services.open_case(mission=mission, actor=officer, **defaults)


def _consent(case: Case, scope: str, actor: Any) -> Any:
    return registry.record_consent(
        entry=case.subject,
        actor=actor,
        scope=scope,
        channel="in_person",
        given_on=timezone.localdate(),
    )


def _assess(case: Case, actor: Any, level: str = "medium", **extra: Any) -> Any:
    return services.record_assessment(
        case=case, actor=actor, level=level, rationale="Pattern of threats.", **extra
    )


def case_in(status: str, mission: Any, officer: Any) -> Case:
    """A case brought to ``status`` by the services, the way an officer would."""
    case = _open(mission, officer)
    path = {
        CaseStatus.RECEIVED: [],
        CaseStatus.SCREENING: ["screening"],
        CaseStatus.VERIFYING: ["screening", "verifying"],
        CaseStatus.RISK_ASSESSED: ["screening", "verifying", "assess"],
        CaseStatus.ACTION_PLANNED: ["screening", "verifying", "assess", "plan"],
        CaseStatus.ACTIVE: ["screening", "verifying", "assess", "plan", "start"],
        CaseStatus.MONITORING: ["screening", "verifying", "assess", "plan", "start", "monitoring"],
        CaseStatus.DORMANT: ["screening", "verifying", "assess", "plan", "start", "dormant"],
        CaseStatus.CLOSED: ["close"],
    }[status]
    for step in path:
        if step == "assess":
            _assess(case, officer)
        elif step == "plan":
            services.plan_action(case=case, actor=officer, action_type="capacity_building")
        elif step == "start":
            action = case.actions.get()
            services.update_action(action=action, actor=officer, changes={"status": "in_progress"})
        elif step == "close":
            services.move_case(case=case, actor=officer, to="closed", reason="resolved")
        else:
            services.move_case(case=case, actor=officer, to=step)
    case.refresh_from_db()
    assert case.status == status
    return case


# -- lifecycle


def _work_that_moves(case: Case, to: str, officer: Any) -> bool:
    """Do the work that defines ``to`` when the case lacks it (the work moves the case)."""
    if to == CaseStatus.RISK_ASSESSED and not case.riskassessments.exists():
        _assess(case, officer)
    elif to == CaseStatus.ACTION_PLANNED and not case.actions.exists():
        services.plan_action(case=case, actor=officer, action_type="capacity_building")
    elif to == CaseStatus.ACTIVE and not case.actions.filter(status="in_progress").exists():
        action = case.actions.get()
        services.update_action(action=action, actor=officer, changes={"status": "in_progress"})
    else:
        return False
    return True


@pytest.mark.parametrize("status", CaseStatus.values)
def test_every_legal_move_is_accepted(status: str, mission: Any, officer: Any) -> None:
    for to in TRANSITIONS[status]:
        case = case_in(status, mission, officer)
        if not _work_that_moves(case, to, officer):
            services.move_case(case=case, actor=officer, to=to, reason="resolved")
        case.refresh_from_db()
        assert case.status == to
        change = StatusChange.objects.filter(case=case).last()
        assert change is not None and (change.from_status, change.to_status) == (status, to)


@pytest.mark.parametrize("status", CaseStatus.values)
def test_every_illegal_move_is_refused_with_a_reason(
    status: str, mission: Any, officer: Any
) -> None:
    case = case_in(status, mission, officer)
    for to in CaseStatus.values:
        if to in TRANSITIONS[status]:
            continue
        with pytest.raises(CaseError) as refused:
            services.move_case(case=case, actor=officer, to=to, reason="resolved")
        assert str(refused.value).strip()
        case.refresh_from_db()
        assert case.status == status


def test_illegal_move_message_lists_where_the_case_can_go(mission: Any, officer: Any) -> None:
    case = _open(mission, officer)
    with pytest.raises(CaseError, match="Screening") as refused:
        services.move_case(case=case, actor=officer, to="active")
    assert "Received" in str(refused.value) and "Active" in str(refused.value)


def test_closing_needs_a_reason_and_the_reason_is_kept(mission: Any, officer: Any) -> None:
    case = _open(mission, officer)
    with pytest.raises(ValidationError):
        services.move_case(case=case, actor=officer, to="closed")
    services.move_case(case=case, actor=officer, to="closed", reason="out_of_scope")
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == ("closed", "out_of_scope")


def test_a_closed_case_takes_no_new_work_until_reopened(mission: Any, officer: Any) -> None:
    case = case_in("active", mission, officer)
    services.move_case(case=case, actor=officer, to="closed", reason="resolved")
    with pytest.raises(CaseError, match="closed"):
        _assess(case, officer)
    with pytest.raises(CaseError, match="closed"):
        services.plan_action(case=case, actor=officer, action_type="capacity_building")
    services.reopen_case(case=case, actor=officer)
    case.refresh_from_db()
    # It had been assessed and worked on: it comes back active, without its closing reason.
    assert (case.status, case.closure_reason) == ("active", "")
    with pytest.raises(CaseError, match="Only a closed case"):
        services.reopen_case(case=case, actor=officer)


def test_a_never_assessed_case_reopens_at_screening(mission: Any, officer: Any) -> None:
    case = case_in("closed", mission, officer)
    services.reopen_case(case=case, actor=officer)
    case.refresh_from_db()
    assert case.status == "screening"


def test_later_states_need_the_work_that_defines_them(mission: Any, officer: Any) -> None:
    case = case_in("verifying", mission, officer)
    with pytest.raises(CaseError, match="risk assessment"):
        services.move_case(case=case, actor=officer, to="risk_assessed")
    _assess(case, officer)
    case.refresh_from_db()
    assert case.status == "risk_assessed"  # the assessment moved it on
    with pytest.raises(CaseError, match="Plan an action"):
        services.move_case(case=case, actor=officer, to="action_planned")


def test_response_deadline_follows_the_missions_setting(mission: Any, officer: Any) -> None:
    mission.response_hours_critical = 6
    mission.save()
    before = timezone.now()
    critical = _open(mission, officer, urgency="critical")
    low = _open(mission, officer, urgency="low")
    assert (
        datetime.timedelta(hours=6)
        <= critical.response_due_at - before
        < datetime.timedelta(hours=6, minutes=1)
    )
    assert low.response_due_at - before >= datetime.timedelta(days=30)
    services.update_case(case=low, actor=officer, changes={"urgency": "high"})
    assert low.response_due_at - low.opened_at == datetime.timedelta(hours=72)


def test_a_case_is_about_one_defender_or_one_organisation(mission: Any, officer: Any) -> None:
    with pytest.raises(ValidationError):
        services.open_case(mission=mission, actor=officer, title="x", urgency="low")
    with pytest.raises(ValidationError):
        services.open_case(
            mission=mission,
            actor=officer,
            title="x",
            urgency="low",
            defender=make_defender(mission),
            organisation=make_organisation(mission),
        )
    case = _open(mission, officer, defender=None, organisation=make_organisation(mission))
    assert case.organisation is not None and case.number >= 1


def test_case_numbers_run_per_mission(mission: Any, other_mission: Any, officer: Any) -> None:
    first, second = _open(mission, officer), _open(mission, officer)
    elsewhere = services.open_case(
        mission=other_mission,
        actor=make_user(other_mission),
        title="x",
        urgency="low",
        defender=make_defender(other_mission),
    )
    assert second.number == first.number + 1
    assert elsewhere.number == 1


def test_a_case_cannot_reach_into_another_mission(
    mission: Any, other_mission: Any, officer: Any
) -> None:
    with pytest.raises(CaseError):
        _open(mission, officer, defender=make_defender(other_mission))
    with pytest.raises(ValidationError):
        _open(mission, officer, owner=make_user(other_mission))


# -- threat log and risk


def _incident(case: Case, actor: Any, **values: Any) -> Any:
    defaults: dict[str, Any] = {
        "incident_type": "death_threat",
        "occurred_on": timezone.localdate(),
        "description": "A note pushed under the door.",
        "perpetrator_type": "unknown",
        "source_type": "victim",
    }
    defaults.update(values)
    return services.record_incident(case=case, actor=actor, **defaults)


def test_a_specific_threat_raises_the_case_to_high_and_sets_a_review(
    mission: Any, officer: Any
) -> None:
    case = _open(mission, officer)
    _incident(case, officer, specific_threat=True)
    case.refresh_from_db()
    assert case.risk_level == "high"
    assert case.review_due_on is not None
    assert case.review_due_on <= timezone.localdate() + datetime.timedelta(days=7)
    case.defender.refresh_from_db()
    assert case.defender.risk_level == "high"
    assert AuditEvent.objects.filter(action="case.risk_raised", reason="specific_threat").exists()


def test_a_vague_threat_changes_no_risk(mission: Any, officer: Any) -> None:
    case = _open(mission, officer)
    _incident(case, officer, specific_threat=False, incident_type="surveillance")
    case.refresh_from_db()
    assert (case.risk_level, case.review_due_on) == ("", None)


def test_a_specific_threat_never_lowers_a_critical_risk(mission: Any, officer: Any) -> None:
    second = make_user(mission)
    case = _open(mission, officer)
    _assess(case, officer, "critical", second_officer=second)
    _incident(case, officer, specific_threat=True)
    case.refresh_from_db()
    assert case.risk_level == "critical"


def test_an_incident_in_the_future_is_refused(mission: Any, officer: Any) -> None:
    case = _open(mission, officer)
    with pytest.raises(ValidationError) as refused:
        _incident(case, officer, occurred_on=timezone.localdate() + datetime.timedelta(days=2))
    assert "occurred_on" in refused.value.message_dict


def test_high_risk_needs_a_second_officer(mission: Any, officer: Any) -> None:
    case = _open(mission, officer)
    with pytest.raises(ValidationError) as refused:
        _assess(case, officer, "high")
    assert "second_officer" in refused.value.message_dict
    with pytest.raises(ValidationError):
        _assess(case, officer, "high", second_officer=officer)  # not the owner
    second = make_user(mission)
    _assess(case, officer, "high", second_officer=second, threats=["Police visits"])
    case.refresh_from_db()
    assert (case.risk_level, case.second_officer) == ("high", second)
    with pytest.raises(ValidationError):
        services.assign(case=case, actor=officer, clear_second=True)


def test_an_escalated_case_cannot_move_on_without_a_second_officer(
    mission: Any, officer: Any
) -> None:
    case = case_in("screening", mission, officer)
    _incident(case, officer, specific_threat=True)
    case.refresh_from_db()
    assert case.needs_second_officer
    with pytest.raises(CaseError, match="second officer"):
        services.move_case(case=case, actor=officer, to="verifying")
    services.assign(case=case, actor=officer, second_officer=make_user(mission))
    services.move_case(case=case, actor=officer, to="verifying")


def test_assessments_are_kept_as_history(mission: Any, officer: Any) -> None:
    case = _open(mission, officer)
    _assess(case, officer, "low")
    _assess(case, officer, "medium", imminent=True)
    assert list(case.riskassessments.values_list("level", flat=True)) == ["medium", "low"]
    case.refresh_from_db()
    assert (case.risk_level, case.imminent) == ("medium", True)


# -- actions and consent


def test_public_statement_refused_without_naming_consent(mission: Any, officer: Any) -> None:
    case = case_in("risk_assessed", mission, officer)
    with pytest.raises(CaseError, match="consent"):
        services.plan_action(
            case=case, actor=officer, action_type="public_statement", reprisal_check="Weighed."
        )
    assert not Action.objects.filter(case=case).exists()
    _consent(case, "public_statement", officer)
    with pytest.raises(ValidationError) as refused:
        services.plan_action(case=case, actor=officer, action_type="public_statement")
    assert "reprisal_check" in refused.value.message_dict
    action = services.plan_action(
        case=case,
        actor=officer,
        action_type="public_statement",
        reprisal_check="Family abroad; statement after the hearing.",
    )
    assert action.reprisal_checked_at is not None
    case.refresh_from_db()
    assert case.status == "action_planned"


def test_other_consent_does_not_open_the_gate(mission: Any, officer: Any) -> None:
    case = _open(mission, officer)
    _consent(case, "raise_unnamed", officer)
    with pytest.raises(CaseError):
        services.plan_action(
            case=case, actor=officer, action_type="demarche_named", reprisal_check="ok"
        )
    services.plan_action(case=case, actor=officer, action_type="demarche_unnamed")


def test_withdrawn_consent_puts_pending_actions_on_hold_and_tells_the_owner(
    mission: Any, officer: Any
) -> None:
    case = case_in("risk_assessed", mission, officer)
    colleague = make_user(mission)
    consent = _consent(case, "public_statement", officer)
    statement = services.plan_action(
        case=case,
        actor=officer,
        owner=colleague,
        action_type="public_statement",
        reprisal_check="Weighed.",
    )
    training = services.plan_action(case=case, actor=officer, action_type="capacity_building")
    registry.withdraw_consent(consent=consent, actor=officer, reason="person_asked")
    statement.refresh_from_db()
    training.refresh_from_db()
    assert (statement.status, statement.hold_reason) == ("on_hold", "consent_withdrawn")
    assert training.status == "planned"
    assert Notice.objects.filter(user=colleague, kind=NoticeKind.ACTION_ON_HOLD).exists()
    # Resuming it passes the gate again, and the gate is shut.
    with pytest.raises(CaseError, match="consent"):
        services.update_action(action=statement, actor=officer, changes={"status": "in_progress"})


def test_expired_consent_stops_an_action_from_starting(mission: Any, officer: Any) -> None:
    case = _open(mission, officer)
    registry.record_consent(
        entry=case.subject,
        actor=officer,
        scope="visibility_events",
        channel="in_person",
        given_on=timezone.localdate() - datetime.timedelta(days=30),
        expires_on=timezone.localdate() + datetime.timedelta(days=1),
    )
    visit = services.plan_action(
        case=case, actor=officer, action_type="site_visit", reprisal_check="Weighed."
    )
    later = timezone.now() + datetime.timedelta(days=3)
    with time_machine.travel(later), pytest.raises(CaseError, match="consent"):
        services.update_action(action=visit, actor=officer, changes={"status": "done"})


def test_action_outcome_and_feedback_are_recorded(mission: Any, officer: Any) -> None:
    case = case_in("action_planned", mission, officer)
    action = case.actions.get()
    services.update_action(
        action=action,
        actor=officer,
        changes={
            "status": "done",
            "outcome": "Ministry promised an inquiry.",
            "host_response": "pledged",
            "defender_told": True,
        },
    )
    action.refresh_from_db()
    case.refresh_from_db()
    assert (action.status, action.host_response, action.defender_told) == ("done", "pledged", True)
    assert action.completed_on == timezone.localdate()
    assert case.status == "active" and case.responded_at is not None
    with pytest.raises(CaseError):
        services.update_action(action=action, actor=officer, changes={"status": "planned"})


# -- follow-ups, handover, merge


def test_a_contact_sets_the_next_one_and_counts_as_a_response(mission: Any, officer: Any) -> None:
    case = _open(mission, officer)
    today = timezone.localdate()
    services.record_follow_up(
        case=case,
        actor=officer,
        contacted_on=today,
        method="call",
        next_contact_on=today + datetime.timedelta(days=14),
    )
    case.refresh_from_db()
    assert case.last_contact_on == today
    assert case.next_contact_on == today + datetime.timedelta(days=14)
    assert case.responded_at is not None
    with pytest.raises(ValidationError):
        services.record_follow_up(
            case=case, actor=officer, contacted_on=today, method="call", next_contact_on=today
        )


def test_handover_moves_cases_with_notes_and_is_all_or_nothing(
    mission: Any, other_mission: Any, officer: Any
) -> None:
    leaving = make_user(mission)
    successor = make_user(mission)
    first = _open(mission, officer, owner=leaving)
    second = _open(mission, officer, owner=leaving)
    with pytest.raises(ValidationError):
        services.hand_over(
            actor=officer,
            moves=[
                services.HandoverMove(first, successor, "Calls on Mondays."),
                services.HandoverMove(second, make_user(other_mission), "x"),
            ],
        )
    first.refresh_from_db()
    assert first.owner == leaving
    done = services.hand_over(
        actor=officer,
        moves=[
            services.HandoverMove(first, successor, "Calls on Mondays."),
            services.HandoverMove(second, successor, ""),
        ],
    )
    assert len(done) == 2
    assert set(Case.objects.filter(owner=successor)) == {first, second}
    assert Handover.objects.get(case=first).note == "Calls on Mondays."
    assert Notice.objects.filter(user=successor, kind=NoticeKind.CASE_HANDED_OVER).count() == 2
    assert AuditEvent.objects.filter(action="case.handed_over").count() == 2


def test_merging_defenders_moves_their_cases(mission: Any, admin: Any) -> None:
    survivor, duplicate = make_defender(mission), make_defender(mission)
    case = _open(mission, admin, defender=duplicate)
    registry.merge_defenders(survivor=survivor, duplicate=duplicate, actor=admin)
    case.refresh_from_db()
    assert case.defender == survivor
    assert case.title == "Land dispute"  # the case's own key was never touched


def test_actions_from_the_toolbox_carry_their_consent(mission: Any, officer: Any) -> None:
    case = _open(mission, officer)
    assert services.consent_gate(case, "capacity_building") == []
    assert services.consent_gate(case, "emergency_grant")
    registry.record_consent(
        entry=case.subject,
        actor=officer,
        scope="refer_named",
        channel="signal",
        given_on=timezone.localdate(),
        detail="Lifeline",
    )
    assert services.consent_gate(case, "emergency_grant") == []
    assert ActionStatus.ON_HOLD in services.ACTION_MOVES[ActionStatus.IN_PROGRESS]
