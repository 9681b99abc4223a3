"""Ages and the stages of life: the age thresholds of a scenario's demography, the stage
(student, working, retired) by age, and the steady-state ages the first population is
drawn from (:func:`stationary_ages`). Read by :mod:`scoresim.model.people` (the first
population) and :mod:`scoresim.model.demography` (ageing, leavers and newcomers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scoresim.declarations.categories import RETIRED, STUDENT, WORKING

if TYPE_CHECKING:
    from scoresim.scenario.schema import DemographyConfig

DAYS_PER_YEAR = 365.25


def days(years: float) -> int:
    """Whole days in ``years`` years."""
    return int(round(years * DAYS_PER_YEAR))


def thresholds(cfg: DemographyConfig) -> tuple[int, int, int, int]:
    """Entry, end of study, retirement and the maximum age, in days."""
    entry = days(cfg.entry_age_years)
    return (entry, entry + days(cfg.study_years), days(cfg.retirement_age_years),
            days(cfg.max_age_years))


def stage_of(age_days: np.ndarray, cfg: DemographyConfig) -> np.ndarray:
    """Student, working or retired (int8) by age."""
    _, study_end, retire, _ = thresholds(cfg)
    return np.where(age_days < study_end, STUDENT,
                    np.where(age_days < retire, WORKING, RETIRED)).astype(np.int8)


def _cdf_parts(cfg: DemographyConfig) -> tuple[float, float, float, float, float, float]:
    """Of the steady-state age density (proportional to the chance of surviving from
    entry: a constant hazard ``a`` before retirement, ``b`` after, nobody past the
    maximum age): (entry, retirement, max in years, a, b, mass before retirement, mass
    after) in years."""
    e, r, m = cfg.entry_age_years, cfg.retirement_age_years, cfg.max_age_years
    a, b = cfg.death_rate_per_year_working, cfg.death_rate_per_year_retired
    mass_a = -np.expm1(-a * (r - e)) / a if a > 0 else float(r - e)
    surv_r = float(np.exp(-a * (r - e)))
    mass_b = surv_r * (-np.expm1(-b * (m - r)) / b if b > 0 else float(m - r))
    return e, r, a, b, mass_a, mass_b


def _age_cdf(years: np.ndarray, cfg: DemographyConfig) -> np.ndarray:
    """The steady state's share of people younger than ``years``."""
    e, r, a, b, mass_a, mass_b = _cdf_parts(cfg)
    y = np.clip(np.asarray(years, float), e, cfg.max_age_years)
    before = np.minimum(y, r) - e
    part_a = -np.expm1(-a * before) / a if a > 0 else before
    after = np.maximum(y - r, 0.0)
    surv_r = np.exp(-a * (r - e))
    part_b = surv_r * (-np.expm1(-b * after) / b if b > 0 else after)
    return (part_a + part_b) / (mass_a + mass_b)


def stationary_ages(u: np.ndarray, cfg: DemographyConfig,
                    band: np.ndarray | None = None) -> np.ndarray:
    """Ages in days (uint16) from uniforms ``u``: the steady state of entries at the
    entry age and exits at the stage hazards (inverse of :func:`_age_cdf`); with ``band``,
    within each person's stage."""
    e, r, a, b, mass_a, mass_b = _cdf_parts(cfg)
    u = np.asarray(u, float)
    if band is not None:  # the uniforms mapped into the stage's part of the distribution
        entry, study_end, retire, top = (x / DAYS_PER_YEAR for x in thresholds(cfg))
        edges = _age_cdf(np.array([entry, study_end, retire, top]), cfg)
        lo, hi = edges[band], edges[np.asarray(band) + 1]
        u = lo + u * (hi - lo)
    v = u * (mass_a + mass_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        young = e + (-np.log1p(-a * v) / a if a > 0 else v)
        w = np.maximum(v - mass_a, 0.0) / np.exp(-a * (r - e))
        old = r + (-np.log1p(-b * w) / b if b > 0 else w)
    years = np.where(v < mass_a, young, old)
    top = days(cfg.max_age_years) - 1
    out = np.clip(np.floor(np.nan_to_num(years, nan=cfg.max_age_years) * DAYS_PER_YEAR),
                  days(e), top)
    return out.astype(np.uint16)
