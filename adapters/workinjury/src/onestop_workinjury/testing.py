"""Point the channel at a fake centre: one shared :class:`onestop.testing.FakeWorkInjuryCentre` per process."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

from pydantic import SecretStr

from onestop.domain.bill import Bill
from onestop.testing import FakeWorkInjuryCentre, Recognition
from onestop_workinjury.channel import WorkInjuryConfig

__all__ = ["config_for", "fresh_config", "shared_centre", "stop_shared_centre", "work_injury_bill"]

_shared: FakeWorkInjuryCentre | None = None
_lock = threading.Lock()


def shared_centre() -> FakeWorkInjuryCentre:
    """One fake centre per process, started on first use; stop it with :func:`stop_shared_centre`."""
    global _shared
    with _lock:
        if _shared is None:
            centre = FakeWorkInjuryCentre()
            centre.start()
            _shared = centre
        return _shared


def stop_shared_centre() -> None:
    """Stop the shared centre if it runs."""
    global _shared
    with _lock:
        if _shared is not None:
            _shared.stop()
            _shared = None


def config_for(centre: FakeWorkInjuryCentre, **over: Any) -> WorkInjuryConfig:
    """A channel config pointing at ``centre`` (read timeout 0.5 s: slow answers are provoked on purpose)."""
    values: dict[str, Any] = {"base_url": centre.url, "api_key": SecretStr(centre.api_key), "timeout_s": 0.5}
    return WorkInjuryConfig(**(values | over))


def fresh_config(bill: Bill, *, status: str = "recognised", **over: Any) -> WorkInjuryConfig:
    """Config for the shared centre after emptying its ledger; enrols the bill's person and its decision."""
    centre = shared_centre()
    centre.reset_ledger()
    centre.enrol(bill.patient)
    wi = bill.work_injury
    if wi is not None:
        centre.recognise(
            Recognition(
                decision_id=wi.decision_id,
                psn_no=bill.patient.psn_no,
                status=status,  # type: ignore[arg-type]
                injury_date=bill.visit.admission_date - dt.timedelta(days=1),
                decision_date=wi.decision_date,
                diagnosis_codes=wi.diagnosis_codes,
                employer=wi.employer,
            )
        )
    return config_for(centre, **over)


def work_injury_bill(*, decision_id: str = "FIXTURE-WI-0001", psn_no: str = "FIXTURE-PSN-0003") -> Bill:
    """A fixture inpatient stay in Changchun (220100): three work-related lines (one out of catalog) and one basic line."""
    doc = {
        "hospital": {"code": "H22010100001", "tier": "市属三级", "region": "220100"},
        "patient": {"psn_no": psn_no, "cert_type": "02", "cert_no": f"CERT-{psn_no}", "name": "测试",
                    "insutype": "310", "psn_type": "11", "age": 46, "sex": "1", "insured_region": "220100"},
        "visit": {"mdtrt_id": "ZY-FIXTURE-WI-1", "med_type": "21", "admission_date": "2026-03-10",
                  "discharge_date": "2026-03-16", "diagnoses": [{"code": "S62.600", "name": "手指骨折"}]},
        "work_injury": {"status": "recognised", "decision_id": decision_id, "decision_date": "2026-03-12",
                        "diagnosis_codes": ["S62.600"], "employer": "fixture employer"},
        "lines": [
            {"feedetl_sn": "1", "national_code": "003310030220000", "name": "阑尾切除术(示例手术项目)",
             "category": "06", "quantity": "1", "unit_price": "900.00", "amount_fen": 90000, "date": "2026-03-11",
             "work_related": True},
            {"feedetl_sn": "2", "name": "进口骨科内固定钢板(目录外)", "category": "08", "quantity": "1",
             "unit_price": "3800.00", "amount_fen": 380000, "date": "2026-03-11", "work_related": True},
            {"feedetl_sn": "3", "national_code": "001109000010000", "name": "普通病房床位费", "category": "01",
             "quantity": "6", "unit_price": "35.00", "amount_fen": 21000, "date": "2026-03-16", "work_related": True},
            {"feedetl_sn": "4", "national_code": "001109000010000", "name": "普通病房床位费", "category": "01",
             "quantity": "1", "unit_price": "35.00", "amount_fen": 3500, "date": "2026-03-16"},
        ],
    }  # fmt: skip
    return Bill.model_validate_json(json.dumps(doc))
