"""Background life events that scores can gate: job searches, university applications,
housing searches, travel, loan applications (M5). Drawn the same way with or without a
scoring system, so a counterfactual run meets the same applicants."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoresim.people import GOOD_JOB, STUDENT, WORKING, People
from scoresim.rng import Streams
from scoresim.scenario import LifeConfig


@dataclass
class LifeEvents:
    job_applicants: np.ndarray  # ids
    hire_u: np.ndarray  # uniform per applicant: hired if below the hire probability
    university_applicants: np.ndarray
    admit_u: np.ndarray
    housing_seekers: np.ndarray
    travellers: np.ndarray
    loan_applicants: np.ndarray


def draw_life_events(people: People, cfg: LifeConfig, streams: Streams, step: int) -> LifeEvents:
    n = people.n

    def who(name: str, rate: float, among: np.ndarray | None) -> np.ndarray:
        if rate == 0.0:
            return np.empty(0, np.int64)
        hit = streams.gen(f"life.{name}", step).random(n) < rate
        return np.flatnonzero(hit if among is None else hit & among)

    job_applicants = who(
        "job_search",
        cfg.job_search_rate_per_day,
        (people.age_band == WORKING) & (people.job != GOOD_JOB),
    )
    uni = who(
        "university",
        cfg.university_application_rate_per_day,
        (people.age_band == STUDENT) & ~people.university,
    )
    return LifeEvents(
        job_applicants=job_applicants,
        hire_u=streams.uniform_for("life.hire", step, job_applicants),
        university_applicants=uni,
        admit_u=streams.uniform_for("life.admit", step, uni),
        housing_seekers=who("housing", cfg.housing_search_rate_per_day, None),
        travellers=who("travel", cfg.travel_rate_per_day, None),
        loan_applicants=who("loan", cfg.loan_application_rate_per_day, None),
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

