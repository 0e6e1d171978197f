"""Reads of cases, always through ``Case.objects.for_user``: a restricted case outside the
user's team is in no list, count, search or export this module returns.

Lists decrypt only the rows shown: the rows come in one query and their data keys in one
more, so the number of queries does not grow with the number of cases.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Case as SqlCase
from django.db.models import Count, F, Q, QuerySet, When, Window, prefetch_related_objects
from django.db.models.functions import RowNumber
from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.selectors import account_notices
from haven.cases.extensions import extra_timeline
from haven.cases.models import (
    AWAITING_RESPONSE,
    OPEN_STATUSES,
    PENDING_ACTIONS,
    Action,
    Case,
    CaseStatus,
    FollowUp,
    Handover,
    Incident,
    Note,
    Notice,
    RelocationTask,
    RiskAssessment,
    StatusChange,
)
from haven.core.choices import RiskLevel
from haven.core.models import Mission
from haven.crypto.datakeys import prime_data_keys

PAGE_SIZE = 50
DESK_ROWS = 8
RESPONSE_WARNING = datetime.timedelta(hours=24)
HIGH_RISKS = [RiskLevel.HIGH, RiskLevel.CRITICAL]


def cases(user: User, mission: Mission) -> QuerySet[Case]:
    """The cases ``user`` may see in ``mission``. The visibility rule is built once per user
    object and cloned after (building it costs more than running it); it is evaluated by the
    database each time, so a change of team or section shows at once."""
    built: dict[int, QuerySet[Case]] = user.__dict__.setdefault("_haven_visible_cases", {})
    if mission.pk not in built:
        built[mission.pk] = Case.objects.for_user(user, mission=mission)
    return built[mission.pk].all()


def _with_keys(rows: QuerySet[Case]) -> QuerySet[Case]:
    return rows.select_related("owner", "second_officer").prefetch_related("data_key")


@dataclass(frozen=True)
class CaseFilters:
    """What the case list was asked for; empty values filter nothing."""

    q: str = ""
    status: str = ""
    urgency: str = ""
    risk_level: str = ""
    owner: int | None = None
    mine: bool = False
    include_closed: bool = False
    queue: str = ""  # one of the desk's lists: overdue, awaiting, review_due, quiet


def _filtered(user: User, rows: QuerySet[Case], filters: CaseFilters) -> QuerySet[Case]:
    reference = filters.q.strip().upper().removeprefix("C-")
    if reference:
        rows = rows.filter(number=int(reference)) if reference.isdigit() else rows.none()
    if filters.status:
        rows = rows.filter(status=filters.status)
    elif not filters.include_closed:
        rows = rows.exclude(status=CaseStatus.CLOSED)
    if filters.urgency:
        rows = rows.filter(urgency=filters.urgency)
    if filters.risk_level:
        rows = rows.filter(risk_level=filters.risk_level)
    if filters.owner is not None:
        rows = rows.filter(owner_id=filters.owner)
    if filters.mine:
        rows = rows.filter(Q(owner=user) | Q(second_officer=user))
    return rows


def _queue(user: User, mission: Mission, name: str) -> QuerySet[Case] | None:
    now = timezone.now()
    today = timezone.localdate(now)
    if name == "overdue":
        return overdue_cases(user, mission, today)
    if name == "awaiting":
        return response_deadlines(user, mission, now)
    if name == "review_due":
        return reviews_due(user, mission, today)
    if name == "quiet":
        return quiet_high_risk(user, mission, today)
    return None


def case_page(user: User, mission: Mission, filters: CaseFilters, number: Any = 1) -> Page:
    rows = _filtered(user, _with_keys(cases(user, mission)), filters)
    queue = _queue(user, mission, filters.queue)
    if queue is not None:
        rows = rows.filter(pk__in=queue.values("pk"))
    return Paginator(rows, PAGE_SIZE).get_page(number)


# -- the desk


@dataclass
class DeskList:
    """One panel of the desk: the first rows and how many there are in all."""

    rows: list[Any] = field(default_factory=list)
    total: int = 0


def _desk_list(rows: QuerySet[Any]) -> DeskList:
    """The first rows and the total in one query (a window count), whatever the list holds.
    Their data keys are fetched afterwards for the whole desk at once (``desk``)."""
    first = list(rows.prefetch_related(None).annotate(desk_total=Window(Count("pk")))[:DESK_ROWS])
    return DeskList(first, first[0].desk_total if first else 0)


def _desk_lists(rows: QuerySet[Any], queues: dict[str, _Queue]) -> dict[str, DeskList]:
    """Several lists over the same rows in two queries, whatever their number. The first
    reads, for each row in some list, only its id and per list whether it is in it and its
    rank in the list's order (window functions); the totals are counted from those. The
    second reads the rows among the first ``DESK_ROWS`` of some list, each once, however
    many lists it is shown in."""
    annotations: dict[str, Any] = {}
    any_list = Q()
    for index, queue in enumerate(queues.values()):
        flag = f"desk_in_{index}"
        annotations[flag] = SqlCase(When(queue.condition, then=True), default=False)
        annotations[f"desk_rank_{index}"] = Window(
            RowNumber(), partition_by=[F(flag)], order_by=[*queue.order]
        )
        any_list |= queue.condition
    bare = rows.prefetch_related(None).order_by()
    ranks = bare.filter(any_list).annotate(**annotations).values_list("pk", *annotations)
    totals = [0] * len(queues)
    firsts: list[list[tuple[int, Any]]] = [[] for _queue in queues]
    for pk, *marks in ranks:
        for index in range(len(queues)):
            listed, rank = marks[2 * index], marks[2 * index + 1]
            if listed:
                totals[index] += 1
                if rank <= DESK_ROWS:
                    firsts[index].append((rank, pk))
    wanted = {pk for first in firsts for _rank, pk in first}
    found = {row.pk: row for row in bare.filter(pk__in=wanted)} if wanted else {}
    return {
        name: DeskList([found[pk] for _rank, pk in sorted(firsts[index])], totals[index])
        for index, name in enumerate(queues)
    }


def _key_ids(lists: list[DeskList]) -> set[Any]:
    """The data keys the desk's rows are encrypted under: their own and their case's."""
    ids = set()
    for desk_list in lists:
        for row in desk_list.rows:
            ids.add(getattr(row, "data_key_id", None))
            case = row._state.fields_cache.get("case")
            if case is not None:
                ids.add(case.data_key_id)
    return ids


def _open(user: User, mission: Mission) -> QuerySet[Case]:
    return cases(user, mission).filter(status__in=OPEN_STATUSES)


def _pending_actions(user: User, mission: Mission) -> QuerySet[Action]:
    return (
        Action.objects.filter(case__in=_open(user, mission).values("pk"))
        .filter(status__in=PENDING_ACTIONS)
        .select_related("case", "owner")
        .prefetch_related("data_key", "case__data_key")
    )


@dataclass(frozen=True)
class _Queue:
    """One list of the desk: which rows it holds and in what order. The list's function
    and the desk's combined query both read it, so the two cannot drift apart."""

    condition: Q
    order: tuple[str, ...]


