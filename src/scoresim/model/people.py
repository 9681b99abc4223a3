"""People: one array per attribute, one entry per person (MODEL.md: People)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scoresim.declarations.categories import (
    GOOD_JOB,
    NO_JOB,
    ORDINARY_JOB,
    WORKING,
)
from scoresim.engine.rng import INIT_STEP
from scoresim.errors import ScenarioError
from scoresim.model.ages import stage_of, stationary_ages, thresholds
from scoresim.model.component import DRAWN, Array, Component

if TYPE_CHECKING:
    from collections.abc import Callable

    from scoresim.engine.rng import Streams
    from scoresim.scenario.schema import PeopleConfig, Scenario, ThresholdConfig



@dataclass
class People(Component):
    region: np.ndarray  # index into scenario.people.regions (region_dtype: int16 or int32)
    age_band: np.ndarray  # int8: STUDENT, WORKING, RETIRED
    income_decile: np.ndarray  # int8, 0 (poorest) .. 9
    job: np.ndarray  # int8: NO_JOB, ORDINARY_JOB, GOOD_JOB
    private_opinion: np.ndarray  # float32 in [-1, 1]; -1 critic, +1 loyal
    expressed_opinion: np.ndarray  # float32; what they show
    risk_aversion: np.ndarray  # float32 in [0, 1]
    boldness: np.ndarray  # float32 > 0 (beta of the strategic dissent rule)
    commerce_account: np.ndarray  # bool
    social_account: np.ndarray  # bool
    foreigner: np.ndarray  # bool
    bill_reliability: np.ndarray  # float32 in [0, 1]
    university: np.ndarray  # bool: admitted to university
    blacklisted_until: np.ndarray  # int32 step; -1 never listed
    blacklist_wrongful: np.ndarray  # bool: listed through a misattributed record
    threshold: np.ndarray  # float32 in [0, 1]: the threshold rule's share of friends
    fixed_opinion: np.ndarray  # bool: holds and expresses a fixed opinion, whatever it costs
    age_days: np.ndarray  # uint16: age in days (65,535 days: 179 years)
    person_id: np.ndarray  # int64: unique over the run; a reused slot gets a new one

    KEY = "people"
    CACHES = ("_expressed_cache",)

    def declared(self) -> tuple[Array, ...]:
        """Every field, one value per person; a newcomer's are drawn by the demography."""
        return tuple(Array(f.name, newcomer=DRAWN) for f in fields(self))

    def drop_caches(self) -> None:
        self.__dict__.pop("_expressed_cache", None)

    @property
    def n(self) -> int:
        return int(self.region.shape[0])

    @property
    def desired_dissent(self) -> np.ndarray:
        return np.maximum(-self.private_opinion, 0.0)

    @property
    def expressed_dissent(self) -> np.ndarray:
        """max(0, -expressed opinion); read only (see :meth:`_from_expressed`)."""
        return self._from_expressed("dissent", lambda e: np.maximum(-e, 0.0))

    @property
    def loyalty(self) -> np.ndarray:
        """(1 + expressed opinion) / 2; read only (see :meth:`_from_expressed`)."""
        return self._from_expressed("loyalty", lambda e: (1.0 + e) / 2.0)

    def _from_expressed(self, name: str, make) -> np.ndarray:
        """A quantity made from ``expressed_opinion``, made again only when that array is
        replaced (the engine replaces it day by day and never changes it in place; the
        results are read only, so nothing else can either)."""
        cache = self.__dict__.setdefault("_expressed_cache", {})
        source, value = cache.get(name, (None, None))
        if source is not self.expressed_opinion:
            value = make(self.expressed_opinion)
            value.flags.writeable = False
            cache[name] = (self.expressed_opinion, value)
        return value


#: Threshold distributions given person by person (a list or a file of the first
#: population's values): a newcomer takes the value of the slot they fill.
GIVEN_THRESHOLDS = ("list", "file")


