"""The platform's wire: message ids, the request signature, yuan text, and the settlement output mapping.

Amounts travel as yuan text with two decimals (``"12.30"``) and are converted exactly with
:func:`onestop.money.parse_yuan` / :func:`onestop.money.format_yuan`; ratios as decimal text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from onestop.domain.offer import AnswerStatus
from onestop.domain.settlement import BasicLeg, FundDetail
from onestop.errors import IntegrityViolation
from onestop.money import Fen, MoneyError, parse_yuan
from onestop.sdk import LineSplit, StatusMapping

__all__ = [
    "FUND_FIGURES",
    "INFCODE_STATUS",
    "MsgIds",
    "basic_leg",
    "line_splits",
    "ratio",
    "signature",
    "yuan",
]

#: ``infcode`` → unified status: 0 is success, -1 a refusal; anything else is not taken as paid.
INFCODE_STATUS = StatusMapping({"0": AnswerStatus.APPROVED, "-1": AnswerStatus.DECLINED})

#: setlinfo figures that make up ``fund_pay_sumamt`` (domain identity, checked on every answer).
FUND_FIGURES = ("hifp_pay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay")

_MONEY = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    *FUND_FIGURES,
    "hosp_part_amt",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "balc",
    "acct_mulaid_pay",
)

_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The gateway signature of a request (modelled): hex HMAC-SHA256 over timestamp, nonce and body joined by newlines."""
    msg = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