def _overdue_cases(today: datetime.date) -> _Queue:
    return _Queue(Q(next_contact_on__lt=today), ("next_contact_on", "pk"))


def _cases_due_today(today: datetime.date) -> _Queue:
    return _Queue(Q(next_contact_on=today), ("pk",))


def _overdue_actions(today: datetime.date) -> _Queue:
    return _Queue(Q(due_on__lt=today) | Q(next_contact_on__lt=today), ("due_on", "pk"))


def _actions_due_today(today: datetime.date) -> _Queue:
    overdue = _overdue_actions(today).condition
    return _Queue((Q(due_on=today) | Q(next_contact_on=today)) & ~overdue, ("pk",))


def _response_deadlines(now: datetime.datetime) -> _Queue:
    return _Queue(
        Q(
            responded_at__isnull=True,
            status__in=AWAITING_RESPONSE,
            response_due_at__lte=now + RESPONSE_WARNING,
        ),
        ("response_due_at", "pk"),
    )


def _reviews_due(today: datetime.date) -> _Queue:
    return _Queue(Q(review_due_on__lte=today), ("review_due_on", "pk"))


def _quiet_high_risk(mission: Mission, today: datetime.date) -> _Queue:
    since = today - datetime.timedelta(days=mission.no_contact_days)
    return _Queue(
        Q(risk_level__in=HIGH_RISKS)
        & (Q(last_contact_on__isnull=True) | Q(last_contact_on__lt=since)),
        ("last_contact_on", "pk"),
    )


