"""Background life events that scores can gate: job searches, university applications,
housing searches, travel, loan applications (M5). Drawn the same way with or without a
scoring system, so a counterfactual run meets the same applicants."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoresim.declarations.categories import GOOD_JOB, STUDENT, WORKING
from scoresim.engine.kernels.life import (  # the compiled kernels
    _below,
)
from scoresim.engine.rng import Streams, chunked_uniforms
from scoresim.engine.threads import map_threads
from scoresim.model.people import People
from scoresim.scenario.schema import LifeConfig


@dataclass
class LifeEvents:
    job_applicants: np.ndarray  # ids
    hire_u: np.ndarray  # uniform per applicant: hired if below the hire probability
    university_applicants: np.ndarray
    admit_u: np.ndarray
    housing_seekers: np.ndarray
    travellers: np.ndarray
    loan_applicants: np.ndarray


def draw_life_events(people: People, cfg: LifeConfig, streams: Streams, step: int,
                     reference: bool = False) -> LifeEvents:
    """M5: who applies for a good job or university, seeks housing, travels or asks for a
    loan today: each at their daily rate, from their uniform of the event's own stream."""
    n = people.n

    def who(name: str, rate: float, among) -> np.ndarray:
        """``among``: None (anyone) or a function giving the mask of who can."""
        if rate == 0.0:
            return np.empty(0, np.int64)
        gen = streams.gen(f"life.{name}", step)
        if reference:  # each person's uniform below the rate, among those who can
            can = np.ones(n, bool) if among is None else among()
            return np.flatnonzero((gen.random(n) < rate) & can)
        among = np.ones(0, bool) if among is None else among()
        return np.concatenate([_below(u, rate, among, lo)
                               for lo, u in chunked_uniforms(gen, n)] or [np.empty(0, np.int64)])

    # Five independent draws, each from its own stream: side by side.
    kinds = [
        ("job_search", cfg.job_search_rate_per_day,
         lambda: (people.age_band == WORKING) & (people.job != GOOD_JOB)),
        ("university", cfg.university_application_rate_per_day,
         lambda: (people.age_band == STUDENT) & ~people.university),
        ("housing", cfg.housing_search_rate_per_day, None),
        ("travel", cfg.travel_rate_per_day, None),
        ("loan", cfg.loan_application_rate_per_day, None),
    ]
    drawn = [k for k in kinds if k[1] != 0.0]  # (a rate of 0: nobody, nothing to draw)
    found = dict(zip([k[0] for k in drawn], map_threads(lambda k: who(*k), drawn, n),
                     strict=True))
    jobs, uni, housing, travel, loan = (found.get(k[0], np.empty(0, np.int64)) for k in kinds)
    return LifeEvents(
        job_applicants=jobs,
        hire_u=streams.uniform_for("life.hire", step, jobs),
        university_applicants=uni,
        admit_u=streams.uniform_for("life.admit", step, uni),
        housing_seekers=housing,
        travellers=travel,
        loan_applicants=loan,
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
    job_blocked: np.ndarray,
    job_factor: np.ndarray,
    uni_blocked: np.ndarray,
) -> dict[str, int]:
    """Hire and admit the applicants that no sanction blocked."""
    ja = life.job_applicants
    p_hire = np.minimum(cfg.hire_probability * job_factor[ja], 1.0)
    hired = ja[(life.hire_u < p_hire) & ~job_blocked[ja]]
    change_job(people, hired, GOOD_JOB, cfg.income_deciles_per_job_change)
    ua = life.university_applicants
    admitted = ua[(life.admit_u < cfg.admission_probability) & ~uni_blocked[ua]]
    people.university[admitted] = True
    return {"good_job_hires": int(hired.size), "university_admissions": int(admitted.size)}


