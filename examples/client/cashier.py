"""A hospital cashier's client for the onestop gateway: settle, read the receipt, reverse.

Runs four visits against a gateway and prints each result as the cashier reads it:

  (a) an outpatient bill with 乙类 and out-of-catalog lines,
  (b) an inpatient CAR-T (CIDL drug) bill with a 惠民保 policy,
  (c) a visit with work-injury and non-work lines,
  (d) the reversal of the inpatient settlement (funds and 惠民保 each give back).

Usage::

    onestop serve --dev --example-insurer huiminbao &          # or `make run`
    python examples/client/cashier.py --target 127.0.0.1:50051 --hospital H22010100001
    python examples/client/cashier.py --target gw:50051 --token "$HOSPITAL_TOKEN"   # production auth
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from onestop.v1 import bill_pb2, settlement_service_pb2_grpc
from onestop.v1 import settlement_service_pb2 as pb

BILLS = Path(__file__).resolve().parents[1] / "bills"
LEVEL = {"01": "甲", "02": "乙", "03": "丙"}
PAYER = {"patient": "个人现金", "account": "个人账户", "work_injury": "工伤基金", "employer": "用人单位"}
FUND = {"fund:310100": "职工统筹", "fund:390100": "居民统筹", "fund:510100": "生育基金"}
STATUS = {v: k.removeprefix("SETTLEMENT_STATUS_") for k, v in pb.SettlementStatus.items()}
LEG = {v: k.removeprefix("LEG_STATUS_") for k, v in pb.LegStatus.items()}


def yuan(fen: int) -> str:
    """Fen as yuan text, exactly (no float)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def payer_name(key: str) -> str:
    if key.startswith("commercial:"):
        return "商保 " + key.split(":", 1)[1]
    return PAYER.get(key) or FUND.get(key) or ("基金 " + key.split(":", 1)[1] if key.startswith("fund:") else key)


def load_bill(name: str, hospital: str) -> Any:
    doc = json.loads((BILLS / name).read_text(encoding="utf-8"))
    doc["hospital"]["code"] = hospital
    return json_format.ParseDict(doc, bill_pb2.Bill())


def receipt(title: str, out: Any) -> None:
    s = out.settlement
    print(f"== {title}")
    print(
        f"   结算号 {out.settlement_id}  状态 {STATUS[out.status]}{'  (重复请求，返回原结果)' if out.replayed else ''}"
    )
    for ln in s.lines:
        level = "CIDL" if ln.HasField("cidl_no") else LEVEL.get(ln.chrgitm_lv, "?")
        if not ln.in_catalog and not ln.HasField("cidl_no"):
            level = "目录外"
        by: dict[str, int] = {}
        for a in ln.allocations:
            by[a.payer] = by.get(a.payer, 0) + a.amount_fen
        who = ", ".join(f"{payer_name(p)} {yuan(fen)}" for p, fen in by.items() if fen)
        print(f"   {ln.feedetl_sn:>6} {ln.name[:18]:<18} {level:<4} {yuan(ln.amount_fen):>11}  {who}")
    t = s.totals
    print(f"   医疗费总额 {yuan(t.medfee_sumamt_fen)}")
    if s.HasField("basic"):
        b = s.basic
        print(
            f"   基本医保: 统筹支付 {yuan(b.hifp_pay_fen)}  起付线 {yuan(b.act_pay_dedc_fen)}  "
            f"全自费 {yuan(b.fulamt_ownpay_amt_fen)}  先行自付 {yuan(b.preselfpay_amt_fen)}  "
            f"大额/大病 {yuan(b.hifob_pay_fen + b.hifmi_pay_fen)}"
        )
    if s.HasField("work_injury"):
        w = s.work_injury
        print(f"   工伤: 基金支付 {yuan(w.fund_pay_fen)}  用人单位 {yuan(w.employer_pay_fen)}  ({w.status})")
    for c in s.commercial:
        note = f"  原因 {c.reason}" if c.reason else ""
        print(f"   商保 {c.payer}/{c.product}: 支付 {yuan(c.paid_fen)} / 可赔 {yuan(c.offered_fen)}{note}")
    print(
        f"   基金合计 {yuan(t.basic_fund_fen + t.work_injury_fund_fen + t.maternity_fund_fen)}  "
        f"商保合计 {yuan(t.commercial_fen)}  个人账户 {yuan(t.account_fen)}"
    )
    print(f"   >>> 患者现金支付 {yuan(t.final_patient_cash_fen)} 元")
    for w in s.warnings:
        print(f"   提示: {w}")
    print()


def explain(err: grpc.RpcError) -> str:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    if status is not None:
        for d in status.details:
            msg = error_details_pb2.LocalizedMessage()
            if d.Is(msg.DESCRIPTOR) and d.Unpack(msg):
                return f"{msg.message} ({err.code().name})"
    return f"{err.code().name}: {err.details()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--hospital", default="H22010100001", help="development mode: the hospital to act as")
    parser.add_argument("--token", default="", help="bearer token (production); overrides --hospital")
    args = parser.parse_args(argv)
    md = (("authorization", f"Bearer {args.token}"),) if args.token else (("x-onestop-hospital", args.hospital),)
    run = uuid.uuid4().hex[:8]
    with grpc.insecure_channel(args.target) as channel:
        stub = settlement_service_pb2_grpc.SettlementServiceStub(channel)
        try:
            visits = [
                ("(a) 门诊: 乙类与目录外项目", "outpatient_b_class.json"),
                ("(b) 住院: CAR-T (商保创新药) + 惠民保", "inpatient_car_t_huiminbao.json"),
                ("(c) 工伤与非工伤项目同一次就诊", "work_injury_and_basic.json"),
            ]
            settled = {}
            for title, name in visits:
                req = pb.SettleRequest(request_id=f"{run}-{name}", bill=load_bill(name, args.hospital))
                out = stub.Settle(req, metadata=md, timeout=30)
                receipt(title, out)
                settled[name] = out
            first = settled["inpatient_car_t_huiminbao.json"]
            rev = stub.Reverse(
                pb.ReverseRequest(settlement_id=first.settlement_id, request_id=f"{run}-reverse"),
                metadata=md,
                timeout=30,
            )
            print("== (d) 冲正 (b): 基金与商保各自退回")
            print(f"   结算号 {rev.settlement_id}  状态 {STATUS[rev.status]}  退回 {yuan(rev.reversed_fen)} 元")
            for leg in rev.legs:
                print(f"   {leg.payer:<12} {LEG[leg.status]}")
        except grpc.RpcError as err:
            print(f"失败: {explain(err)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
