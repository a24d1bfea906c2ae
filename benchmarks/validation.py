"""Validation of ``china-2024``, pattern-oriented (Grimm et al. 2005): what was fitted on data up to the end of 2024,
what the model then predicts for 2025-26, and the mechanism figures an economist checks.

Fit (in sample, data to the end of 2024), against:
  * tokens a day: ~0.1T in January 2024 (National Data Administration); ~8.7T in December 2024 -- ByteDance's Doubao
    served 4T tokens a day in December 2024 (Volcano Engine, Force conference) and Volcano Engine had 46.4% of China's
    public-cloud model calls in 2024 (IDC), so 4 / 0.464;
  * the GPU-hour in 2024: ~12-20 CNY (H800/A800-class server rentals in China; H100-class 2.85 USD/h in US trackers);
  * the 2024 price war: flagship list prices cut 90-97% in May 2024 (Doubao Pro 0.8 CNY/M input; Qwen-Long 20 -> 0.5).
Hold-out (out of sample, 2025-26), against:
  * tokens a day: 30T (June 2025), 100T (December 2025), 140T (March 2026), National Data Administration -- the
    target is within a factor of 1.5;
  * the direction of prices in early 2026: compute up (trackers 1.70 -> 2.35 USD/h, October 2025 -> March 2026) and
    token prices up (cloud providers' price rises of early 2026);
  * the GPU fleet (reported beside the deliveries it implies: no public count exists).

Mechanism figures: who sets the compute price (labs, providers or the AIDCs' asks) by year and the labs' share of
GPU-hours; the price war (provider-days below cost, the biggest 30-day fall and when, price over cost); how often
the market-clearing floor decided a provider's price; AIDC markups (spread across AIDCs, how they move in a glut);
how often the vendors' order book and the grid held investment back; what contracts change; the spread across
seeds; storage's part of a token and the GPU-hours on-site batteries kept running.

    .venv/bin/python benchmarks/validation.py [--seeds 3] [--days 820]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from tokenomy.abm.model import TokenEconomy

FIT_TOKENS_T = {"2024-01": 0.1, "2024-12": 4.0 / 0.464}
HOLDOUT_TOKENS_T = {"2025-06": 30.0, "2025-12": 100.0, "2026-03": 140.0}
HOLDOUT_FACTOR = 1.5


def run(seed: int, days: int, overrides: list[str] | None = None) -> tuple[TokenEconomy, pd.DataFrame, dict]:
    """One run of china-2024, day by day, noting who set the compute price in every AIDC-hour."""
    model = TokenEconomy("china-2024", overrides=overrides or [], seed=seed)
    setters = {}  # year -> counts
    floors = 0
    for _ in range(days):
        model.step()
        year = model.date.year if model.day > 0 else model.start_date.year
        counts = setters.setdefault(year, np.zeros(4))
        counts += _price_setters(model)
        floors += int(model.providers.floor_bound.sum())
    daily = model.daily_table()
    return model, daily, {"setters": setters, "floor_provider_days": floors}


def _price_setters(model: TokenEconomy) -> np.ndarray:
    """(labs, providers, asks, none) AIDC-hours today whose clearing price equals a step of that side."""
    book = model.compute_book
    n_prov = model.providers.n
    out = np.zeros(4)
    for a in range(model.aidcs.n):
        for h in range(24):
            p = book.aidc_price[a, h]
            if not np.isfinite(p):
                out[3] += 1
                continue
            at = np.isclose(book.bid_price, p, rtol=1e-9) & (book.bid_hour == h)
            asks = np.isclose(book.ask_price, p, rtol=1e-9) & (book.ask_aidc == a) & (book.ask_hour == h)
            if (at & (book.bid_buyer >= n_prov)).any():
                out[0] += 1
            elif (at & (book.bid_buyer < n_prov)).any():
                out[1] += 1
            elif asks.any():
                out[2] += 1
            else:
                out[3] += 1
    return out


def month_mean(daily: pd.DataFrame, column: str, month: str) -> float:
    rows = daily[daily.date.dt.strftime("%Y-%m") == month]
    return float(rows[column].mean()) if len(rows) else float("nan")


def window(daily: pd.DataFrame, column: str, a: int, b: int) -> float:
    return float(daily[column].iloc[a:b].mean())


def report_fit(runs: list) -> None:
    print("## Fit: data up to the end of 2024 (in sample)")
    for month, target in FIT_TOKENS_T.items():
        got = [month_mean(d, "tokens_served_mtok", month) / 1e6 for _, d, _ in runs]
        print(
            f"  tokens a day {month}: model {np.mean(got):.3g}T (seeds {', '.join(f'{g:.3g}' for g in got)}), "
            f"data {target:.3g}T, ratio {np.mean(got) / target:.2f}"
        )
    compute = [float(d[d.date.dt.year == 2024].compute_price_cny_per_gpu_hour.mean()) for _, d, _ in runs]
    print(f"  GPU-hour in 2024: model {np.mean(compute):.1f} CNY (data: ~12-20 CNY for H800/A800-class rentals)")
    fall = [
        window(d, "token_price_cny_per_mtok", 335, 366) / window(d, "token_price_cny_per_mtok", 0, 31) - 1
        for _, d, _ in runs
    ]
    print(f"  token price, Dec 2024 vs Jan 2024: model {np.mean(fall):+.0%} (data: flagship list prices -90 to -97%)")


def report_holdout(runs: list) -> None:
    print("## Hold-out: 2025-26 (out of sample)")
    for month, target in HOLDOUT_TOKENS_T.items():
        got = [month_mean(d, "tokens_served_mtok", month) / 1e6 for _, d, _ in runs]
        ratio = np.mean(got) / target
        ok = 1 / HOLDOUT_FACTOR <= ratio <= HOLDOUT_FACTOR
        print(
            f"  tokens a day {month}: model {np.mean(got):.3g}T, data {target:g}T, ratio {ratio:.2f} "
            f"({'within' if ok else 'OUTSIDE'} x{HOLDOUT_FACTOR})"
        )
    compute = [
        window(d, "compute_price_cny_per_gpu_hour", 790, 820) / window(d, "compute_price_cny_per_gpu_hour", 639, 670)
        - 1
        for _, d, _ in runs
    ]
    token = [
        window(d, "token_price_cny_per_mtok", 790, 820) / window(d, "token_price_cny_per_mtok", 700, 731) - 1
        for _, d, _ in runs
    ]
    seeds = ", ".join(f"{c:+.0%}" for c in compute)
    print(f"  compute price Oct 2025 -> Mar 2026: model {np.mean(compute):+.0%} (seeds {seeds}); data up (+38%)")
    seeds = ", ".join(f"{t:+.0%}" for t in token)
    print(f"  token price Dec 2025 -> Mar 2026: model {np.mean(token):+.0%} (seeds {seeds}); data up")
    for month in ("2024-12", "2025-12", "2026-03"):
        fleet = [float(d[d.date.dt.strftime("%Y-%m") == month].gpus_online.iloc[-1]) for _, d, _ in runs]
        print(f"  GPUs online end of {month}: model {np.mean(fleet):,.0f}")


def report_mechanisms(runs: list, twins: dict) -> None:
    print("## Mechanisms")
    years = sorted(runs[0][2]["setters"])
    for y in years:
        total = sum(r[2]["setters"][y] for r in runs)
        share = total / max(total.sum(), 1)
        print(
            f"  {y}: AIDC-hours whose price a lab set {share[0]:.0%}, a provider {share[1]:.0%}, "
            f"an ask {share[2]:.0%}, none (between steps) {share[3]:.0%}"
        )
    for _, d, _ in runs[:1]:
        for month in ("2024-01", "2026-03"):
            rows = d[d.date.dt.strftime("%Y-%m") == month]
            labs = rows.training_gpu_hours.sum() / max(rows.compute_sold_gpu_hours.sum(), 1)
            print(f"  labs' share of GPU-hours sold, {month}: {labs:.0%}")
    below = [int(d.providers_below_cost.iloc[126:400].sum()) for _, d, _ in runs]
    falls = [
        (
            int((d.token_price_cny_per_mtok.shift(-30) / d.token_price_cny_per_mtok - 1).idxmin()),
            float((d.token_price_cny_per_mtok.shift(-30) / d.token_price_cny_per_mtok - 1).min()),
        )
        for _, d, _ in runs
    ]
    print(
        f"  provider-days below cost after DeepSeek-V2 (days 126-399): {below}; static-pricing twin: {twins['below']}"
    )
    print("  biggest 30-day fall of the token price: " + ", ".join(f"day {day} ({fall:+.0%})" for day, fall in falls))
    for _, d, _ in runs[:1]:
        ratio = d.token_price_cny_per_mtok / d.token_unit_cost_cny_per_mtok
        spans = {"Feb-Apr 2024": (30, 120), "Jun-Nov 2024": (150, 330), "2025": (366, 731), "Q1 2026": (731, 820)}
        print("  price / unit cost: " + ", ".join(f"{k} {ratio.iloc[a:b].mean():.2f}" for k, (a, b) in spans.items()))
    provider_days = sum(len(d) for _, d, _ in runs) * runs[0][0].providers.n
    floors = sum(r[2]["floor_provider_days"] for r in runs)
    print(f"  the market-clearing floor decided a provider's price on {floors / provider_days:.1%} of provider-days")
    model = runs[0][0]
    a = model.agents_table()
    markups = a[a.kind == "aidc"].pivot(index="day", columns="name", values="markup")
    print(f"  AIDC markups (seed {runs[0][0].seed_value}): mean {markups.mean().round(2).to_dict()}")
    print(
        f"    spread across AIDCs (std of the 8 on a day, mean over days) {markups.std(axis=1).mean():.2f}; "
        f"max {markups.max().max():.2f}"
    )
    for _, d, _ in runs[:1]:
        wait = d.gpu_order_wait_days
        lead = float(model.aidcs.params["lead_days"].min())
        print(
            f"  vendors' order book: days the quoted wait beat the build time {int((wait > lead).sum())} of {len(d)}; "
            f"longest quoted wait {wait.max():.0f} days"
        )
    print(f"  grid queue at the end (MW waiting for a connection): {model.grid.connection_queue_mw.sum():,.0f}")
    token = np.mean([d.token_price_cny_per_mtok.mean() for _, d, _ in runs])
    compute = np.mean([d.compute_price_cny_per_gpu_hour.mean() for _, d, _ in runs])
    print(
        f"  contracts: mean token price with contract_share as set {token:.3f}, with none "
        f"{twins['no_contracts_token']:.3f}; compute {compute:.2f} vs {twins['no_contracts_compute']:.2f}"
    )
    for column in ("token_price_cny_per_mtok", "compute_price_cny_per_gpu_hour", "tokens_served_mtok"):
        means = np.array([d[column].mean() for _, d, _ in runs])
        print(f"  spread across seeds of the run mean of {column}: {means.std() / means.mean():.1%}")
    storage = [float((d.token_cost_storage_cny_per_mtok / d.token_price_cny_per_mtok).mean()) for _, d, _ in runs]
    print(f"  storage's share of the token price: {np.mean(storage):.2%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--days", type=int, default=820)
    args = parser.parse_args()
    t = time.perf_counter()
    runs = [run(seed, args.days) for seed in range(1, args.seeds + 1)]
    static = [run(seed, args.days, ["providers.*.strategy=best-response"])[1] for seed in range(1, args.seeds + 1)]
    flat = [run(seed, args.days, ["providers.*.contract_share=0"])[1] for seed in range(1, args.seeds + 1)]
    twins = {
        "below": [int(d.providers_below_cost.iloc[126:400].sum()) for d in static],
        "no_contracts_token": float(np.mean([d.token_price_cny_per_mtok.mean() for d in flat])),
        "no_contracts_compute": float(np.mean([d.compute_price_cny_per_gpu_hour.mean() for d in flat])),
    }
    print(f"china-2024 validation: {args.seeds} seeds, {args.days} days")
    report_fit(runs)
    report_holdout(runs)
    report_mechanisms(runs, twins)
    print(f"({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
