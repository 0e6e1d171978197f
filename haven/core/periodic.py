"""Jobs that run on a schedule (purges, reminders, digests). Apps register them; the core only
runs them, so it imports no higher app.

``manage.py periodic`` (started by ``serve`` beside the task worker) runs every registered job
whose interval has passed, then sleeps a minute. A job must be safe to run twice: the runner
does not coordinate between several hosts.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: datetime.timedelta
    run: Callable[[], str]  # returns a one-line summary, counts only, for the log


_JOBS: dict[str, PeriodicJob] = {}


def register_job(job: PeriodicJob) -> None:
    _JOBS[job.name] = job


def jobs() -> list[PeriodicJob]:
    return sorted(_JOBS.values(), key=lambda job: job.name)


def run_due(last_runs: dict[str, datetime.datetime], now: datetime.datetime) -> list[str]:
    """Run every job whose interval has passed since ``last_runs[name]``; update it in place.

    A failing job is logged (without its data) and tried again at the next pass.
    """
    done = []
    for job in jobs():
        previous = last_runs.get(job.name)
        if previous is not None and now - previous < job.every:
            continue
        try:
            summary = job.run()
        except Exception:
            logger.exception("periodic job %s failed", job.name)
            continue
        last_runs[job.name] = now
        done.append(f"{job.name}: {summary}")
    return done
