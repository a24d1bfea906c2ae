"""The fan of seeds behind the price chart: the settings on screen run for other seeds, on the server.

A session's :class:`SeedFan` keeps one model per fan seed (the seed on screen + 1 to + N, N at most
:data:`MAX_FAN_SEEDS`) built exactly as the run on screen was (scenario, lesson overrides, levers), and
advances them day by day as the run on screen goes on, firing every shock the student fired on the same day,
so a step costs the fan N more days, not a rerun from day 0.  A request names the settings, the day on screen
(never past the scenario's horizon) and the shocks fired before it; the answer for a request is kept, so a
redraw at the same day (another view, another panel) costs nothing, and the days a finished fan already holds
are reused after a Reset with the same settings.  One request works at a time; an older one gives way between
two days to a newer one, which goes on from there.  Nothing here runs while the fan is off.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from tokenomy.abm.shocks import apply_shock

DEFAULT_FAN_SEEDS = 8
MAX_FAN_SEEDS = 16
FAN_SEED_CHOICES = (4, 8, 12, 16)
PRICE_COLUMNS = ("token_price_cny_per_mtok", "compute_price_cny_per_gpu_hour")


@dataclass(frozen=True)
class FanSettings:
    """Everything a fan model is built from: the run on screen's settings and how many seeds."""

    scenario_name: str
    seed: int  # the seed on screen; the fan runs the next ``n_seeds``
    levers: tuple[tuple[str, float], ...]
    overrides: tuple[str, ...]
    n_seeds: int
    horizon_days: int

    @property
    def seeds(self) -> list[int]:
        return [self.seed + i for i in range(1, self.n_seeds + 1)]


@dataclass(frozen=True)
class FanRequest:
    settings: FanSettings
    days: int  # days the fan should cover: the day on screen, at most the horizon
    shocks: tuple[tuple[int, str], ...]  # (day, name) of the shocks acting within those days, in firing order


@dataclass(frozen=True)
class Fan:
    """Daily token and compute prices of every fan seed, (seeds, days) each."""

    request: FanRequest
    token_cny_per_mtok: np.ndarray
    compute_cny_per_gpu_hour: np.ndarray

    @property
    def days(self) -> int:
        return self.token_cny_per_mtok.shape[1]


def fan_request(model, n_seeds: int, day: int | None = None) -> FanRequest:
    """What a fan of ``n_seeds`` (1 to :data:`MAX_FAN_SEEDS`) seeds for the run on screen (a ``ChainModel``) needs
    up to ``day`` (default: the model's day)."""
    horizon = int(model.data["scenario"]["days"])
    settings = FanSettings(
        scenario_name=model.scenario_name,
        seed=int(model.seed_value),
        levers=tuple(sorted(model.levers.items())),
        overrides=tuple(model.extra_overrides),
        n_seeds=max(1, min(int(n_seeds), MAX_FAN_SEEDS)),
        horizon_days=horizon,
    )
    days = min(int(model.day if day is None else day), horizon)
    fired = getattr(model, "shocks_fired", None) or []
    return FanRequest(settings, days, tuple((int(day), name) for day, name, _ in fired if day < days))


def _build(settings: FanSettings, seed: int):
    from tokenomy.viz.model import ChainModel

    return ChainModel(settings.scenario_name, seed=seed, overrides=settings.overrides, **dict(settings.levers))


def _prices(model, days: int) -> tuple[np.ndarray, np.ndarray]:
    """A model's first ``days`` daily token and compute prices, read from the recorder without building a table."""
    token, compute = (model.recorder.daily.column(c)[:days, 0].copy() for c in PRICE_COLUMNS)
    return token, compute


class SeedFan:
    """One session's fan models and its last fan (see the module's docstring)."""

    def __init__(self) -> None:
        self._work = threading.Lock()
        self._wanted: FanRequest | None = None
        self._settings: FanSettings | None = None
        self._models: list = []
        self._applied: tuple[tuple[int, str], ...] = ()  # shocks fired in the fan models so far
        self._last: Fan | None = None

    @property
    def models_held(self) -> int:
        return len(self._models)

    def compute(self, request: FanRequest) -> Fan | None:
        """The fan for ``request``, or None when a newer request took over before it was ready."""
        self._wanted = request
        with self._work:
            if self._wanted != request:
                return None
            cached = self._cached(request)
            if cached is not None:
                return cached
            if not self._can_go_on(request):
                self._start(request.settings)
            try:
                if not self._advance(request):
                    return None
            except Exception:
                self._start(None)  # models part way through a day: never reused
                raise
            fan = self._collect(request)
            self._last = fan
            if request.days >= request.settings.horizon_days:
                self._models = []  # the horizon is reached: the prices are kept, the models freed
            return fan

    def clear(self) -> None:
        """Free the fan models and the last fan (the fan was switched off)."""
        self._wanted = None
        with self._work:
            self._start(None)
            self._last = None

    # ------------------------------------------------------------------------------------------------
    def _cached(self, request: FanRequest) -> Fan | None:
        """The last fan cut to ``request.days``, when it was run with the same settings and shocks up to then."""
        last = self._last
        if last is None or last.request.settings != request.settings or last.days < request.days:
            return None
        if tuple(s for s in last.request.shocks if s[0] < request.days) != request.shocks:
            return None
        days = request.days
        return Fan(request, last.token_cny_per_mtok[:, :days], last.compute_cny_per_gpu_hour[:, :days])

    def _can_go_on(self, request: FanRequest) -> bool:
        if not self._models or self._settings != request.settings:
            return False
        day = self._models[0].day
        return day <= request.days and tuple(s for s in request.shocks if s[0] < day) == self._applied

    def _start(self, settings: FanSettings | None) -> None:
        self._settings = settings
        self._applied = ()
        self._models = [] if settings is None else [_build(settings, seed) for seed in settings.seeds]

    def _advance(self, request: FanRequest) -> bool:
        """Step every fan model to ``request.days``, day by day, firing the shocks on their days; False when a newer
        request took over (the models are then at a whole day, for it to go on from)."""
        for day in range(self._models[0].day, request.days):
            if self._wanted != request:
                return False
            today = [s for s in request.shocks if s[0] == day]
            for model in self._models:
                for _, name in today:
                    apply_shock(model, name)
                model.step()
            self._applied += tuple(today)
        return True

    def _collect(self, request: FanRequest) -> Fan:
        prices = [_prices(model, request.days) for model in self._models]
        token = np.vstack([t for t, _ in prices]) if prices else np.zeros((0, request.days))
        compute = np.vstack([c for _, c in prices]) if prices else np.zeros((0, request.days))
        return Fan(request, token, compute)
