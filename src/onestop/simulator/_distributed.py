"""The same run on Dask: members split into partitions, each partition run where the cluster puts it.

Accumulators never cross members, so a partition of whole members is an independent run; the
partition results are concatenated. Partitioning is by a stable hash of the member id, so the
split (and therefore every figure) does not depend on the cluster.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from onestop.domain.offer import Offer
from onestop.errors import ConfigError
from onestop.products import Design
from onestop.simulator._exact import run_exact
from onestop.simulator._fast import run_fast
from onestop.simulator._result import DesignResult
from onestop.simulator._tables import Population

__all__ = ["merge_results", "partition", "run_on_dask"]


def partition(pop: Population, parts: int) -> list[Population]:
    """Split ``pop`` into ``parts`` populations of whole members (stable CRC-32 of the member id)."""

    def shard(col: str, df: pl.DataFrame) -> pl.Series:
        return df.get_column(col).map_elements(lambda m: zlib.crc32(m.encode()) % parts, return_dtype=pl.Int64)

    members = pop.members.with_columns(shard("member_id", pop.members).alias("_p"))
    claims = pop.claims.with_columns(shard("member_id", pop.claims).alias("_p"))
    cells = pop.cells.join(claims.select("claim_id", "_p"), on="claim_id", how="left")
    out = []
    for p in range(parts):
        out.append(
            Population(
                members.filter(pl.col("_p") == p).drop("_p"),
                claims.filter(pl.col("_p") == p).drop("_p"),
                cells.filter(pl.col("_p") == p).drop("_p"),
            )
        )
    return out


def merge_results(parts: Sequence[DesignResult]) -> DesignResult:
    """Concatenate partition results of one design (rows: partition by partition)."""
    first = parts[0]

    def cat(name: str) -> Any:
        return np.concatenate([getattr(p, name) for p in parts])

    def tup(name: str) -> tuple[str, ...]:
        return tuple(x for p in parts for x in getattr(p, name))

    return DesignResult(
        design=first.design,
        mode=first.mode,
        claim_ids=tup("claim_ids"),
        claim_member=tup("claim_member"),
        member_ids=tup("member_ids"),
        enrolled=cat("enrolled"),
        covered=cat("covered"),
        pre_existing=cat("pre_existing"),
        eligible=cat("eligible"),
        deductible=cat("deductible"),
        paid=cat("paid"),
        waiting=cat("waiting"),
        cell_paid=cat("cell_paid"),
        cell_cidl=cat("cell_cidl"),
        cell_amount=cat("cell_amount"),
    )


def _run_part(pop: Population, design: Design, mode: str, offers: Mapping[str, Offer] | None) -> DesignResult:
    if mode == "exact":
        return run_exact(pop, design, offers=offers)
    return run_fast(pop, design)


def run_on_dask(
    pop: Population,
    designs: Sequence[Design],
    *,
    mode: str,
    offers: Mapping[str, Offer] | None = None,
    address: str | None = None,
    workers: int = 2,
    parts: int | None = None,
    client: Any = None,
    progress: Callable[[int], None] | None = None,
) -> list[DesignResult]:
    """Run every design over ``pop`` on a Dask cluster.

    Args:
        pop: The (sorted) population.
        designs: The designs.
        mode: ``exact`` or ``fast``.
        offers: The engine's offers by claim id (exact mode), shipped with their partition.
        address: A running scheduler (``tcp://host:8786``); None starts a local cluster of ``workers`` processes.
        workers: Local cluster size.
        parts: Partitions (default: 4 per worker).
        client: An existing ``distributed.Client`` to use (tests).
        progress: Called with a design's index once its partitions are gathered.

    Raises:
        ConfigError: Dask is not installed (``pip install 'onestop[distributed]'``).
    """
    try:
        dist: Any = importlib.import_module("distributed")
    except ModuleNotFoundError:
        raise ConfigError("the dask engine needs the distributed extra: pip install 'onestop[distributed]'") from None
    n_parts = parts or max(1, workers * 4)
    shards = partition(pop, n_parts)
    shard_offers: list[dict[str, Offer] | None] = []
    for s in shards:
        ids = s.claims.get_column("claim_id").to_list()
        shard_offers.append({i: offers[i] for i in ids} if offers is not None else None)
    own: list[Any] = []
    if client is None:
        if address:
            client = dist.Client(address)
        else:
            cluster = dist.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = dist.Client(cluster)
            own.append(cluster)
        own.insert(0, client)
    try:
        scattered = client.scatter(shards)
        results: list[DesignResult] = []
        for design in designs:
            futures = [
                client.submit(_run_part, s, design, mode, o, pure=False)
                for s, o in zip(scattered, shard_offers, strict=True)
            ]
            results.append(merge_results(client.gather(futures)))
            if progress is not None:
                progress(len(results) - 1)
        return results
    finally:
        for thing in own:
            thing.close()
