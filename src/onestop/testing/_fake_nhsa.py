"""A fake NHSA 医疗保障信息平台 centre on 127.0.0.1 that settles with the onestop engine.

It speaks the platform's JSON envelope (``infno``, ``msgid``, ``mdtrtarea_admvs``, ``insuplc_admdvs``,
``sign_no``, ``input`` → ``infcode``, ``inf_refmsgid``, ``err_msg``, ``output``) on one service path,
amounts as yuan text with two decimals. Transactions: 9001 sign-in, 1101 person info, 2201/2401
register, 2203 visit info, 2402 discharge, 2204/2301 fee-detail upload (returns the per-line split),
2206/2303 pre-settle, 2207/2304 settle, 2208/2305 cancel, 2601 reversal by original msgid, 5203
settlement query, 5206 accumulators, 3201 totals reconciliation.

The centre rebuilds the bill from what it was sent plus its own registries (persons with their
备案 and account balance, institutions with their tier) and settles it with
:func:`onestop.engine.settle_funds` + :func:`onestop.engine.finalize` — so the split it returns is
the engine's. It keeps its own ledger: every msgid (a repeated msgid is refused), settlements by
``setl_id`` and by the msgid that booked them, year-to-date accumulators per person, account
balances. A 2601 that arrives before its original marks the original's msgid so the original is
refused when it lands.

What is modelled rather than specified (no public text fixes it): the request signature (HMAC-SHA256
in ``x-tif-*`` headers), the ``exp_content`` fields that carry what the engine needs beyond the
published inputs (item name, charge category, procedures…), the ``rvs_result`` of a 2601 answer,
the ``exp_content`` of ``setlinfo`` (benefit kind and year), the centre's own totals in the 3201
answer, and accumulator type codes (the engine's names).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from onestop.catalog import default_catalogs
from onestop.catalog.resolution import CatalogView
from onestop.domain.bill import Bill, Hospital, Patient
from onestop.domain.settlement import BasicLeg, Settlement
from onestop.engine import finalize, settle_funds
from onestop.errors import OnestopError
from onestop.money import Fen, MoneyError, format_yuan, parse_yuan
from onestop.policy import policy_for, treatment_policy_for
from onestop.testing._fake_http import CentreFault, FakeJsonServer

__all__ = ["NHSA_SERVICE_PATH", "FakeNhsaCentre", "NhsaFault", "nhsa_signature"]

#: The single service path every transaction is POSTed to.
NHSA_SERVICE_PATH = "/fsi/api/rsfComIfsService/callService"
#: Seconds a request timestamp may differ from the centre's clock.
SIGNATURE_WINDOW_S = 300

NhsaFault = CentreFault
"""Faults are queued per transaction number, e.g. ``centre.fault("2207", NhsaFault(drop=True, after=True))``."""

_MONEY_FIELDS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "hosp_part_amt",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "balc",
    "acct_mulaid_pay",
)
_SETTLE = frozenset({"2207", "2304"})
# The platform also reverses 2102/2103/2208/2305/2401; this fake reverses settlements only.
_REVERSIBLE = frozenset({"2207", "2304"})


def nhsa_signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The modelled request signature: hex HMAC-SHA256 over timestamp, nonce and body joined by newlines."""
    msg = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


class _Refused(Exception):
    """A business refusal: answered with infcode -1 and this message."""


@dataclass
class _Visit:
    mdtrt_id: str
    psn_no: str
    insutype: str
    ipt_otp_no: str
    med_type: str
    begn: dt.date
    inpatient: bool
    end: dt.date | None = None
    diagnoses: list[dict[str, str]] = field(default_factory=list)
    ext: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Setl:
    setl_id: str
    mdtrt_id: str
    psn_no: str
    insutype: str
    msgid: str
    infno: str
    day: dt.date
    output: dict[str, Any]
    deltas: dict[str, int]
    acct_pay: int
    medfee: int
    fund: int
    standing: bool = True
    undone_by: str = ""
    """``2208``/``2305`` (cancel) or ``2601`` (reversal)."""