def _without_second_officer() -> _Queue:
    return _Queue(Q(risk_level__in=HIGH_RISKS, second_officer__isnull=True), ("pk",))


def _case_queue(user: User, mission: Mission, queue: _Queue) -> QuerySet[Case]:
    return _with_keys(_open(user, mission).filter(queue.condition)).order_by(*queue.order)


def overdue_cases(user: User, mission: Mission, today: datetime.date) -> QuerySet[Case]:
    return _case_queue(user, mission, _overdue_cases(today))


def cases_due_today(user: User, mission: Mission, today: datetime.date) -> QuerySet[Case]:
    return _case_queue(user, mission, _cases_due_today(today))


def overdue_actions(user: User, mission: Mission, today: datetime.date) -> QuerySet[Action]:
    queue = _overdue_actions(today)
    return _pending_actions(user, mission).filter(queue.condition).order_by(*queue.order)


def actions_due_today(user: User, mission: Mission, today: datetime.date) -> QuerySet[Action]:
    queue = _actions_due_today(today)
    return _pending_actions(user, mission).filter(queue.condition).order_by(*queue.order)


def response_deadlines(user: User, mission: Mission, now: datetime.datetime) -> QuerySet[Case]:
    """Cases not yet answered whose response deadline passes within a day (or has passed)."""
    return _case_queue(user, mission, _response_deadlines(now))


def reviews_due(user: User, mission: Mission, today: datetime.date) -> QuerySet[Case]:
    return _case_queue(user, mission, _reviews_due(today))


def quiet_high_risk(user: User, mission: Mission, today: datetime.date) -> QuerySet[Case]:
    """Open high- and critical-risk cases with no contact in the mission's "N days"."""
    return _case_queue(user, mission, _quiet_high_risk(mission, today))


def without_second_officer(user: User, mission: Mission) -> QuerySet[Case]:
    return _case_queue(user, mission, _without_second_officer())


def relocation_due(user: User, mission: Mission, today: datetime.date) -> QuerySet[RelocationTask]:
    """Relocation tasks of open cases due today or earlier and not done."""
    return (
        RelocationTask.objects.filter(case__in=_open(user, mission).values("pk"))
        .filter(done_on__isnull=True, due_on__lte=today)
        .select_related("case")
        .prefetch_related("case__data_key")
        .order_by("due_on", "pk")
    )


def unseen_notices(user: User, mission: Mission) -> QuerySet[Notice]:
    visible = cases(user, mission).values("pk")
    return (
        Notice.objects.filter(user=user, mission=mission, seen_at__isnull=True, case__in=visible)
        .select_related("case")
        .prefetch_related("case__data_key")
        .order_by("-created_at", "-pk")
    )


