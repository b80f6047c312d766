"""The settlements pinned byte for byte by ``test_golden.py`` (and how to regenerate them).

Each case is a bill, the policy it is settled under and its in-process payers. The example bills are
pinned as full JSON; larger seeded synthetic bills (accounts, work injury, a commercial payer, three
regions) are pinned by the SHA-256 of their JSON. Regenerate only when a change of output is intended:
``python tests/engine/golden_cases.py``.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from onestop.catalog import default_catalogs, fixture_samples
from onestop.domain import Bill, parse_bill_json
from onestop.domain.settlement import Settlement
from onestop.engine import check_settlement, settle
from onestop.engine.synthetic import ItemTemplate, synthetic_bill_doc
from onestop.policy import policy_for

ROOT = Path(__file__).resolve().parents[2]
BILLS = ROOT / "examples" / "bills"
GOLDEN = Path(__file__).resolve().parent / "golden"
SYNTHETIC_DIGESTS = GOLDEN / "synthetic.sha256.json"

#: Insured regions each bill is also settled under (its own first).
REGIONS = ("", "330100", "990100")

#: A tier name the other regions' policies define (the examples use Changchun's names).
_OTHER_TIER = "三级"

_HOSPITAL = {"code": "H22010100001", "tier": "市属三级", "region": "220100", "group": "JL-GROUP-FX1"}


def _payers() -> dict[str, Any]:
    from onestop.products import in_process_payer, shipped_designs

    return {"huiminbao": in_process_payer("huiminbao", shipped_designs().values())}


def _settle(bill: Bill, region: str, with_payers: bool) -> Settlement:
    policy = policy_for(region or bill.patient.insured_region, bill.visit.discharge_date)
    result = settle(bill, default_catalogs(), policy, payers=_payers() if with_payers else None)
    check_settlement(result)
    return result


def example_cases() -> Iterator[tuple[str, Callable[[], Settlement]]]:
    """(golden file name, settle) for every example bill × region × with/without payers."""
    for path in sorted(BILLS.glob("*.json")):
        for region in REGIONS:
            for with_payers in (False, True):
                name = f"{path.stem}.{region or 'own'}{'.payers' if with_payers else ''}.json"

                def run(path: Path = path, region: str = region, with_payers: bool = with_payers) -> Settlement:
                    doc = json.loads(path.read_text(encoding="utf-8"))
                    if region:
                        doc["hospital"]["tier"] = _OTHER_TIER
                    return _settle(parse_bill_json(json.dumps(doc).encode()), region, with_payers)

                yield name, run


def _items() -> list[ItemTemplate]:
    items = [
        ItemTemplate(s.national_code, s.name, s.category, 50, 60_000, s.dosage_form, s.spec)
        for s in fixture_samples()
        if s.national_code
    ]
    items.append(ItemTemplate("", "院内自制检查(目录外)", "03", 1_000, 30_000))
    return items


def _patient(insutype: str, use_account: bool) -> dict[str, Any]:
    p: dict[str, Any] = {
        "psn_no": "GOLDEN0001",
        "cert_type": "02",
        "cert_no": "220102198001011234",
        "name": "测试",
        "insutype": insutype,
        "psn_type": "11",
        "age": 50,
        "sex": "1",
        "insured_region": "220100",
    }
    if use_account:
        p["use_account"] = True
        p["account_balance_fen"] = 123_457
    return p


def synthetic_cases() -> Iterator[tuple[str, Callable[[], Settlement]]]:
    """(case name, settle) for seeded large bills that reach every stage of the engine."""
    variants: list[tuple[str, int, dict[str, Any]]] = [
        ("plain", 300, {}),
        ("account", 120, {"patient": _patient("310", True)}),
        ("resident", 80, {"patient": _patient("390", False)}),
        (
            "work_injury",
            150,
            {
                "work_injury": {
                    "status": "recognised",
                    "decision_id": "GOLDEN-WI-1",
                    "decision_date": "2026-03-05",
                    "diagnosis_codes": ["S62.600"],
                    "employer": "某厂",
                },
                "work_share": 0.4,
            },
        ),
        (
            "huiminbao",
            200,
            {
                "patient": _patient("310", True),
                "coverages": [
                    {
                        "payer": "huiminbao",
                        "product": "heilongjiang-upgraded-2025",
                        "policy_no": "HMB-GOLDEN-1",
                        "consent_line_detail": True,
                    }
                ],
            },
        ),
        ("outpatient", 40, {"med_type": "11", "los_days": 0}),
    ]
    for label, n, extra in variants:
        for region in REGIONS:
            name = f"{label}.{region or 'own'}"

            def run(n: int = n, extra: dict[str, Any] = extra, region: str = region, seed: str = name) -> Settlement:
                kwargs: dict[str, Any] = {"patient": _patient("310", False), "los_days": 8, **extra}
                hospital = {**_HOSPITAL, "tier": _OTHER_TIER} if region else _HOSPITAL
                doc = synthetic_bill_doc(random.Random(seed), n, _items(), hospital=hospital, **kwargs)
                bill = Bill.model_validate_json(json.dumps(doc))
                return _settle(bill, region, with_payers=True)

            yield name, run


def digest(settlement: Settlement) -> str:
    """SHA-256 of the settlement's JSON."""
    return hashlib.sha256(settlement.model_dump_json().encode()).hexdigest()


def _regenerate() -> None:
    for name, run in example_cases():
        (GOLDEN / name).write_text(run().model_dump_json(indent=2) + "\n", encoding="utf-8")
    digests = {name: digest(run()) for name, run in synthetic_cases()}
    SYNTHETIC_DIGESTS.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    _regenerate()