class MsgIds:
    """Message ids in the platform's layout: institution code (12) + ``yyyymmddHHMMSS`` + a 4-character sequence.

    The sequence is base 36 and process-wide, so ids are unique per message within a process up to
    1.6 million messages per second; the platform refuses a repeated msgid, so a collision could
    never book twice.
    """

    _counter = itertools.count()
    _lock = threading.Lock()

    def __init__(self, fixmedins_code: str) -> None:
        """Ids for one institution (its code is cut to 12 characters to keep the C30 limit)."""
        self.prefix = fixmedins_code[:12]

    def next(self, now: dt.datetime) -> str:
        """A new message id."""
        with self._lock:
            n = next(self._counter) % 36**4
        seq = "".join(_B36[(n // 36**i) % 36] for i in (3, 2, 1, 0))
        return f"{self.prefix}{now:%Y%m%d%H%M%S}{seq}"


def yuan(value: object, where: str) -> Fen:
    """Parse a yuan text amount from an answer; anything else breaks integrity."""
    if not isinstance(value, str):
        raise IntegrityViolation(f"{where}: amount {value!r} is not yuan text", flow=where)
    try:
        return parse_yuan(value)
    except MoneyError as exc:
        raise IntegrityViolation(f"{where}: {exc}", flow=where) from None


def ratio(value: object, where: str) -> Decimal:
    """Parse a ratio (decimal text in [0, 1])."""
    try:
        r = Decimal(str(value))
    except InvalidOperation:
        raise IntegrityViolation(f"{where}: ratio {value!r} is not decimal text", flow=where) from None
    if not (r.is_finite() and Decimal(0) <= r <= 1):
        raise IntegrityViolation(f"{where}: ratio {value!r} is outside [0, 1]", flow=where)
    return r


def basic_leg(setlinfo: Mapping[str, Any], setldetail: list[Mapping[str, Any]]) -> BasicLeg:
    """The engine's :class:`BasicLeg` from 2206/2207/2303/2304/5203 ``setlinfo`` + ``setldetail`` (yuan → fen).

    Raises:
        IntegrityViolation: an amount is not exact yuan text, a figure is negative, or the
            platform's own identities do not hold (Σ funds = fund_pay_sumamt; medfee = funds +
            psn_part (+ hosp_part); psn_part = acct_pay + psn_cash_pay; the four split totals = medfee;
            Σ setldetail = fund_pay_sumamt).
    """
    f = {name: yuan(setlinfo.get(name, "0.00"), f"setlinfo.{name}") for name in _MONEY}
    problems = [f"setlinfo.{k} is negative" for k, v in f.items() if v < 0]
    if sum(f[k] for k in FUND_FIGURES) != f["fund_pay_sumamt"]:
        problems.append("Σ fund figures ≠ fund_pay_sumamt")
    if f["fund_pay_sumamt"] + f["psn_part_amt"] + f["hosp_part_amt"] != f["medfee_sumamt"]:
        problems.append("fund_pay_sumamt + psn_part_amt + hosp_part_amt ≠ medfee_sumamt")
    if f["acct_pay"] + f["psn_cash_pay"] != f["psn_part_amt"]:
        problems.append("acct_pay + psn_cash_pay ≠ psn_part_amt")
    split = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
    if sum(f[k] for k in split) != f["medfee_sumamt"]:
        problems.append("the four split totals ≠ medfee_sumamt")
    details = tuple(
        FundDetail(
            fund_pay_type=str(d["fund_pay_type"]),
            fund_pay_type_name=str(d.get("fund_pay_type_name", "")),
            inscp_scp_amt=yuan(d.get("inscp_scp_amt", "0.00"), "setldetail.inscp_scp_amt"),
            crt_payb_lmt_amt=(
                yuan(d["crt_payb_lmt_amt"], "setldetail.crt_payb_lmt_amt") if d.get("crt_payb_lmt_amt") else None
            ),
            fund_payamt=yuan(d["fund_payamt"], "setldetail.fund_payamt"),
            setl_proc_info=str(d.get("setl_proc_info", "")),
        )
        for d in setldetail
    )
    if details and sum(d.fund_payamt for d in details) != f["fund_pay_sumamt"]:
        problems.append("Σ setldetail.fund_payamt ≠ fund_pay_sumamt")
    if problems:
        raise IntegrityViolation("platform settlement: " + "; ".join(problems), flow="settle")
    ext = _ext(setlinfo.get("exp_content"))
    setl_year = str(setlinfo.get("setl_time", ""))[:4]
    year = ext.get("benefit_year") or (int(setl_year) if setl_year.isdigit() else 0)
    return BasicLeg(
        source="nhsa-platform",
        insutype=str(setlinfo["insutype"]),
        psn_type=str(setlinfo.get("psn_type", "")),
        med_type=str(setlinfo.get("med_type", "")),
        benefit_kind=str(ext.get("benefit_kind", "")),
        benefit_year=int(year),
        medfee_sumamt=f["medfee_sumamt"],
        fulamt_ownpay_amt=f["fulamt_ownpay_amt"],
        overlmt_selfpay=f["overlmt_selfpay"],
        preselfpay_amt=f["preselfpay_amt"],
        inscp_scp_amt=f["inscp_scp_amt"],
        act_pay_dedc=f["act_pay_dedc"],
        hifp_pay=f["hifp_pay"],
        pool_prop_selfpay=ratio(setlinfo.get("pool_prop_selfpay", "0"), "setlinfo.pool_prop_selfpay"),
        cvlserv_pay=f["cvlserv_pay"],
        hifes_pay=f["hifes_pay"],
        hifmi_pay=f["hifmi_pay"],
        hifob_pay=f["hifob_pay"],
        maf_pay=f["maf_pay"],
        hosp_part_amt=f["hosp_part_amt"],
        oth_pay=f["oth_pay"],
        fund_pay_sumamt=f["fund_pay_sumamt"],
        psn_part_amt=f["psn_part_amt"],
        acct_pay=f["acct_pay"],
        psn_cash_pay=f["psn_cash_pay"],
        balc=f["balc"],
        acct_mulaid_pay=f["acct_mulaid_pay"],
        cidl_amt=yuan(ext.get("cidl_amt", "0.00"), "setlinfo.exp_content.cidl_amt"),
        fund_details=details,
    )


def _ext(value: object) -> dict[str, Any]:
    """``exp_content`` (a JSON object as text, possibly empty)."""
    if not value:
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(str(value))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def line_splits(result: list[Mapping[str, Any]], sent: Mapping[str, int]) -> tuple[LineSplit, ...]:
    """The per-line split of a 2204/2301 answer, checked against the lines sent (sn → fen).

    Raises:
        IntegrityViolation: a line missing, unknown or twice; a total that differs from the line
            sent; the four parts not adding up to the line total.
    """
    out: list[LineSplit] = []
    seen: set[str] = set()
    problems: list[str] = []
    for row in result:
        sn = str(row.get("feedetl_sn", ""))
        if sn not in sent or sn in seen:
            problems.append(f"line {sn!r} was not sent or is answered twice")
            continue
        seen.add(sn)
        where = f"result[{sn}]"
        total = yuan(row["det_item_fee_sumamt"], f"{where}.det_item_fee_sumamt")
        parts = [
            yuan(row[k], f"{where}.{k}")
            for k in ("fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt")
        ]
        if total != sent[sn]:
            problems.append(f"line {sn}: total {int(total)} ≠ sent {sent[sn]}")
        if any(p < 0 for p in parts) or sum(parts) != total:
            problems.append(f"line {sn}: parts {[int(p) for p in parts]} do not add up to {int(total)}")
            continue
        out.append(
            LineSplit(
                feedetl_sn=sn,
                det_item_fee_sumamt=total,
                fulamt_ownpay_amt=parts[0],
                overlmt_amt=parts[1],
                preselfpay_amt=parts[2],
                inscp_scp_amt=parts[3],
                chrgitm_lv=str(row.get("chrgitm_lv", "")),
                selfpay_prop=ratio(row.get("selfpay_prop", "0"), f"{where}.selfpay_prop"),
            )
        )
    missing = sorted(set(sent) - seen)
    if missing:
        problems.append(f"lines {missing} missing from the answer")
    if problems:
        raise IntegrityViolation("platform fee-detail split: " + "; ".join(problems), flow="upload_fee_detail")
    return tuple(sorted(out, key=lambda s: s.feedetl_sn))
