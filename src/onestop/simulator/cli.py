"""``onestop simulate --design A.yaml [--design B.yaml …] (--claims F --members F | --synthetic N) --out DIR``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from pydantic import ValidationError

from onestop.errors import InvalidRequest
from onestop.products import Design, load_design, load_product
from onestop.simulator._api import simulate as run_simulation
from onestop.simulator._files import read_population
from onestop.simulator._synthetic import SyntheticParams

__all__ = ["simulate"]


class _Bars:
    """A progress bar per stage on standard error: ``funds  [#########-----------]  4,500/10,000``."""

    def __init__(self) -> None:
        self.done: dict[str, int] = {}
        self.err = sys.stderr

    def __call__(self, stage: str, done: int, total: int) -> None:
        n = min(total, self.done.get(stage, 0) + done)
        self.done[stage] = n
        filled = 30 * n // max(total, 1)
        end = "\n" if n >= total else ""
        self.err.write(f"\r{stage:<32} [{'#' * filled}{'-' * (30 - filled)}] {n:,}/{total:,}{end}")
        self.err.flush()

    def close(self) -> None:
        self.err.flush()


def _design(spec: str) -> Design:
    path = Path(spec)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        return load_product(path)
    return load_design(spec)


def _synthetic_params(members: int, seed: int, assumptions: tuple[str, ...]) -> SyntheticParams:
    """The synthetic population's parameters with ``NAME=VALUE`` assumptions, each checked by the model."""
    values: dict[str, object] = {"members": members, "seed": seed}
    for item in assumptions:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name or name in ("members", "seed"):
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE of a synthetic assumption", param_hint="--assume")
        if name not in SyntheticParams.model_fields:
            known = ", ".join(sorted(f for f in SyntheticParams.model_fields if f not in ("members", "seed")))
            raise click.BadParameter(f"no assumption {name!r} (known: {known})", param_hint="--assume")
        text = value.strip()
        # Lists and tables (e.g. cidl_drugs=[1,2,3]) are JSON; a scalar stays text, so a decimal stays exact.
        values[name] = json.loads(text) if text[:1] in "[{" and text else text
    try:
        # JSON mode: decimal text stays exact (never a float) and each value is checked against its bounds.
        return SyntheticParams.model_validate_json(json.dumps(values))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise click.BadParameter(problems, param_hint="--assume") from None


@click.command("simulate")
@click.option("--design", "designs", multiple=True, required=True, help="Design YAML file, or a shipped design code.")
@click.option("--claims", type=click.Path(dir_okay=False, path_type=Path), help="Claims file (.csv/.parquet).")
@click.option("--members", type=click.Path(dir_okay=False, path_type=Path), help="Members file (.csv/.parquet).")
@click.option("--lines", type=click.Path(dir_okay=False, path_type=Path), help="Lines file (default: beside --claims).")
@click.option("--synthetic", type=click.IntRange(min=1), help="Members of a synthetic population.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic population.")
@click.option(
    "--assume",
    "assumptions",
    multiple=True,
    metavar="NAME=VALUE",
    help="A synthetic assumption (repeatable), e.g. car_t_uptake=0.003, cidl_uptake=0.05, cidl_drugs=[1,2,3].",
)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output directory.")
@click.option("--mode", type=click.Choice(["exact", "fast"]), default="fast", show_default=True)
@click.option("--engine", type=click.Choice(["local", "dask", "ray"]), default="local", show_default=True)
@click.option("--scheduler", default=None, help="Dask scheduler address (default: a local cluster).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Local Dask workers.")
def simulate(
    designs: tuple[str, ...],
    claims: Path | None,
    members: Path | None,
    lines: Path | None,
    synthetic: int | None,
    seed: int,
    assumptions: tuple[str, ...],
    out: Path,
    mode: str,
    engine: str,
    scheduler: str | None,
    workers: int,
) -> None:
    """What one or more 惠民保 designs would pay on a population: summary.json and report.html in OUT."""
    bars = _Bars()
    try:
        loaded = [_design(d) for d in designs]
        if synthetic is not None and (claims or members):
            raise click.UsageError("give either --synthetic or --claims/--members, not both")
        if synthetic is None and not (claims and members):
            raise click.UsageError("give --claims and --members, or --synthetic N")
        pop = read_population(claims, members, lines, progress=bars) if claims and members else None
        if assumptions and synthetic is None:
            raise click.UsageError("--assume sets assumptions of a --synthetic population")
        params = _synthetic_params(synthetic, seed, assumptions) if synthetic is not None else None
        run = run_simulation(
            loaded,
            population=pop,
            synthetic=params,
            out=out,
            mode=mode,
            engine=engine,
            progress=bars,
            dask_address=scheduler,
            workers=workers,
        )
    except InvalidRequest as exc:
        bars.close()
        raise click.ClickException(str(exc)) from None
    bars.close()
    for d in run.summary["designs"]:
        click.echo(
            f"{d['code']}: enrolled {d['enrolled_members']}, payout {d['payout_fen']} fen, "
            f"loss ratio {d['loss_ratio'] if d['loss_ratio'] is not None else 'none (no premium)'}, "
            f"break-even premium {d['break_even_premium_fen']} fen"
        )
        if d["enrolled_members"] == 0:
            click.echo(f"  warning: design {d['code']} admits no member of this population (see its eligibility)")
    for p in run.files:
        click.echo(p)
