"""The same run on a Dask cluster (real worker processes) gives the same figures as the local run."""

from __future__ import annotations

import pytest
from simulator.sim_helpers import changchun, funded

from onestop.simulator import design_summary, run_fast, run_on_dask
from onestop.simulator._distributed import partition

distributed = pytest.importorskip("distributed", reason="the distributed extra is not installed")


def test_partitions_hold_whole_members_and_every_row_once():
    """Partitioning by member keeps each member's claims and cells together and loses nothing."""
    pop = funded().population
    parts = partition(pop, 5)
    assert sum(p.claims.height for p in parts) == pop.claims.height
    assert sum(p.cells.height for p in parts) == pop.cells.height
    owners = [set(p.members.get_column("member_id")) for p in parts]
    for p, own in zip(parts, owners, strict=True):
        assert set(p.claims.get_column("member_id")) <= own


def test_dask_run_equals_local_run_in_both_modes():
    """Exact and fast mode on a two-process local Dask cluster equal the local fast run, claim by claim."""
    f = funded()
    designs = [changchun("heilongjiang-upgraded-2025"), changchun("tianjin-2025")]
    local = [run_fast(f.population, d) for d in designs]
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        for mode in ("fast", "exact"):
            remote = run_on_dask(f.population, designs, mode=mode, offers=f.offers, client=client, parts=6)
            for a, b in zip(local, remote, strict=True):
                paid_a = dict(zip(a.claim_ids, a.paid.tolist(), strict=True))
                paid_b = dict(zip(b.claim_ids, b.paid.tolist(), strict=True))
                assert paid_a == paid_b
                sa, sb = design_summary(a), design_summary(b)
                sb["mode"] = sa["mode"]
                assert sa == sb
    finally:
        client.close()
        cluster.close()
