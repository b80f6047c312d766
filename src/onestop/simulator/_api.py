"""The library call behind ``onestop simulate``: designs × population → summary JSON + HTML report."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onestop.domain.offer import Offer
from onestop.errors import ConfigError, FieldViolation, InvalidRequest
from onestop.products import Design
from onestop.simulator._exact import run_exact
from onestop.simulator._fast import run_fast
from onestop.simulator._funds import run_funds
from onestop.simulator._html import render_html
from onestop.simulator._result import DesignResult
from onestop.simulator._summary import design_summary
from onestop.simulator._synthetic import SyntheticParams, synthesize
from onestop.simulator._tables import Population

__all__ = ["MODES", "SimulationRun", "simulate", "without_pre_existing_ratio"]

MODES = ("exact", "fast")
ENGINES = ("local", "dask", "ray")
#: ``progress(stage, done, total)``: ``done`` units of ``total`` finished in ``stage`` (called with increments).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class SimulationRun:
    """What :func:`simulate` produced.

    Attributes:
        summary: The JSON summary (amounts in fen).
        results: One per design, in the order given.
        files: ``summary.json`` and ``report.html`` when an output directory was given.
    """

    summary: dict[str, Any]
    results: tuple[DesignResult, ...]
    files: tuple[Path, ...] = ()


def without_pre_existing_ratio(design: Design) -> Design:
    """The same design with every ``pre_existing_ratio`` removed (pre-existing claims paid at ``ratio``)."""
    lias = tuple(lia.model_copy(update={"pre_existing_ratio": None}) for lia in design.liabilities)
    return design.model_copy(update={"liabilities": lias})


def _run_all(
    pop: Population,
    designs: Sequence[Design],
    mode: str,
    engine: str,
    offers: dict[str, Offer] | None,
    progress: Progress | None,
    dask_address: str | None,
    workers: int,
    labels: Sequence[str] | None = None,
) -> list[DesignResult]:
    """Every design over ``pop`` (one Dask cluster for all of them with ``engine="dask"``)."""
    names = [f"{d.code}{lab}" for d, lab in zip(designs, labels or [""] * len(designs), strict=True)]
    if engine == "dask":
        from onestop.simulator._distributed import run_on_dask

        return run_on_dask(
            pop,
            designs,
            mode=mode,
            offers=offers,
            address=dask_address,
            workers=workers,
            progress=(lambda i: progress(f"dask {names[i]}", pop.n_claims, pop.n_claims)) if progress else None,
        )
    out = []
    for d, name in zip(designs, names, strict=True):
        if mode == "exact":
            tick = (lambda n, name=name: progress(f"exact {name}", n, pop.n_claims)) if progress else None
            out.append(run_exact(pop, d, offers=offers, progress=tick))
        else:
            out.append(run_fast(pop, d))
            if progress is not None:
                progress(f"fast {name}", pop.n_claims, pop.n_claims)
    return out


def simulate(
    designs: Sequence[Design],
    *,
    population: Population | None = None,
    synthetic: SyntheticParams | None = None,
    out: Path | None = None,
    mode: str = "fast",
    engine: str = "local",
    pre_existing_effect: bool = True,
    progress: Progress | None = None,
    dask_address: str | None = None,
    workers: int = 2,
) -> SimulationRun:
    """Run ``designs`` over a population and summarise (optionally writing ``summary.json`` and ``report.html``).

    Args:
        designs: Product designs (distinct codes), compared side by side in this order.
        population: A population read from files (its funds already settled), or None with ``synthetic``.
        synthetic: Parameters of a synthetic population; its bills go through the engine's fund stages here.
        out: Directory for ``summary.json`` and ``report.html`` (written whole, or not at all).
        mode: ``exact`` (each claim through ``adjudicate``) or ``fast`` (vectorised; same figures).
        engine: ``local`` or ``dask`` (``ray`` is refused with the reason).
        pre_existing_effect: Also run each design without its pre-existing ratios, to state their effect.
        progress: Progress callback for long runs.
        dask_address: Scheduler address for ``engine="dask"`` (None: a local cluster).
        workers: Local Dask cluster size.

    Raises:
        InvalidRequest: No design, two designs with one code, an unknown mode or engine, or not exactly
            one population source.
    """
    problems = []
    if not designs:
        problems.append(FieldViolation("design", "give at least one design"))
    codes = [d.code for d in designs]
    for c in sorted({c for c in codes if codes.count(c) > 1}):
        problems.append(FieldViolation("design", f"{c!r} is given twice"))
    if mode not in MODES:
        problems.append(FieldViolation("mode", f"must be one of {', '.join(MODES)}, got {mode!r}"))
    if engine not in ENGINES:
        problems.append(FieldViolation("engine", f"must be one of {', '.join(ENGINES)}, got {engine!r}"))
    if (population is None) == (synthetic is None):
        problems.append(FieldViolation("population", "give either claims and members files or a synthetic size"))
    if problems:
        raise InvalidRequest("cannot simulate", violations=tuple(problems))
    if engine == "ray":
        raise ConfigError(
            "the ray engine is not provided",
            violations=(FieldViolation("engine", "onestop runs on Dask (smaller install); use --engine dask"),),
        )
    offers: dict[str, Offer] | None = None
    assumptions: dict[str, Any] = {}
    if synthetic is not None:
        syn = synthesize(synthetic)
        tick = (lambda n: progress("funds", n, len(syn.bills))) if progress else None
        funded = run_funds(syn, progress=tick)
        population, offers = funded.population, funded.offers
        assumptions = synthetic.model_dump(mode="json")
        source = f"synthetic (seed {synthetic.seed})"
    else:
        source = "files"
    assert population is not None
    # The designs and their variants without pre-existing ratios run in one pass (one Dask cluster).
    todo = (
        [i for i, d in enumerate(designs) if any(x.pre_existing_ratio is not None for x in d.liabilities)]
        if pre_existing_effect
        else []
    )
    variants = [without_pre_existing_ratio(designs[i]) for i in todo]
    labels = [""] * len(designs) + [" (no pre-existing ratio)"] * len(variants)
    ran = _run_all(population, [*designs, *variants], mode, engine, offers, progress, dask_address, workers, labels)
    results = ran[: len(designs)]
    alts: list[DesignResult | None] = [None] * len(designs)
    for i, r in zip(todo, ran[len(designs) :], strict=True):
        alts[i] = r
    summary: dict[str, Any] = {
        "mode": mode,
        "engine": engine,
        "amounts": "integer fen",
        "population": {
            "source": source,
            "members": int(population.members.height),
            "claims": population.n_claims,
            "offered_fen": int(population.cells.get_column("amount_fen").sum() or 0),
        },
        "assumptions": assumptions,
        "designs": [design_summary(r, without_pre_existing_ratio=a) for r, a in zip(results, alts, strict=True)],
    }
    summary["comparison"] = _comparison(summary["designs"])
    files: tuple[Path, ...] = ()
    if out is not None:
        files = _write(out, summary)
    return SimulationRun(summary, tuple(results), files)


def _comparison(designs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("premium_fen", "payout_fen", "loss_ratio", "break_even_premium_fen", "claims_paid", "enrolled_members")
    table: dict[str, Any] = {k: {d["code"]: d[k] for d in designs} for k in keys}
    table["car_t_paid_fen"] = {d["code"]: d["car_t"]["paid_fen"] for d in designs}
    if designs:
        base = designs[0]
        table["payout_vs_first_fen"] = {d["code"]: d["payout_fen"] - base["payout_fen"] for d in designs}
    return table


def _write(out: Path, summary: dict[str, Any]) -> tuple[Path, ...]:
    out.mkdir(parents=True, exist_ok=True)
    targets = {
        out / "summary.json": json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
        out / "report.html": render_html(summary),
    }
    tmp = {p: p.with_name(f".{p.name}.{os.getpid()}.tmp") for p in targets}
    try:
        for p, text in targets.items():
            tmp[p].write_text(text, encoding="utf-8")
        for p in targets:
            tmp[p].replace(p)
    finally:
        for t in tmp.values():
            t.unlink(missing_ok=True)
    return tuple(targets)
