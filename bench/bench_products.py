"""惠民保 adjudication cost: adjudications per second, as a ratio to settling the same bill in the engine.

Same run, same bill (the CAR-T example, and a synthetic 200-line inpatient bill with a 惠民保
coverage): baseline = the engine's ``settle`` with no commercial payer; measured = one
``adjudicate`` of that bill's offer under the Heilongjiang upgraded design, and one settle through
the ``huiminbao`` adapter (in-memory state store, a fresh reference each time).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from onestop.catalog import default_catalogs, fixture_samples
from onestop.domain import Bill, parse_bill_json
from onestop.engine import settle, settle_funds
from onestop.engine.synthetic import ItemTemplate, synthetic_bill_doc
from onestop.policy import policy_for
from onestop.products import MemberFacts, adjudicate, load_design

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = "heilongjiang-upgraded-2025"
COVERAGE = {"payer": "huiminbao", "product": PRODUCT, "policy_no": "BENCH-1", "consent_line_detail": True}
HOSPITAL = {"code": "H22010100001", "tier": "市属三级", "region": "220100", "group": "JL-GROUP-FX1"}
PATIENT = {
    "psn_no": "BENCH0001",
    "cert_type": "02",
    "cert_no": "220102198001011234",
    "name": "测试",
    "insutype": "310",
    "psn_type": "11",
    "age": 50,
    "sex": "1",
    "insured_region": "220100",
}


def _best(fn: Any, reps: int) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def _synthetic(n: int) -> Bill:
    items = [
        ItemTemplate(s.national_code, s.name, s.category, 50, 60_000, s.dosage_form, s.spec)
        for s in fixture_samples()
        if s.national_code
    ]
    items.append(ItemTemplate("", "院内自制检查(目录外)", "03", 1_000, 3_000_000))
    doc = synthetic_bill_doc(random.Random(n), n, items, hospital=HOSPITAL, patient=PATIENT, los_days=8)
    doc["visit"]["med_type"] = "21"
    doc["coverages"] = [COVERAGE]
    return Bill.model_validate_json(json.dumps(doc))


def _adapter_settle_s(offer: Any, reps: int) -> float:
    from onestop_huiminbao import HuiminbaoAdapter, HuiminbaoConfig

    from onestop.sdk import SettleInput
    from onestop.testing import InMemoryStateStore

    counter = itertools.count()

    async def main() -> float:
        a = HuiminbaoAdapter(HuiminbaoConfig(register_required=False), state=InMemoryStateStore())
        inputs = [
            SettleInput(offer=offer.model_copy(update={"reference": f"b{next(counter)}", "member_ref": f"m{i}"}))
            for i in range(reps * 3)
        ]
        best = float("inf")
        for k in range(3):
            t0 = time.perf_counter()
            for inp in inputs[k * reps : (k + 1) * reps]:
                await a.settle(inp)
            best = min(best, (time.perf_counter() - t0) / reps)
        return best

    return asyncio.run(main())


def run(profile: str = "full") -> dict[str, object]:
    catalogs = default_catalogs()
    design = load_design(PRODUCT)
    member = MemberFacts(enrolled_on=design.policy_period.start)
    reps = 200 if profile == "full" else 20
    bills = {
        "car_t_example": parse_bill_json((ROOT / "examples" / "bills" / "inpatient_car_t_huiminbao.json").read_bytes()),
        "synthetic_200_lines": _synthetic(200),
    }
    out: dict[str, object] = {}
    for name, bill in bills.items():
        policy = policy_for(bill.patient.insured_region, bill.visit.discharge_date)
        offer = settle_funds(bill, catalogs, policy).offer_for(0)
        n = max(2, reps // max(1, len(bill.lines) // 10))
        t_eng = _best(lambda bill=bill, policy=policy: settle(bill, catalogs, policy), n)
        t_adj = _best(lambda offer=offer: adjudicate(design, offer, member, {}), n * 5)
        t_ada = _adapter_settle_s(offer, n * 5)
        out[f"{name}_lines"] = len(bill.lines)
        out[f"{name}_engine_settle_us"] = round(t_eng * 1e6, 1)
        out[f"{name}_adjudications_per_s"] = round(1 / t_adj)
        out[f"{name}_adjudicate_to_engine_ratio"] = round(t_adj / t_eng, 3)
        out[f"{name}_adapter_settle_to_engine_ratio"] = round(t_ada / t_eng, 3)
    return out


if __name__ == "__main__":
    json.dump(run(sys.argv[1] if len(sys.argv) > 1 else "full"), sys.stdout, indent=2)
    print()