@dataclass
class _Ledger:
    msgids: set[str] = field(default_factory=set)
    messages: list[tuple[str, str]] = field(default_factory=list)
    """(infno, msgid) of every message accepted past the envelope checks, in order."""
    sign_nos: set[str] = field(default_factory=set)
    nonces: set[str] = field(default_factory=set)
    visits: dict[str, _Visit] = field(default_factory=dict)
    settlements: dict[str, _Setl] = field(default_factory=dict)
    by_msgid: dict[str, str] = field(default_factory=dict)
    """msgid of a booking 2207/2304 → setl_id."""
    tombstones: set[str] = field(default_factory=set)
    """msgids reversed before they arrived: refused when they land."""
    accumulators: dict[str, dict[str, int]] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)
    seq: int = 0


class FakeNhsaCentre(FakeJsonServer):
    """The fake platform: start it, :meth:`admit` institutions and :meth:`enrol` persons, point a channel at it.

    Args:
        paas_id: The only ``x-tif-paasid`` accepted.
        secret: Shared signing secret.
        catalogs: Catalogs of the treatment region (default: the packaged ones).
        policy: ``policy(insured_region, date)`` → the regional policy (default: :func:`onestop.policy.policy_for`).
    """

    thread_name = "fake-nhsa"

    def __init__(
        self,
        *,
        paas_id: str = "fixture-paas",
        secret: str = "fixture-nhsa-secret",  # noqa: S107 - a test centre's fixture secret, not a credential
        catalogs: CatalogView | None = None,
        policy: Callable[[str, dt.date], Any] = policy_for,
    ) -> None:
        """Configure; :meth:`start` (or a ``with`` block) serves."""
        super().__init__()
        self.paas_id = paas_id
        self.secret = secret
        self.catalogs: CatalogView = catalogs if catalogs is not None else default_catalogs()
        self.policy = policy
        self.persons: dict[str, Patient] = {}
        self.institutions: dict[str, Hospital] = {}
        self.ledger = _Ledger()
        self.hifp_shortfall_fen = 0

    # -- registries and inspection -----------------------------------------------------------------

    def admit(self, hospital: Hospital) -> None:
        """Register a 定点医疗机构 (its tier and region are the centre's, not the request's)."""
        with self.lock:
            self.institutions[hospital.code] = hospital

    def enrol(self, patient: Patient) -> None:
        """Register an insured person (insutype, psn_type, 备案, account balance as of now)."""
        with self.lock:
            self.persons[patient.psn_no] = patient
            self.ledger.balances.setdefault(patient.psn_no, int(patient.account_balance_fen))

    def reset_ledger(self) -> None:
        """Forget every message, visit, settlement and accumulator (registries stay); balances restart."""
        with self.lock:
            self.ledger = _Ledger()
            for p in self.persons.values():
                self.ledger.balances[p.psn_no] = int(p.account_balance_fen)
            self.clear_faults()
            self.hifp_shortfall_fen = 0

    def pay_less(self, fen: int) -> None:
        """From now on settle ``fen`` less 统筹 (hifp_pay) than the engine computes; the patient's cash pays it.

        Models a centre whose figure differs from the gateway's preview (a local rule the engine does
        not know). :meth:`reset_ledger` returns to the engine's figures.
        """
        if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
            raise ValueError(f"a shortfall is a non-negative integer of fen, got {fen!r}")
        with self.lock:
            self.hifp_shortfall_fen = fen

    def count(self, infno: str) -> int:
        """How many messages with ``infno`` the centre accepted."""
        with self.lock:
            return sum(1 for i, _m in self.ledger.messages if i == infno)

    def standing(self) -> list[str]:
        """setl_ids of settlements that stand (neither cancelled nor reversed)."""
        with self.lock:
            return [s.setl_id for s in self.ledger.settlements.values() if s.standing]

    def accumulators(self, psn_no: str) -> dict[str, int]:
        """Year-to-date accumulators of a person (a copy)."""
        with self.lock:
            return dict(self.ledger.accumulators.get(psn_no, {}))

    def balance(self, psn_no: str) -> int:
        """Personal-account balance of a person, fen."""
        with self.lock:
            return self.ledger.balances.get(psn_no, 0)

    # -- envelope ----------------------------------------------------------------------------------

    def fault_key(self, path: str, body: Mapping[str, Any]) -> str:
        """Faults are keyed by transaction number."""
        return str(body.get("infno", ""))

    def _answer(self, output: Mapping[str, Any] | None, err: str = "") -> tuple[int, dict[str, Any]]:
        self.ledger.seq += 1
        now = dt.datetime.now()
        return 200, {
            "infcode": "-1" if err else "0",
            "inf_refmsgid": f"CENTRE{now:%Y%m%d%H%M%S}{self.ledger.seq:06d}",
            "refmsg_time": f"{now:%Y%m%d%H%M%S}",
            "respond_time": f"{now:%Y%m%d%H%M%S}",
            "err_msg": err,
            "output": dict(output or {}),
        }

    def _check_signature(self, headers: Mapping[str, str], raw: bytes) -> str:
        h = {k.lower(): v for k, v in headers.items()}
        if h.get("x-tif-paasid") != self.paas_id:
            return "paasid 不存在"
        ts, nonce, sig = h.get("x-tif-timestamp", ""), h.get("x-tif-nonce", ""), h.get("x-tif-signature", "")
        if not ts.isdigit() or abs(time.time() - int(ts)) > SIGNATURE_WINDOW_S:
            return "时间戳超出有效期"
        if not hmac.compare_digest(sig, nhsa_signature(self.secret, ts, nonce, raw)):
            return "签名校验失败"
        if not nonce or nonce in self.ledger.nonces:
            return "随机数已使用"
        self.ledger.nonces.add(nonce)
        return ""

    def handle(self, path: str, headers: Mapping[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        """Check the gateway signature and the envelope, then run the transaction."""
        if path != NHSA_SERVICE_PATH:
            return 404, {"error": "unknown path"}
        bad_sig = self._check_signature(headers, raw)
        if bad_sig:
            return 401, {"infcode": "-1", "err_msg": bad_sig}
        msg = json.loads(raw)
        infno, msgid = str(msg.get("infno", "")), str(msg.get("msgid", ""))
        missing = [
            k for k in ("infno", "msgid", "fixmedins_code", "inf_time", "infver", "opter", "input") if not msg.get(k)
        ]
        if missing:
            return self._answer(None, f"报文头缺少字段: {', '.join(missing)}")
        if len(msgid) > 30:
            return self._answer(None, "msgid 超长 (C30)")
        if msgid in self.ledger.msgids:
            return self._answer(None, f"报文ID重复: {msgid}")
        self.ledger.msgids.add(msgid)
        if msg["fixmedins_code"] not in self.institutions:
            return self._answer(None, f"定点医药机构不存在: {msg['fixmedins_code']}")
        if infno != "9001" and msg.get("sign_no") not in self.ledger.sign_nos:
            return self._answer(None, "未签到或签到编号无效")
        self.ledger.messages.append((infno, msgid))
        handler = self._handlers().get(infno)
        if handler is None:
            return self._answer(None, f"交易编号不支持: {infno}")
        if msgid in self.ledger.tombstones:
            return self._answer(None, f"原交易已冲正: {msgid}")
        try:
            return self._answer(handler(msg, msg["input"]))
        except _Refused as exc:
            return self._answer(None, str(exc))
        except (KeyError, TypeError, ValueError, MoneyError, ValidationError, OnestopError) as exc:
            return self._answer(None, f"入参错误: {type(exc).__name__}: {exc}")

    def _handlers(self) -> dict[str, Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]]:
        return {
            "9001": self._sign_in,
            "1101": self._person,
            "2201": self._register,
            "2401": self._admit,
            "2203": self._visit_info,
            "2402": self._discharge,
            "2204": self._upload,
            "2301": self._upload,
            "2206": self._settle,
            "2207": self._settle,
            "2303": self._settle,
            "2304": self._settle,
            "2208": self._cancel,
            "2305": self._cancel,
            "2601": self._reverse,
            "5203": self._query,
            "5206": self._cum,
            "3201": self._reconcile,
        }

    # -- helpers -----------------------------------------------------------------------------------

    def _next(self, prefix: str) -> str:
        self.ledger.seq += 1
        return f"{prefix}{self.ledger.seq:010d}"

    def _person_of(self, psn_no: str, msg: Mapping[str, Any]) -> Patient:
        p = self.persons.get(psn_no)
        if p is None:
            raise _Refused(f"人员信息不存在: {psn_no}")
        if msg.get("insuplc_admdvs") and msg["insuplc_admdvs"] != p.insured_region:
            raise _Refused(f"参保地医保区划不符: {msg['insuplc_admdvs']}")
        return p

    def _visit(self, mdtrt_id: str, psn_no: str) -> _Visit:
        v = self.ledger.visits.get(mdtrt_id)
        if v is None or v.psn_no != psn_no:
            raise _Refused(f"就诊信息不存在: {mdtrt_id}")
        return v

    def _standing_of(self, v: _Visit) -> _Setl | None:
        for s in self.ledger.settlements.values():
            if s.mdtrt_id == v.mdtrt_id and s.standing:
                return s
        return None

    @staticmethod
    def _date(text: str) -> dt.date:
        return dt.date.fromisoformat(str(text)[:10])

    def _bill(self, msg: Mapping[str, Any], v: _Visit, *, use_account: bool, provisional: bool = False) -> Bill:
        """The bill as the centre knows it: its registries plus what the institution uploaded."""
        p = self._person_of(v.psn_no, msg)
        hosp = self.institutions[msg["fixmedins_code"]]
        if not v.lines:
            raise _Refused("无费用明细")
        end = v.end or (v.begn if not v.inpatient else max(self._date(ln["fee_ocur_time"]) for ln in v.lines.values()))
        if v.end is None and v.inpatient and not provisional:
            raise _Refused("未办理出院 (2402)")
        patient = p.model_dump(mode="json") | {
            "insutype": v.insutype,
            "account_balance_fen": self.ledger.balances.get(p.psn_no, 0),
            "use_account": use_account,
            "cert_no": p.cert_no,
            "name": p.name,
        }
        visit: dict[str, Any] = {
            "mdtrt_id": v.mdtrt_id,
            "med_type": v.med_type,
            "admission_date": v.begn.isoformat(),
            "discharge_date": end.isoformat(),
            "diagnoses": [{"code": d["diag_code"], "name": d.get("diag_name", "")} for d in v.diagnoses],
        }
        ext = v.ext
        for ours, theirs in (
            ("procedures", "oprn_codes"),
            ("vent_hours", "vent_used_dura"),
            ("newborn_weight_g", "nwb_bir_wt"),
            ("age_days", "age_days"),
            ("dept", "dept_code"),
            ("prescribing_context", "prescribing_context"),
            ("discharge_way", "dscg_way"),
        ):
            if ext.get(theirs) not in (None, "", []):
                visit[ours] = ext[theirs]
        lines = []
        for sn, ln in sorted(v.lines.items()):
            extra = json.loads(ln.get("exp_content") or "{}")
            lines.append(
                {
                    "feedetl_sn": sn,
                    "national_code": ln.get("med_list_codg", ""),
                    "hospital_code": ln.get("medins_list_codg", ""),
                    "name": extra["item_name"],
                    "dosage_form": extra.get("dosage_form", ""),
                    "spec": extra.get("spec", ""),
                    "category": extra["med_chrgitm_type"],
                    "quantity": ln["cnt"],
                    "unit_price": ln["pric"],
                    "amount_fen": int(parse_yuan(ln["det_item_fee_sumamt"])),
                    "hosp_appr_flag": ln.get("hosp_appr_flag", "0"),
                    "e_prescription_id": extra.get("e_prescription_id", ""),
                    "date": self._date(ln["fee_ocur_time"]).isoformat(),
                }
            )
        doc = {"hospital": hosp.model_dump(mode="json"), "patient": patient, "visit": visit, "lines": lines}
        return Bill.model_validate_json(json.dumps(doc))

    def _run_engine(self, bill: Bill) -> Settlement:
        on = bill.visit.discharge_date  # as the gateway looks policies up
        pol = self.policy(bill.patient.insured_region, on)
        away = treatment_policy_for(bill.hospital.region, bill.patient.insured_region, on, self.policy)
        acc = self.ledger.accumulators.get(bill.patient.psn_no, {})
        return finalize(settle_funds(bill, self.catalogs, pol, acc, treatment_policy=away))

    # -- transactions ------------------------------------------------------------------------------

    def _sign_in(self, _msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        if not inp.get("signIn", {}).get("opter_no"):
            raise _Refused("signIn.opter_no 为空")
        sign_no = self._next("SIGN")
        self.ledger.sign_nos.add(sign_no)
        return {"signinoutb": {"sign_time": f"{dt.datetime.now():%Y-%m-%d %H:%M:%S}", "sign_no": sign_no}}

    def _person(self, msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        data = inp["data"]
        cert = data.get("mdtrt_cert_no") or data.get("certno")
        found = [p for p in self.persons.values() if p.cert_no == cert]
        if not found:
            raise _Refused("未查询到人员信息")
        p = found[0]
        return {
            "baseinfo": {
                "psn_no": p.psn_no,
                "psn_cert_type": "01",
                "certno": p.cert_no,
                "psn_name": p.name,
                "gend": p.sex.value,
                "age": str(p.age),
            },
            "insuinfo": [
                {
                    "insutype": p.insutype.value,
                    "psn_type": p.psn_type,
                    "balc": format_yuan(self.ledger.balances.get(p.psn_no, 0)),
                    "cvlserv_flag": "1" if p.civil_servant else "0",
                    "insuplc_admdvs": p.insured_region,
                    "psn_insu_stas": "1",
                }
            ],
            "idetinfo": [],
        }

    def _open(self, msg: dict[str, Any], data: dict[str, Any], *, inpatient: bool, ipt_no: str) -> dict[str, Any]:
        psn_no = data["psn_no"]
        self._person_of(psn_no, msg)
        for v in self.ledger.visits.values():
            # One hospital visit number is one visit: registered again it is the same visit, and once
            # settled it cannot be registered (and so settled) a second time.
            if v.ipt_otp_no == ipt_no and v.psn_no == psn_no:
                if self._standing_of(v) is not None:
                    raise _Refused(f"门诊/住院号 {ipt_no} 已结算")
                return {"mdtrt_id": v.mdtrt_id, "psn_no": psn_no, "ipt_otp_no": ipt_no}
        v = _Visit(
            mdtrt_id=self._next("MDTRT"),
            psn_no=psn_no,
            insutype=data["insutype"],
            ipt_otp_no=ipt_no,
            med_type=data.get("med_type", "21" if inpatient else "11"),
            begn=self._date(data["begntime"]),
            inpatient=inpatient,
        )
        self.ledger.visits[v.mdtrt_id] = v
        return {"mdtrt_id": v.mdtrt_id, "psn_no": psn_no, "ipt_otp_no": ipt_no}

    def _register(self, msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        return {"data": self._open(msg, inp["data"], inpatient=False, ipt_no=inp["data"]["ipt_otp_no"])}

    def _admit(self, msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        info = inp["mdtrtinfo"]
        out = self._open(msg, info, inpatient=True, ipt_no=info["ipt_no"])
        v = self.ledger.visits[out["mdtrt_id"]]
        v.med_type = info["med_type"]
        v.diagnoses = list(inp.get("diseinfo", []))
        v.ext.update(json.loads(info.get("exp_content") or "{}"))
        return {"result": out}

    def _visit_info(self, msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        info = inp["mdtrtinfo"]
        v = self._visit(info["mdtrt_id"], info["psn_no"])
        v.med_type = info["med_type"]
        v.begn = self._date(info["begntime"])
        v.diagnoses = list(inp.get("diseinfo", []))
        v.ext.update(json.loads(info.get("exp_content") or "{}"))
        return {}

    def _discharge(self, msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        info = inp["dscginfo"]
        v = self._visit(info["mdtrt_id"], info["psn_no"])
        if self._standing_of(v) is not None:
            raise _Refused("已结算, 不能重复办理出院")
        v.end = self._date(info["endtime"])
        v.ext["dscg_way"] = info.get("dscg_way", "1")
        if inp.get("diseinfo"):
            v.diagnoses = list(inp["diseinfo"])
        return {}

    def _upload(self, msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        rows = inp["feedetail"]
        if not rows:
            raise _Refused("feedetail 为空")
        v = self._visit(rows[0]["mdtrt_id"], rows[0]["psn_no"])
        if self._standing_of(v) is not None:
            raise _Refused("该就诊已结算, 不能上传明细")
        if (msg["infno"] == "2301") != v.inpatient:
            raise _Refused("门诊/住院明细上传交易与就诊类型不符")
        before = dict(v.lines)
        for row in rows:
            if row["mdtrt_id"] != v.mdtrt_id:
                raise _Refused("一次上传只能属于一个就诊")
            v.lines[row["feedetl_sn"]] = dict(row)
        try:
            setl = self._run_engine(self._bill(msg, v, use_account=False, provisional=True))
        except Exception:
            v.lines = before  # a refused upload leaves nothing half-written
            raise
        sent = {row["feedetl_sn"] for row in rows}
        result = []
        for ln in setl.lines:
            if ln.feedetl_sn not in sent:
                continue
            raw = v.lines[ln.feedetl_sn]
            result.append(
                {
                    "feedetl_sn": ln.feedetl_sn,
                    "det_item_fee_sumamt": format_yuan(ln.amount_fen),
                    "cnt": raw["cnt"],
                    "pric": raw["pric"],
                    "pric_uplmt_amt": "" if ln.pric_uplmt_amt_fen is None else format_yuan(ln.pric_uplmt_amt_fen),
                    "selfpay_prop": format(ln.selfpay_prop, "f"),
                    "fulamt_ownpay_amt": format_yuan(ln.fulamt_ownpay_amt),
                    "overlmt_amt": format_yuan(ln.overlmt_amt),
                    "preselfpay_amt": format_yuan(ln.preselfpay_amt),
                    "inscp_scp_amt": format_yuan(ln.inscp_scp_amt),
                    "chrgitm_lv": ln.chrgitm_lv.value,
                    "med_chrgitm_type": ln.charge_category.value,
                    "lmt_used_flag": "0",
                    "memo": "",
                }
            )
        return {"result": result}

    def _setlinfo(self, msg: dict[str, Any], v: _Visit, leg: BasicLeg, setl_id: str) -> dict[str, Any]:
        p = self.persons[v.psn_no]
        info: dict[str, Any] = {
            "mdtrt_id": v.mdtrt_id,
            "setl_id": setl_id,
            "psn_no": p.psn_no,
            "psn_name": p.name,
            "insutype": leg.insutype,
            "psn_type": leg.psn_type,
            "cvlserv_flag": "1" if p.civil_servant else "0",
            "setl_time": f"{dt.datetime.now():%Y-%m-%d %H:%M:%S}",
            "med_type": leg.med_type,
            "pool_prop_selfpay": format(leg.pool_prop_selfpay, "f"),
            "medins_setl_id": msg["msgid"],
            "clr_optins": p.insured_region,
            "clr_way": "1",
            "clr_type": "21" if v.inpatient else "11",
            "refd_setl_flag": "0",
            "exp_content": json.dumps(
                {
                    "benefit_kind": leg.benefit_kind,
                    "benefit_year": leg.benefit_year,
                    "cidl_amt": format_yuan(leg.cidl_amt),
                }
            ),
        }
        for name in _MONEY_FIELDS:
            info[name] = format_yuan(int(getattr(leg, name)))
        return info

    @staticmethod
    def _setldetail(leg: BasicLeg) -> list[dict[str, Any]]:
        return [
            {
                "fund_pay_type": d.fund_pay_type,
                "fund_pay_type_name": d.fund_pay_type_name,
                "inscp_scp_amt": format_yuan(d.inscp_scp_amt),
                "crt_payb_lmt_amt": "" if d.crt_payb_lmt_amt is None else format_yuan(d.crt_payb_lmt_amt),
                "fund_payamt": format_yuan(d.fund_payamt),
                "setl_proc_info": d.setl_proc_info,
            }
            for d in leg.fund_details
        ]

    def _settle(self, msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        infno = msg["infno"]
        data = inp["data"]
        v = self._visit(data["mdtrt_id"], data["psn_no"])
        if (infno in ("2303", "2304")) != v.inpatient:
            raise _Refused("门诊/住院结算交易与就诊类型不符")
        booking = infno in _SETTLE
        if booking and self._standing_of(v) is not None:
            raise _Refused(f"该就诊已结算: {v.mdtrt_id}")
        bill = self._bill(msg, v, use_account=data.get("acct_used_flag") == "1")
        if parse_yuan(data["medfee_sumamt"]) != bill.total_fen:
            raise _Refused(f"医疗费总额 {data['medfee_sumamt']} 与明细合计 {format_yuan(bill.total_fen)} 不符")
        leg = self._run_engine(bill).basic
        if leg is None:
            raise _Refused("本次就诊无基本医疗保险费用")
        if self.hifp_shortfall_fen:
            leg = self._short(leg, self.hifp_shortfall_fen)
        setl_id = self._next("SETL") if booking else ""
        info = self._setlinfo(msg, v, leg, setl_id)
        out = {"setlinfo": info, "setldetail": self._setldetail(leg)}
        if booking:
            deltas = {d.key: int(d.delta_fen) for d in leg.accumulator_deltas}
            self._book(v.psn_no, deltas, int(leg.acct_pay), sign=1)
            self.ledger.settlements[setl_id] = _Setl(
                setl_id=setl_id,
                mdtrt_id=v.mdtrt_id,
                psn_no=v.psn_no,
                insutype=leg.insutype,
                msgid=msg["msgid"],
                infno=infno,
                day=dt.date.today(),
                output=out,
                deltas=deltas,
                acct_pay=int(leg.acct_pay),
                medfee=int(leg.medfee_sumamt),
                fund=int(leg.fund_pay_sumamt),
            )
            self.ledger.by_msgid[msg["msgid"]] = setl_id
        return out

    @staticmethod
    def _short(leg: BasicLeg, fen: int) -> BasicLeg:
        """The leg with ``fen`` less 统筹 (at most what the engine's 统筹 paid), moved to the patient's cash."""
        pool = f"{leg.insutype}100"
        cut = min(fen, int(leg.hifp_pay))
        details = tuple(
            d.model_copy(update={"fund_payamt": Fen(int(d.fund_payamt) - cut)}) if d.fund_pay_type == pool else d
            for d in leg.fund_details
        )
        return leg.model_copy(
            update={
                "hifp_pay": Fen(int(leg.hifp_pay) - cut),
                "fund_pay_sumamt": Fen(int(leg.fund_pay_sumamt) - cut),
                "psn_part_amt": Fen(int(leg.psn_part_amt) + cut),
                "psn_cash_pay": Fen(int(leg.psn_cash_pay) + cut),
                "fund_details": details,
            }
        )

    def _book(self, psn_no: str, deltas: Mapping[str, int], acct_pay: int, *, sign: int) -> None:
        acc = self.ledger.accumulators.setdefault(psn_no, {})
        for key, delta in deltas.items():
            acc[key] = acc.get(key, 0) + sign * delta
        self.ledger.balances[psn_no] = self.ledger.balances.get(psn_no, 0) - sign * acct_pay

    def _undo(self, s: _Setl, by: str) -> None:
        self._book(s.psn_no, s.deltas, s.acct_pay, sign=-1)
        s.standing = False
        s.undone_by = by
        s.output["setlinfo"]["refd_setl_flag"] = "1"

    def _cancel(self, msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        data = inp["data"]
        s = self.ledger.settlements.get(data["setl_id"])
        if s is None or s.mdtrt_id != data["mdtrt_id"] or s.psn_no != data["psn_no"]:
            raise _Refused(f"结算信息不存在: {data['setl_id']}")
        if not s.standing:
            raise _Refused(f"结算已撤销: {s.setl_id}")
        if (msg["infno"] == "2305") != (s.infno == "2304"):
            raise _Refused("撤销交易与结算类型不符")
        self._undo(s, msg["infno"])
        info = dict(s.output["setlinfo"]) | {"setl_id": self._next("SETL"), "refd_setl_flag": "1"}
        for name in _MONEY_FIELDS:
            if name != "balc":
                info[name] = format_yuan(-parse_yuan(info[name]))
        info["balc"] = format_yuan(self.ledger.balances.get(s.psn_no, 0))
        return {"setlinfo": info}

    def _reverse(self, msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        data = inp["data"]
        omsgid, oinfno = data["omsgid"], data["oinfno"]
        if oinfno not in _REVERSIBLE:
            raise _Refused(f"交易 {oinfno} 不允许冲正")
        self._person_of(data["psn_no"], msg)
        seen = [i for i, m in self.ledger.messages if m == omsgid]
        if seen and seen[0] != oinfno:
            raise _Refused(f"原交易编号不符: {omsgid} 是 {seen[0]}")
        setl_id = self.ledger.by_msgid.get(omsgid)
        result = "not_found"
        if setl_id is not None:
            s = self.ledger.settlements[setl_id]
            if s.standing:
                self._undo(s, "2601")
                result = "reversed"
            else:
                result = "already_undone"
        elif not seen:
            # The original may still be on its way: make sure it never takes effect when it lands.
            self.ledger.tombstones.add(omsgid)
        return {"data": {"omsgid": omsgid, "oinfno": oinfno, "rvs_result": result}}

    def _query(self, msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        data = inp["data"]
        v = self._visit(data["mdtrt_id"], data["psn_no"])
        if data.get("setl_id"):
            s = self.ledger.settlements.get(data["setl_id"])
            if s is None or s.mdtrt_id != v.mdtrt_id:
                raise _Refused(f"结算信息不存在: {data['setl_id']}")
        else:
            found = [s for s in self.ledger.settlements.values() if s.mdtrt_id == v.mdtrt_id]
            if not found:
                raise _Refused(f"结算信息不存在: {v.mdtrt_id}")
            s = max(found, key=lambda x: (x.standing, x.setl_id))
        return {"setlinfo": dict(s.output["setlinfo"]), "setldetail": list(s.output["setldetail"])}

    def _cum(self, msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        data = inp["data"]
        self._person_of(data["psn_no"], msg)
        year = str(data["cum_ym"])[:4]
        rows = []
        for key, value in sorted(self.ledger.accumulators.get(data["psn_no"], {}).items()):
            insutype, y, kind = key.split(":", 2)
            if y == year and (not data.get("insutype") or data["insutype"] == insutype):
                rows.append({"insutype": insutype, "year": y, "cum_type_code": kind, "cum": format_yuan(value)})
        return {"cuminfo": rows}

    def _reconcile(self, msg: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        data = inp["data"]
        begin, end = self._date(data["stmt_begndate"]), self._date(data["stmt_enddate"])
        mine = [
            s
            for s in self.ledger.settlements.values()
            if s.standing and begin <= s.day <= end and (not data.get("insutype") or s.insutype == data["insutype"])
        ]
        totals = {
            "medfee_sumamt": format_yuan(sum(s.medfee for s in mine)),
            "fund_pay_sumamt": format_yuan(sum(s.fund for s in mine)),
            "acct_pay": format_yuan(sum(s.acct_pay for s in mine)),
            "fixmedins_setl_cnt": str(len(mine)),
        }
        agreed = all(str(data.get(k, "")) == v for k, v in totals.items())
        return {
            "stmtinfo": {
                "setl_optins": data.get("setl_optins", ""),
                "stmt_rslt": "0" if agreed else "1",
                "stmt_rslt_dscr": "平" if agreed else "不平",
            }
            | {f"centre_{k}": v for k, v in totals.items()}
        }
