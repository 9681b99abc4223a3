"""Background life events that scores can gate: job searches, university applications,
housing searches, travel, loan applications (M5); and the labour market's own turnover
(good jobs that end without any sanction). Drawn the same way with or without a scoring
system, so a counterfactual run meets the same applicants.

University applications come in cohorts: on the yearly application day (the gaokao) the
year's school leavers apply (those who entered the society in the last year and are not
yet admitted, :mod:`scoresim.model.demography`); a daily rate may add applications on
other days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scoresim.declarations.categories import GOOD_JOB, ORDINARY_JOB, STUDENT, WORKING
from scoresim.engine.kernels.life import (  # the compiled kernels
    _below,
)
from scoresim.engine.rng import Streams, chunked_uniforms
from scoresim.engine.threads import map_threads
from scoresim.model.people import People
from scoresim.scenario.schema import LifeConfig

if TYPE_CHECKING:
    from scoresim.model.sanctions import SanctionStep

DAYS_PER_YEAR = 365.25


@dataclass
class LifeEvents:
    job_applicants: np.ndarray  # ids
    hire_u: np.ndarray  # uniform per applicant: hired if below the hire probability
    university_applicants: np.ndarray
    admit_u: np.ndarray
    housing_seekers: np.ndarray
    travellers: np.ndarray
    loan_applicants: np.ndarray
    separations: np.ndarray  # ids of good-job holders whose job ends today (no sanction)


def application_day(cfg: LifeConfig, date: dt.date | None) -> bool:
    """Is ``date`` the yearly university application day?"""
    return (date is not None and cfg.university_application_day is not None
            and date.strftime("%m-%d") == cfg.university_application_day)


def school_leavers(people: People, entry_days: int) -> np.ndarray:
    """Ids of this year's school leavers not yet admitted: students who entered the
    society (at ``entry_days`` of age) less than a year ago."""
    year = int(round(DAYS_PER_YEAR))
    return np.flatnonzero((people.age_band == STUDENT) & ~people.university
                          & (people.age_days < entry_days + year))


def drawn_below_plain(gen, n: int, rate: float, among) -> np.ndarray:
    """Who draws a uniform below ``rate`` (each person's from ``gen``), among those who
    can (``among``: None, anyone; or a function giving the mask)."""
    can = np.ones(n, bool) if among is None else among()
    return np.flatnonzero((gen.random(n) < rate) & can)


def drawn_below(gen, n: int, rate: float, among) -> np.ndarray:
    """:func:`drawn_below_plain` by the compiled kernel, the uniforms drawn in chunks."""
    among = np.ones(0, bool) if among is None else among()
    return np.concatenate([_below(u, rate, among, lo)
                           for lo, u in chunked_uniforms(gen, n)] or [np.empty(0, np.int64)])


def draw_life_events(people: People, cfg: LifeConfig, streams: Streams, step: int,
                     below, date: dt.date | None = None,
                     entry_days: int = 0) -> LifeEvents:
    """M5: who applies for a good job or university, seeks housing, travels or asks for a
    loan today: each at their daily rate, from their uniform of the event's own stream
    (``below``: :func:`drawn_below` or :func:`drawn_below_plain`, the engine's); whose good
    job ends today; on the application day (``date``), which school leavers
    (``entry_days``: the entry age in days) apply to university."""
    n = people.n

    def who(name: str, rate: float, among) -> np.ndarray:
        """``among``: None (anyone) or a function giving the mask of who can."""
        if rate == 0.0:
            return np.empty(0, np.int64)
        return below(streams.gen(f"life.{name}", step), n, rate, among)

    # Five independent draws, each from its own stream: side by side.
    kinds = [
        ("job_search", cfg.job_search_rate_per_day,
         lambda: (people.age_band == WORKING) & (people.job != GOOD_JOB)),
        ("university", cfg.university_application_rate_per_day,
         lambda: (people.age_band == STUDENT) & ~people.university),
        ("housing", cfg.housing_search_rate_per_day, None),
        ("travel", cfg.travel_rate_per_day, None),
        ("loan", cfg.loan_application_rate_per_day, None),
        ("job_separation", cfg.good_job_separation_rate_per_day,
         lambda: (people.age_band == WORKING) & (people.job == GOOD_JOB)),
    ]
    drawn = [k for k in kinds if k[1] != 0.0]  # (a rate of 0: nobody, nothing to draw)
    found = dict(zip([k[0] for k in drawn], map_threads(lambda k: who(*k), drawn, n),
                     strict=True))
    jobs, uni, housing, travel, loan, separations = (
        found.get(k[0], np.empty(0, np.int64)) for k in kinds)
    if application_day(cfg, date):  # the year's cohort (one draw per leaver, by id)
        leavers = school_leavers(people, entry_days)
        if cfg.university_application_share < 1.0:
            u = streams.uniform_for("life.cohort_application", step, people.person_id[leavers])
            leavers = leavers[u < cfg.university_application_share]
        uni = np.union1d(uni, leavers).astype(np.int64)
    return LifeEvents(
        job_applicants=jobs,
        hire_u=streams.uniform_for("life.hire", step, jobs),
        university_applicants=uni,
        admit_u=streams.uniform_for("life.admit", step, uni),
        housing_seekers=housing,
        travellers=travel,
        loan_applicants=loan,
        separations=separations,
    )


def change_job(people: People, who: np.ndarray, job: int, deciles: int) -> None:
    """Move people to a job; income follows (a lost good job lowers it, a new one raises)."""
    if who.size == 0:
        return
    old = people.job[who]
    people.job[who] = job
    sign = np.sign(job - old.astype(np.int16))
    new_income = people.income_decile[who].astype(np.int16) + sign * deciles
    people.income_decile[who] = np.clip(new_income, 0, 9).astype(np.int8)


def settle_applications(
    people: People,
    life: LifeEvents,
    cfg: LifeConfig,
    sanctions: SanctionStep,
) -> dict[str, int]:
    """End the good jobs that end today; hire and admit the applicants that no sanction
    blocked (``sanctions``: what they did today: who is blocked, the hiring factors)."""
    job_blocked, job_factor = sanctions.job_blocked, sanctions.job_factor
    uni_blocked = sanctions.uni_blocked
    separated = life.separations[people.job[life.separations] == GOOD_JOB]
    change_job(people, separated, ORDINARY_JOB, cfg.income_deciles_per_job_change)
    ja = life.job_applicants
    p_hire = np.minimum(cfg.hire_probability * job_factor[ja], 1.0)
    hired = ja[(life.hire_u < p_hire) & ~job_blocked[ja]]
    change_job(people, hired, GOOD_JOB, cfg.income_deciles_per_job_change)
    ua = life.university_applicants
    admitted = ua[(life.admit_u < cfg.admission_probability) & ~uni_blocked[ua]]
    people.university[admitted] = True
    return {"good_job_hires": int(hired.size), "university_admissions": int(admitted.size),
            "good_job_separations": int(separated.size)}