def make_thresholds(cfg: ThresholdConfig, n: int, risk_aversion: np.ndarray,
                    gen: Callable[[str], np.random.Generator],
                    base_dir: Path | None = None) -> np.ndarray:
    """The threshold rule's thresholds (float32 in [0, 1]), as ``people.thresholds``
    says: each person's risk aversion, drawn (uniform, normal: stream
    ``people.threshold``), or given (a list or a file, one per person)."""
    kind = cfg.distribution
    if kind == "risk_aversion":
        return risk_aversion
    if kind == "uniform":
        x = cfg.low + (cfg.high - cfg.low) * gen("threshold").random(n)
    elif kind == "normal":
        x = np.clip(cfg.mean + cfg.sd * gen("threshold").standard_normal(n),
                    0.0, 1.0)
    else:
        key = f"people.thresholds.{'values' if kind == 'list' else 'file'}"
        if kind == "list":
            x = np.asarray(cfg.values, np.float64)
        else:
            path = Path(str(cfg.file))
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            try:
                x = np.loadtxt(path, dtype=np.float64, ndmin=1, comments="#")
            except (OSError, ValueError) as exc:
                raise ScenarioError(f"{key}: cannot read thresholds from {path}: {exc}"
                                    ) from None
            if ((x < 0) | (x > 1) | ~np.isfinite(x)).any():
                raise ScenarioError(f"{key}: thresholds must lie in [0, 1] ({path}).")
        if x.shape[0] != n:
            raise ScenarioError(f"{key}: {x.shape[0]} thresholds for {n} people (one per "
                                "person is needed).")
    return x.astype(np.float32)


def truncated_exponential_scale(mean: float) -> float:
    """The scale ``y`` of the exponential distribution that, cut to [0, 1], has mean
    ``mean`` (in (0, 0.5)): the root of ``y - 1 / (exp(1 / y) - 1) = mean``, by bisection
    (the mean rises with ``y`` from 0 toward 0.5)."""
    if not 0.0 < mean < 0.5:
        raise ValueError(f"a truncated exponential on [0, 1] has a mean in (0, 0.5), not "
                         f"{mean:g}")

    def mean_of(y: float) -> float:
        return y - 1.0 / np.expm1(1.0 / y)

    lo, hi = mean / 2.0, mean
    while mean_of(hi) < mean:
        lo, hi = hi, 2.0 * hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mean_of(mid) < mean:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            break
    return 0.5 * (lo + hi)


def truncated_exponential(u: np.ndarray, mean: float) -> np.ndarray:
    """Draws on [0, 1] of an exponential distribution truncated to [0, 1] with mean
    ``mean``, from uniforms ``u`` by the inverse of its distribution function (the same
    distribution as the rejection sampling of Daymude et al.'s ``texponential``)."""
    y = truncated_exponential_scale(mean)
    return -y * np.log1p(-np.asarray(u, np.float64) * -np.expm1(-1.0 / y))


def draw_jobs(income: np.ndarray, u: np.ndarray, cfg: PeopleConfig) -> np.ndarray:
    """The job of working people from their income decile and a uniform each: good with
    chance ``good_job_base_share + good_job_share_per_decile * decile``, none for the top
    ``no_job_share`` of uniforms, else ordinary (at the start, and at a first job)."""
    p_good = np.minimum(cfg.good_job_base_share + cfg.good_job_share_per_decile * income, 1.0)
    job = np.where(u < p_good, GOOD_JOB, ORDINARY_JOB)
    return np.where(u > 1.0 - cfg.no_job_share, NO_JOB, job).astype(np.int8)


def region_dtype(regions: int) -> type[np.signedinteger]:
    """The codes of ``regions`` regions: int16 up to 32,767 regions, int32 beyond."""
    return np.int16 if regions <= np.iinfo(np.int16).max else np.int32


