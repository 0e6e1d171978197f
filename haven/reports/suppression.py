"""Small-cell suppression: no figure a viewer sees may single out a few people.

A count from 1 up to the mission's threshold (``Mission.suppress_below``) is never shown; it
reads "fewer than 5". A table with a total also hides the next smallest count when only one is
hidden, or the total would give it away by subtraction. A share is shown only when both sides
of it are large enough, otherwise as a bound ("at least 80 %"); a median or a percentile needs as
many cases as the threshold.

Every number reaches a template through these types, so nothing raw can slip into a page.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Count:
    """A count as a viewer may see it: ``value`` is None when it is hidden."""

    value: int | None
    threshold: int

    @property
    def hidden(self) -> bool:
        return self.value is None

    @property
    def bar(self) -> int:
        """What a chart draws: nothing for a hidden count."""
        return self.value or 0

    def export(self) -> int | str:
        """The count in a CSV cell: the number, or ``<5``."""
        return self.value if self.value is not None else f"<{self.threshold}"

    def __str__(self) -> str:
        if self.value is None:
            return _("fewer than %(threshold)s") % {"threshold": self.threshold}
        return str(self.value)


def count(raw: int, threshold: int) -> Count:
    return Count(None if 0 < raw < threshold else raw, threshold)


@dataclass(frozen=True)
class Group:
    """Counts by category, with their total, suppressed together."""

    cells: dict[Hashable, Count]
    total: Count

    def __getitem__(self, key: Hashable) -> Count:
        return self.cells[key]


def group(raw: Mapping[Any, int], threshold: int) -> Group:
    """Suppress ``raw`` counts by category, then protect the hidden ones from the total."""
    cells: dict[Hashable, Count] = {key: count(value, threshold) for key, value in raw.items()}
    total = count(sum(raw.values()), threshold)
    hidden = [key for key, cell in cells.items() if cell.hidden]
    if len(hidden) == 1 and not total.hidden:
        # Total minus the shown cells would reveal the one hidden count: hide another.
        shown = [(raw[key], str(key), key) for key, cell in cells.items() if cell.value]
        if shown:
            _value, _name, smallest = min(shown)
            cells[smallest] = Count(None, threshold)
    return Group(cells, total)


@dataclass(frozen=True)
class Share:
    """``part`` out of ``whole`` as a viewer may see it."""

    percent: int | None
    bound: str
    threshold: int

    @property
    def hidden(self) -> bool:
        return self.percent is None and not self.bound

    def export(self) -> int | str:
        if self.percent is not None:
            return self.percent
        return self.bound or f"n<{self.threshold}"

    def __str__(self) -> str:
        if self.percent is not None:
            return f"{self.percent}\u00a0%"
        if self.bound:
            return self.bound
        return _("too few to show")


def share(part: int, whole: int, threshold: int) -> Share:
    """A percentage that never lets a viewer work out a count below the threshold.

    When the part or the rest is a small count, the share is given as a bound that the small
    count could not be read from: with 20 cases and a threshold of 5, 19 of 20 reads "at
    least 80 %" (16 to 19 would all read so).
    """
    if whole < threshold:
        return Share(None, "", threshold)
    rest = whole - part
    if 0 < rest < threshold:
        floor = math.floor(100 * (whole - threshold + 1) / whole)
        return Share(None, _("at least %(share)s") % {"share": f"{floor}\u00a0%"}, threshold)
    if 0 < part < threshold:
        ceiling = math.ceil(100 * (threshold - 1) / whole)
        return Share(None, _("at most %(share)s") % {"share": f"{ceiling}\u00a0%"}, threshold)
    return Share(round(100 * part / whole), "", threshold)


@dataclass(frozen=True)
class Duration:
    """A median or percentile in hours, hidden when too few cases stand behind it."""

    hours: float | None
    cases: int
    threshold: int

    @property
    def hidden(self) -> bool:
        return self.hours is None

    def export(self) -> float | str:
        return round(self.hours, 1) if self.hours is not None else f"n<{self.threshold}"

    def __str__(self) -> str:
        if self.hours is None:
            return _("too few to show")
        if self.hours < 48:
            return _("%(hours)s h") % {"hours": round(self.hours, 1)}
        return _("%(days)s days") % {"days": round(self.hours / 24, 1)}


def percentile(
    values: Iterable[float] | Mapping[float, int], fraction: float, threshold: int
) -> Duration:
    """The ``fraction`` percentile (nearest rank) of ``values``, if there are enough.

    ``values`` is the values themselves or how many times each occurs (``{2.5: 3}``), which is
    how the dashboard reads response times from the database.
    """
    counts = values if isinstance(values, Mapping) else Counter(values)
    cases = sum(counts.values())
    if cases < threshold:
        return Duration(None, cases, threshold)
    rank = max(1, math.ceil(fraction * cases))
    ordered = sorted(counts)
    reached = list(accumulate(counts[value] for value in ordered))
    return Duration(ordered[bisect_left(reached, rank)], cases, threshold)