def desk(user: User, mission: Mission, *, now: datetime.datetime | None = None) -> dict[str, Any]:
    """Everything the desk shows about cases, each list with its first rows and its total."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    case_lists = _desk_lists(
        _with_keys(_open(user, mission)),
        {
            "overdue_cases": _overdue_cases(today),
            "due_cases": _cases_due_today(today),
            "deadlines": _response_deadlines(now),
            "reviews": _reviews_due(today),
            "quiet": _quiet_high_risk(mission, today),
            "no_second": _without_second_officer(),
        },
    )
    action_lists = _desk_lists(
        _pending_actions(user, mission),
        {"overdue_actions": _overdue_actions(today), "due_actions": _actions_due_today(today)},
    )
    lists = {
        "notices": _desk_list(unseen_notices(user, mission)),
        **case_lists,
        **action_lists,
        "relocation": _desk_list(relocation_due(user, mission, today)),
    }
    prime_data_keys(_key_ids(list(lists.values())))
    return {**lists, "today": today, "now": now}


def digest_counts(user: User, mission: Mission, *, now: datetime.datetime) -> dict[str, int]:
    """The numbers of the daily digest: counts only, for the cases the user works on, and
    for administrators the changes to people's access made by another administrator."""
    today = timezone.localdate(now)
    mine = Q(owner=user) | Q(second_officer=user)
    return {
        "overdue": overdue_cases(user, mission, today).filter(mine).count()
        + overdue_actions(user, mission, today).filter(owner=user).count(),
        "due_today": cases_due_today(user, mission, today).filter(mine).count()
        + actions_due_today(user, mission, today).filter(owner=user).count(),
        "deadlines": response_deadlines(user, mission, now).filter(mine).count(),
        "reviews": reviews_due(user, mission, today).filter(mine).count(),
        "quiet": quiet_high_risk(user, mission, today).filter(mine).count(),
        "notices": unseen_notices(user, mission).count(),
        # Administrators: changes to someone's access made by another (accounts.AccountNotice).
        "account_notices": account_notices(user, mission).count(),
    }


# -- one case


def prime_case_keys(case: Case) -> None:
    """The data keys of the case, its subject and the others concerned, in one query: each
    would otherwise fetch its own as the page first reads it."""
    prefetch_related_objects([case], "linked_defenders")  # read once, for the page too
    concerned = [case.defender, case.organisation, *case.linked_defenders.all()]
    prime_data_keys([case.data_key_id, *(row.data_key_id for row in concerned if row)])


def timeline(case: Case) -> list[dict[str, Any]]:
    """Everything that happened on a case, newest first: status changes, incidents,
    assessments, actions, follow-ups, notes and handovers (intake messages are added by the
    view, which opens them with the request's key)."""
    entries: list[dict[str, Any]] = []

    def add(kind: str, at: Any, row: Any) -> None:
        when = (
            at
            if isinstance(at, datetime.datetime)
            else datetime.datetime.combine(
                at, datetime.time.min, tzinfo=timezone.get_current_timezone()
            )
        )
        entries.append({"kind": kind, "at": when, "row": row})

    for change in StatusChange.objects.filter(case=case).select_related("actor"):
        add("status", change.at, change)
    for model, kind in (
        (Incident, "incident"),
        (RiskAssessment, "assessment"),
        (Action, "action"),
        (FollowUp, "follow_up"),
        (Note, "note"),
        (Handover, "handover"),
    ):
        related = ["recorded_by"]
        if model is Action:
            related.append("owner")
        if model is Handover:
            related += ["from_owner", "to_owner"]
        rows = list(model.objects.filter(case=case).select_related(*related))
        if model is Action:
            case.__dict__["_haven_actions"] = rows  # the page's action list: read once
        for row in rows:
            add(kind, row.created_at, row)
    entries.extend(extra_timeline(case))
    entries.sort(key=lambda entry: entry["at"], reverse=True)
    return entries


def case_actions(case: Case) -> list[Action]:
    """The case's actions with their owners; the ones ``timeline`` read, if it ran."""
    cached: list[Action] | None = case.__dict__.get("_haven_actions")
    if cached is None:
        cached = list(case.actions.select_related("owner", "recorded_by"))
        case.__dict__["_haven_actions"] = cached
    return cached


def handover_cases(user: User, mission: Mission, officer: User) -> QuerySet[Case]:
    """The open cases ``officer`` owns or seconds, among those ``user`` may see."""
    return _with_keys(
        _open(user, mission).filter(Q(owner=officer) | Q(second_officer=officer))
    ).order_by("number")