def make_people(scenario: Scenario, streams: Streams, n: int | None = None, *,
                prefix: str = "people", step: int = INIT_STEP,
                base_dir: Path | None = None) -> People:
    """Draw a synthetic population; each attribute from its own named stream
    (``prefix.attribute`` at ``step``: newcomers, :mod:`scoresim.model.demography`, draw
    from the same distributions on streams of their own)."""
    cfg = scenario.people
    n = cfg.count if n is None else n

    def gen(name: str) -> np.random.Generator:
        return streams.gen(f"{prefix}.{name}", step)

    shares = np.array(list(cfg.regions.values()), dtype=float)
    region = gen("region").choice(len(shares), size=n, p=shares / shares.sum())
    demo = scenario.demography
    if demo.enabled:  # ages from the steady state; stages follow from them
        age_days = stationary_ages(gen("age").random(n), demo)
        age_band = stage_of(age_days, demo)
    else:  # stages from the shares; ages within the stage from the steady state
        ages = np.array([cfg.age_shares.student, cfg.age_shares.working,
                         cfg.age_shares.retired])
        age_band = gen("age_band").choice(3, size=n, p=ages / ages.sum())
        age_days = stationary_ages(gen("age").random(n), demo, age_band)
    income = gen("income").integers(0, 10, size=n)

    job = draw_jobs(income, gen("job").random(n), cfg)
    job = np.where(age_band == WORKING, job, NO_JOB)

    if cfg.desired_dissent_mean is None:
        opinion = 2.0 * gen("opinion").beta(cfg.opinion_beta_a, cfg.opinion_beta_b, n)
        opinion = (opinion - 1.0).astype(np.float32)
    else:  # (Daymude et al. 2025: desired dissent d, a truncated exponential; opinion -d)
        d = truncated_exponential(gen("desired_dissent").random(n), cfg.desired_dissent_mean)
        opinion = (-d).astype(np.float32)
    risk = gen("risk_aversion").beta(2.0, 2.0, n).astype(np.float32)
    if cfg.boldness_distribution == "exponential":
        boldness = gen("boldness").exponential(cfg.boldness_mean, n).astype(np.float32)
    else:  # Boldness falls with risk aversion; its mean over the population is boldness_mean.
        boldness = (cfg.boldness_mean * 2.0 * (1.0 - risk) + 1e-3).astype(np.float32)

    fixed = np.zeros(n, bool)
    if cfg.fixed_opinion_share > 0:
        fixed = gen("fixed_opinion").random(n) < cfg.fixed_opinion_share
        opinion = np.where(fixed, np.float32(cfg.fixed_opinion), opinion).astype(np.float32)
    expressed = opinion.copy()
    if cfg.initial_expressed_opinion is not None:
        expressed = np.where(fixed, opinion, np.float32(cfg.initial_expressed_opinion)
                             ).astype(np.float32)

    # Those past their first application day were admitted as a cohort would be.
    life = scenario.life
    admitted = (0.0 if life.university_application_day is None
                else life.university_application_share * life.admission_probability)
    past = age_days >= thresholds(demo)[0] + 365
    university = past & (gen("university").random(n) < admitted)

    if prefix == "people" or cfg.thresholds.distribution not in GIVEN_THRESHOLDS:
        threshold = make_thresholds(cfg.thresholds, n, risk, gen, base_dir)
    else:  # (newcomers keep the given threshold of their slot: Demography.replace)
        threshold = np.full(n, np.nan, np.float32)

    return People(
        region=region.astype(region_dtype(len(shares))),
        age_band=age_band.astype(np.int8),
        income_decile=income.astype(np.int8),
        job=job.astype(np.int8),
        private_opinion=opinion,
        expressed_opinion=expressed,
        risk_aversion=risk,
        boldness=boldness,
        commerce_account=gen("commerce_account").random(n) < cfg.commerce_account_share,
        social_account=gen("social_account").random(n) < cfg.social_account_share,
        foreigner=gen("foreigner").random(n) < cfg.foreigner_share,
        bill_reliability=gen("bill_reliability")
        .beta(cfg.bill_reliability_beta_a, cfg.bill_reliability_beta_b, n)
        .astype(np.float32),
        university=university,
        blacklisted_until=np.full(n, -1, dtype=np.int32),
        blacklist_wrongful=np.zeros(n, dtype=bool),
        threshold=threshold,
        fixed_opinion=fixed,
        age_days=age_days,
        person_id=np.arange(n, dtype=np.int64),
    )
