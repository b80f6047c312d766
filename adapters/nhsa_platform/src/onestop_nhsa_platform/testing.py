"""Point the channel at a fake platform: one shared :class:`onestop.testing.FakeNhsaCentre` per process."""

from __future__ import annotations

import json
import threading
from typing import Any

from pydantic import SecretStr

from onestop.domain.bill import Bill
from onestop.testing import FakeNhsaCentre
from onestop_nhsa_platform.channel import NhsaPlatformConfig

__all__ = ["config_for", "fresh_config", "inpatient_bill", "outpatient_bill", "shared_centre", "stop_shared_centre"]

_shared: FakeNhsaCentre | None = None
_lock = threading.Lock()


def shared_centre() -> FakeNhsaCentre:
    """One fake platform per process, started on first use; stop it with :func:`stop_shared_centre`."""
    global _shared
    with _lock:
        if _shared is None:
            centre = FakeNhsaCentre()
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


def config_for(centre: FakeNhsaCentre, **over: Any) -> NhsaPlatformConfig:
    """A channel config pointing at ``centre``.

    The read timeout (5 s) is far above what a loaded machine takes to answer; a test that provokes a
    slow answer passes a shorter ``timeout_s`` with a delay above it.
    """
    values: dict[str, Any] = {
        "base_url": centre.url,
        "paas_id": centre.paas_id,
        "secret": SecretStr(centre.secret),
        "fixmedins_code": "H22010100001",
        "fixmedins_name": "fixture hospital",
        "mdtrtarea_admvs": "220100",
        "timeout_s": 5.0,
    }
    return NhsaPlatformConfig(**(values | over))


def fresh_config(*bills: Bill, **over: Any) -> NhsaPlatformConfig:
    """Config for the shared centre after emptying its ledger and registering the bills' institution and person."""
    centre = shared_centre()
    centre.reset_ledger()
    code = ""
    for bill in bills:
        centre.admit(bill.hospital)
        centre.enrol(bill.patient)
        code = bill.hospital.code
    values: dict[str, Any] = {"fixmedins_code": code} if code else {}
    if bills:
        values["mdtrtarea_admvs"] = bills[0].hospital.region
    return config_for(centre, **(values | over))


def outpatient_bill(*, visit_no: str = "MZ-FIXTURE-0001", psn_no: str = "FIXTURE-PSN-0001") -> Bill:
    """A fixture outpatient bill in Changchun (220100): 乙类 drugs, an out-of-catalog drug, a consultation; account used."""
    doc = {
        "hospital": {"code": "H22010100001", "tier": "市属三级", "region": "220100"},
        "patient": {"psn_no": psn_no, "cert_type": "02", "cert_no": f"CERT-{psn_no}", "name": "测试",
                    "insutype": "310", "psn_type": "11", "age": 46, "sex": "1", "insured_region": "220100",
                    "use_account": True, "account_balance_fen": 20000},
        "visit": {"mdtrt_id": visit_no, "med_type": "11", "admission_date": "2026-03-02",
                  "discharge_date": "2026-03-02", "diagnoses": [{"code": "K58.900", "name": "肠易激综合征"}]},
        "lines": [
            {"feedetl_sn": "1", "national_code": "XA03AFX0001000000000000", "name": "匹维溴铵", "category": "09",
             "quantity": "30", "unit_price": "0.65", "amount_fen": 1950, "date": "2026-03-02",
             "dosage_form": "口服常释剂型", "spec": "50mg"},
            {"feedetl_sn": "2", "national_code": "XA03AFX0005000000000000", "name": "西甲硅油", "category": "09",
             "quantity": "1", "unit_price": "38.50", "amount_fen": 3850, "date": "2026-03-02",
             "dosage_form": "口服液体剂", "hosp_appr_flag": "1"},
            {"feedetl_sn": "3", "name": "fixture: 院内自购胶囊", "category": "09", "quantity": "2",
             "unit_price": "68.00", "amount_fen": 13600, "date": "2026-03-02", "hospital_code": "YP-9999"},
            {"feedetl_sn": "4", "name": "专家诊察费", "category": "02", "quantity": "1", "unit_price": "50.00",
             "amount_fen": 5000, "date": "2026-03-02"},
        ],
    }  # fmt: skip
    return Bill.model_validate_json(json.dumps(doc))


def inpatient_bill(*, visit_no: str = "ZY-FIXTURE-0001", psn_no: str = "FIXTURE-PSN-0002") -> Bill:
    """A fixture inpatient stay in Changchun (220100), retired employee: the 统筹 fund pays part."""
    doc = {
        "hospital": {"code": "H22010100001", "tier": "市属三级", "region": "220100"},
        "patient": {"psn_no": psn_no, "cert_type": "02", "cert_no": f"CERT-{psn_no}", "name": "测试",
                    "insutype": "310", "psn_type": "12", "age": 66, "sex": "1", "insured_region": "220100"},
        "visit": {"mdtrt_id": visit_no, "med_type": "21", "admission_date": "2026-03-10",
                  "discharge_date": "2026-03-16", "diagnoses": [{"code": "E11.900", "name": "2型糖尿病"}]},
        "lines": [
            {"feedetl_sn": "1", "national_code": "XA10BJFX900100000000000", "name": "贝那鲁肽注射液",
             "category": "09", "quantity": "2", "unit_price": "150.00", "amount_fen": 30000, "date": "2026-03-11",
             "dosage_form": "注射剂"},
            {"feedetl_sn": "2", "national_code": "XA10BJFX900100000000000", "name": "贝那鲁肽注射液",
             "category": "09", "quantity": "2", "unit_price": "150.00", "amount_fen": 30000, "date": "2026-03-14",
             "dosage_form": "注射剂"},
            {"feedetl_sn": "3", "national_code": "001109000010000", "name": "普通病房床位费", "category": "01",
             "quantity": "6", "unit_price": "35.00", "amount_fen": 21000, "date": "2026-03-16"},
        ],
    }  # fmt: skip
    return Bill.model_validate_json(json.dumps(doc))
