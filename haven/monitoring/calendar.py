"""The personal hearings feed as iCalendar (RFC 5545), written by hand: a few fixed fields.

Titles carry the case number and, only for a defender whose visibility is public, their name;
the court is given only then too. A calendar on a phone is not a safe place for more.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.cases.models import Case
from haven.monitoring.models import CalendarFeed, Hearing, HearingStatus
from haven.registry.models import Visibility

HEARING_LENGTH = datetime.timedelta(hours=2)
WINDOW_BACK = datetime.timedelta(days=30)
WINDOW_AHEAD = datetime.timedelta(days=400)


def feed_hearings(feed: CalendarFeed) -> list[Hearing]:
    """Hearings the feed's owner observes, or of the cases they own or second, that they may
    still see, from a month ago to a year ahead."""
    now = timezone.now()
    visible = Case.objects.for_user(feed.user, mission=feed.mission).values("pk")
    return list(
        Hearing.objects.filter(
            case__in=visible, starts_at__gte=now - WINDOW_BACK, starts_at__lte=now + WINDOW_AHEAD
        )
        .filter(
            Q(observers=feed.user) | Q(case__owner=feed.user) | Q(case__second_officer=feed.user)
        )
        .select_related("case", "case__defender", "case__organisation")
        .prefetch_related(
            "data_key", "case__data_key", "case__defender__data_key", "case__organisation__data_key"
        )
        .distinct()
        .order_by("starts_at", "pk")
    )


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r", "")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> Iterable[str]:
    """Lines of at most 75 octets, continued with a leading space (RFC 5545, 3.1)."""
    encoded = line.encode("utf-8")
    while len(encoded) > 75:
        cut = 75
        while (encoded[cut] & 0xC0) == 0x80:  # never split a UTF-8 character
            cut -= 1
        yield encoded[:cut].decode("utf-8")
        encoded = b" " + encoded[cut:]
    yield encoded.decode("utf-8")


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def hearing_title(hearing: Hearing) -> str:
    """What a calendar shows: the case number, and the name only of a public defender."""
    subject = hearing.case.subject
    if subject is not None and subject.visibility == Visibility.PUBLIC:
        return _("Hearing · %(case)s · %(name)s") % {
            "case": hearing.case.reference,
            "name": subject.name,
        }
    return _("Hearing · %(case)s") % {"case": hearing.case.reference}


def render(hearings: Iterable[Hearing], *, calendar_name: str) -> str:
    now = timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Haven//Hearings//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(calendar_name)}",
    ]
    for hearing in hearings:
        subject = hearing.case.subject
        public = subject is not None and subject.visibility == Visibility.PUBLIC
        status = (
            "CANCELLED"
            if hearing.status in {HearingStatus.CANCELLED, HearingStatus.POSTPONED}
            else "CONFIRMED"
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:hearing-{hearing.uid}@haven",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(hearing.starts_at)}",
            f"DTEND:{_stamp(hearing.starts_at + HEARING_LENGTH)}",
            f"SUMMARY:{_escape(hearing_title(hearing))}",
            f"STATUS:{status}",
            f"DESCRIPTION:{_escape(hearing.get_tribunal_display())}",
        ]
        if public:
            lines.append(f"LOCATION:{_escape(str(hearing.court))}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(f"{folded}\r\n" for line in lines for folded in _fold(line))
