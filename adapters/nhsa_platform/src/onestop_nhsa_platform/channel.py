"""The nhsa-platform fund channel: the basic-insurance leg through the NHSA 医疗保障信息平台 interface."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import replace
from typing import Any, ClassVar, cast

import httpx
from pydantic import SecretStr

from onestop.domain.bill import Bill, BillLine
from onestop.domain.offer import AnswerStatus
from onestop.errors import PayerDeclined, PayerError, PayerTimeout, PayerUnavailable
from onestop.money import format_yuan
from onestop.sdk import (
    AccumulatorsInput,
    AccumulatorsResult,
    AdapterConfig,
    AmountUnit,
    ChannelCancelInput,
    ChannelCancelResult,
    ChannelCapabilities,
    ChannelFlow,
    ChannelPreSettleInput,
    ChannelReconcileInput,
    ChannelReconcileResult,
    ChannelSettleInput,
    ChannelSettleResult,
    Clock,
    FundChannel,
    LineSplit,
    PersonLookupInput,
    PersonLookupResult,
    ReasonCode,
    RegisterVisitInput,
    RegisterVisitResult,
    ReversalInput,
    ReversalOutcome,
    ReversalResult,
    StateStore,
    UploadFeeDetailInput,
    UploadFeeDetailResult,
)
from onestop_nhsa_platform._journal import InMemoryJournal, Journal, JournalEntry, StateJournal
from onestop_nhsa_platform._refusals import reason_for
from onestop_nhsa_platform._wire import INFCODE_STATUS, MsgIds, basic_leg, line_splits, signature, yuan

__all__ = ["NhsaPlatformChannel", "NhsaPlatformConfig"]


class NhsaPlatformConfig(AdapterConfig):
    """Settings of one institution's connection to the platform."""

    base_url: str
    """Root of the platform gateway, e.g. ``https://fsi.example:8080``."""
    service_path: str = "/fsi/api/rsfComIfsService/callService"
    paas_id: str
    """The institution's id at the platform gateway (``x-tif-paasid``)."""
    secret: SecretStr
    """Gateway signing secret (never logged or printed)."""
    fixmedins_code: str
    """定点医药机构编号."""
    fixmedins_name: str = ""
    mdtrtarea_admvs: str
    """就医地医保区划 (the institution's region)."""
    opter: str = "onestop"
    opter_name: str = "onestop"
    opter_type: str = "1"
    infver: str = "V1.0"
    recer_sys_code: str = "onestop"
    dev_no: str = ""
    psn_setlway: str = "01"
    """个人结算方式: 01 按项目结算."""
    timeout_s: float = 5.0
    """Read timeout of one HTTP call; the SDK's own call timeout should be longer."""
    connect_timeout_s: float = 2.0


class _Refusal(PayerDeclined):
    """The platform answered infcode ≠ 0 (its ``err_msg`` is the message)."""


class NhsaPlatformChannel(FundChannel):
    """Basic insurance through the national platform's JSON interface (amounts as yuan text).

    Settle runs, when the input has no ``mdtrt_id``: 2201 + 2203 (outpatient) or 2401 (+ 2402
    discharge) → 2204/2301 fee-detail upload → 2207/2304. The settle message is recorded in the
    :class:`~onestop_nhsa_platform.Journal` before it is sent and is never re-sent: a replay of the
    same reference reads the settlement back with 5203, an unknown outcome is reversed with 2601 by
    the original msgid, and a cancel first reads the settlement's state with 5203.
    """

    name: ClassVar[str] = "nhsa-platform"
    Config: ClassVar[type[AdapterConfig]] = NhsaPlatformConfig
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(
        flows=frozenset(ChannelFlow),
        legs=frozenset({"basic"}),
        amount_unit=AmountUnit.YUAN_DECIMAL,
        line_split=True,
    )

    def __init__(
        self,
        config: AdapterConfig,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        journal: Journal | None = None,
        state: StateStore | None = None,
    ) -> None:
        """Build the channel, its HTTP client and its journal.

        Args:
            config: A :class:`NhsaPlatformConfig`.
            clock: Time source (tests pass a fake clock).
            transport: HTTP transport (tests may inject one).
            journal: Where sent settle messages are recorded; takes precedence over ``state``.
            state: The host's state store: the journal is kept there (a :class:`StateJournal`) and
                survives a restart. Without ``journal`` or ``state`` the journal is in memory.
        """
        super().__init__(config, clock=clock)
        self.cfg = cast(NhsaPlatformConfig, self.config)
        if journal is None:
            scope = f"{self.name}:{self.cfg.fixmedins_code}"
            journal = StateJournal(state, scope=scope) if state is not None else InMemoryJournal()
        self.journal: Journal = journal
        self._ids = MsgIds(self.cfg.fixmedins_code)
        self._sign_no = ""
        self._http = httpx.AsyncClient(
            base_url=self.cfg.base_url,
            timeout=httpx.Timeout(self.cfg.timeout_s, connect=self.cfg.connect_timeout_s),
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()

    # -- transport ----------------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.time())

    def new_msgid(self) -> str:
        """A message id unique per message (see :class:`~onestop_nhsa_platform._wire.MsgIds`)."""
        return self._ids.next(self._now())

    async def _sign_in(self) -> str:
        if not self._sign_no:
            out = await self._send(
                "9001", {"signIn": {"opter_no": self.cfg.opter, "mac": "", "ip": ""}}, flow="sign_in", write=False
            )
            self._sign_no = str(out["signinoutb"]["sign_no"])
        return self._sign_no

    async def _send(
        self,
        infno: str,
        body: dict[str, Any],
        *,
        flow: str,
        write: bool,
        insuplc: str = "",
        msgid: str = "",
    ) -> dict[str, Any]:
        """Send one message; return its ``output``.

        Errors: nothing sent or refused at the gateway (signature, 4xx) → PayerUnavailable; sent and
        no answer → PayerTimeout on writes (outcome unknown), PayerUnavailable on reads (harmless to
        retry); 5xx → PayerError on writes (ambiguous), PayerUnavailable on reads; infcode ≠ 0 →
        ``_Refusal`` (a PayerDeclined) with the platform's err_msg.
        """
        sign_no = "" if infno == "9001" else await self._sign_in()
        now = self._now()
        envelope = {
            "infno": infno,
            "msgid": msgid or self.new_msgid(),
            "mdtrtarea_admvs": self.cfg.mdtrtarea_admvs,
            "insuplc_admdvs": insuplc,
            "recer_sys_code": self.cfg.recer_sys_code,
            "dev_no": self.cfg.dev_no,
            "dev_safe_info": "",
            "cainfo": "",
            "signtype": "HMAC-SHA256",
            "infver": self.cfg.infver,
            "opter_type": self.cfg.opter_type,
            "opter": self.cfg.opter,
            "opter_name": self.cfg.opter_name,
            "inf_time": f"{now:%Y-%m-%d %H:%M:%S}",
            "fixmedins_code": self.cfg.fixmedins_code,
            "fixmedins_name": self.cfg.fixmedins_name,
            "sign_no": sign_no,
            "input": body,
        }
        raw = json.dumps(envelope, ensure_ascii=False).encode()
        ts, nonce = str(int(self.clock.time())), secrets.token_hex(16)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "x-tif-paasid": self.cfg.paas_id,
            "x-tif-timestamp": ts,
            "x-tif-nonce": nonce,
            "x-tif-signature": signature(self.cfg.secret.get_secret_value(), ts, nonce, raw),
        }
        try:
            resp = await self._http.post(self.cfg.service_path, content=raw, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise PayerUnavailable(
                f"cannot reach the platform: {type(exc).__name__}", payer=self.name, flow=flow
            ) from exc
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            cls = PayerTimeout if write else PayerUnavailable
            raise cls(
                f"no answer from the platform to {infno}: {type(exc).__name__}", payer=self.name, flow=flow
            ) from exc
        if resp.status_code >= 500:
            cls2 = PayerError if write else PayerUnavailable
            raise cls2(
                f"platform answered HTTP {resp.status_code} to {infno}",
                payer=self.name,
                flow=flow,
                raw_code=str(resp.status_code),
            )
        if resp.status_code != 200:
            # Refused at the gateway (signature, paasid, timestamp): the message was not acted on.
            self._sign_no = ""
            raise PayerUnavailable(
                f"platform gateway refused {infno}: HTTP {resp.status_code} {_err(resp)}",
                payer=self.name,
                flow=flow,
                raw_code=str(resp.status_code),
            )
        try:
            answer = resp.json()
        except ValueError:
            cls3 = PayerError if write else PayerUnavailable
            raise cls3(f"platform answered {infno} with non-JSON", payer=self.name, flow=flow) from None
        code = str(answer.get("infcode", ""))
        if code != "0":
            msg = str(answer.get("err_msg", ""))
            if "签到" in msg:  # the session expired: sign in again on the next call
                self._sign_no = ""
            raise _Refusal(msg or f"infcode {code}", payer=self.name, flow=flow, raw_code=code)
        output = answer.get("output")
        return output if isinstance(output, dict) else {}

    # -- helpers ------------------------------------------------------------------------------------

    @staticmethod
    def _basic_lines(bill: Bill) -> list[BillLine]:
        # Work-related lines go to the work-injury channel, never to the basic fund.
        return [ln for ln in bill.lines if not ln.work_related]

    @staticmethod
    def _begn(bill: Bill) -> str:
        return f"{bill.visit.admission_date:%Y-%m-%d} 00:00:00"

    @staticmethod
    def _diseinfo(bill: Bill) -> list[dict[str, Any]]:
        return [
            {
                "diag_type": "1",
                "diag_srt_no": str(i + 1),
                "diag_code": d.code,
                "diag_name": d.name,
                "maindiag_flag": "1" if i == 0 else "0",
                "vali_flag": "1",
            }
            for i, d in enumerate(bill.visit.diagnoses)
        ]

    @staticmethod
    def _visit_ext(bill: Bill) -> str:
        v = bill.visit
        ext: dict[str, Any] = {"oprn_codes": list(v.procedures), "vent_used_dura": v.vent_hours, "dept_code": v.dept}
        if v.newborn_weight_g is not None:
            ext["nwb_bir_wt"] = v.newborn_weight_g
        if v.age_days is not None:
            ext["age_days"] = v.age_days
        if v.prescribing_context is not None:
            ext["prescribing_context"] = v.prescribing_context.value
        return json.dumps(ext, ensure_ascii=False)

    def _cert(self, bill: Bill) -> dict[str, str]:
        return {"mdtrt_cert_type": bill.patient.cert_type.value, "mdtrt_cert_no": bill.patient.cert_no}

    @staticmethod
    def _declined(reference: str, exc: PayerDeclined) -> ChannelSettleResult:
        return ChannelSettleResult(
            reference=reference,
            status=INFCODE_STATUS(exc.raw_code),
            reason=reason_for(exc.message),
            raw_code=exc.raw_code,
            raw_message=exc.message,
        )

    # -- flows --------------------------------------------------------------------------------------

    async def person_lookup(self, inp: PersonLookupInput) -> PersonLookupResult:
        """1101 人员信息获取 by certificate."""
        cert = inp.cert_no.get_secret_value()
        body = {
            "data": {
                "mdtrt_cert_type": inp.cert_type.value,
                "mdtrt_cert_no": cert,
                "card_sn": "",
                "begntime": f"{inp.on_date:%Y-%m-%d} 00:00:00",
                "psn_cert_type": "01",
                "certno": cert if inp.cert_type.value == "02" else "",
                "psn_name": "",
            }
        }
        try:
            out = await self._send("1101", body, flow="person_lookup", write=False, insuplc=inp.insured_region)
        except _Refusal as exc:
            return PersonLookupResult(
                reference=inp.reference,
                found=False,
                reason=reason_for(exc.message, ReasonCode.NOT_ELIGIBLE),
                raw_code=exc.raw_code,
                raw_message=exc.message,
            )
        base, insu = out.get("baseinfo", {}), list(out.get("insuinfo", []))
        first = insu[0] if insu else {}
        return PersonLookupResult(
            reference=inp.reference,
            found=True,
            psn_no=SecretStr(str(base.get("psn_no", ""))),
            insutypes=tuple(str(i.get("insutype", "")) for i in insu),
            psn_type=str(first.get("psn_type", "")),
            eligible=any(str(i.get("psn_insu_stas", "")) == "1" for i in insu),
            account_balance_fen=yuan(first.get("balc", "0.00"), "insuinfo.balc"),
            raw_code="0",
        )

    async def _register(self, bill: Bill) -> str:
        p, v = bill.patient, bill.visit
        insuplc = p.insured_region
        if v.med_type.is_inpatient:
            main = v.diagnoses[0]
            info = {
                "psn_no": p.psn_no,
                "insutype": p.insutype.value,
                **self._cert(bill),
                "med_type": v.med_type.value,
                "ipt_no": v.mdtrt_id,
                "begntime": self._begn(bill),
                "adm_diag_dscr": main.name,
                "dise_codg": main.code,
                "dise_name": main.name,
                "exp_content": self._visit_ext(bill),
            }
            out = await self._send(
                "2401",
                {"mdtrtinfo": info, "diseinfo": self._diseinfo(bill)},
                flow="register_visit",
                write=True,
                insuplc=insuplc,
            )
            return str(out["result"]["mdtrt_id"])
        data = {
            "psn_no": p.psn_no,
            "insutype": p.insutype.value,
            "begntime": self._begn(bill),
            **self._cert(bill),
            "ipt_otp_no": v.mdtrt_id,
            "atddr_no": "",
            "dr_name": "",
            "dept_code": v.dept,
            "dept_name": "",
            "caty": "",
            "med_type": v.med_type.value,
        }
        out = await self._send("2201", {"data": data}, flow="register_visit", write=True, insuplc=insuplc)
        mdtrt_id = str(out["data"]["mdtrt_id"])
        main = v.diagnoses[0]
        info = {
            "mdtrt_id": mdtrt_id,
            "psn_no": p.psn_no,
            "med_type": v.med_type.value,
            "begntime": self._begn(bill),
            "main_cond_dscr": "",
            "dise_codg": main.code,
            "dise_name": main.name,
            "exp_content": self._visit_ext(bill),
        }
        await self._send(
            "2203",
            {"mdtrtinfo": info, "diseinfo": self._diseinfo(bill)},
            flow="register_visit",
            write=True,
            insuplc=insuplc,
        )
        return mdtrt_id

    async def register_visit(self, inp: RegisterVisitInput) -> RegisterVisitResult:
        """2201 挂号 + 2203 就诊信息 (outpatient) or 2401 入院办理 (inpatient)."""
        try:
            mdtrt_id = await self._register(inp.bill)
        except _Refusal as exc:
            return RegisterVisitResult(
                reference=inp.reference,
                mdtrt_id="",
                reason=reason_for(exc.message),
                raw_code=exc.raw_code,
                raw_message=exc.message,
            )
        return RegisterVisitResult(reference=inp.reference, mdtrt_id=mdtrt_id, raw_code="0")

    async def _upload(self, bill: Bill, mdtrt_id: str) -> tuple[LineSplit, ...]:
        lines = self._basic_lines(bill)
        if not lines:
            raise _Refusal(
                "no basic-insurance line to upload", payer=self.name, flow="upload_fee_detail", raw_code="-1"
            )
        p, v = bill.patient, bill.visit
        rows = []
        for ln in lines:
            extra = {"item_name": ln.name, "med_chrgitm_type": ln.category.value}
            extra |= {
                k: val
                for k, val in (
                    ("dosage_form", ln.dosage_form),
                    ("spec", ln.spec),
                    ("e_prescription_id", ln.e_prescription_id),
                )
                if val
            }
            rows.append(
                {
                    "feedetl_sn": ln.feedetl_sn,
                    "init_feedetl_sn": "",
                    "mdtrt_id": mdtrt_id,
                    "drord_no": "",
                    "psn_no": p.psn_no,
                    "med_type": v.med_type.value,
                    "chrg_bchno": v.mdtrt_id,
                    "fee_ocur_time": f"{ln.date:%Y-%m-%d} 00:00:00",
                    "med_list_codg": ln.national_code,
                    "medins_list_codg": ln.hospital_code,
                    "det_item_fee_sumamt": format_yuan(ln.amount_fen),
                    "cnt": format(ln.quantity, "f"),
                    "pric": format(ln.unit_price, "f"),
                    "hosp_appr_flag": ln.hosp_appr_flag.value,
                    "exp_content": json.dumps(extra, ensure_ascii=False),
                }
            )
        infno = "2301" if v.med_type.is_inpatient else "2204"
        out = await self._send(
            infno, {"feedetail": rows}, flow="upload_fee_detail", write=True, insuplc=p.insured_region
        )
        return line_splits(list(out.get("result", [])), {ln.feedetl_sn: int(ln.amount_fen) for ln in lines})

    async def upload_fee_detail(self, inp: UploadFeeDetailInput) -> UploadFeeDetailResult:
        """2204 (outpatient) / 2301 (inpatient); the per-line split comes back and is checked line by line."""
        try:
            splits = await self._upload(inp.bill, inp.mdtrt_id)
        except _Refusal as exc:
            return UploadFeeDetailResult(
                reference=inp.reference, reason=reason_for(exc.message), raw_code=exc.raw_code, raw_message=exc.message
            )
        return UploadFeeDetailResult(reference=inp.reference, lines=splits, raw_code="0")

    async def _prepare(self, bill: Bill, mdtrt_id: str) -> tuple[str, tuple[LineSplit, ...]]:
        """Register and upload when the gateway has not; discharge an inpatient stay (2402)."""
        splits: tuple[LineSplit, ...] = ()
        if not mdtrt_id:
            mdtrt_id = await self._register(bill)
            splits = await self._upload(bill, mdtrt_id)
        v = bill.visit
        if v.med_type.is_inpatient:
            main = v.diagnoses[0]
            info = {
                "mdtrt_id": mdtrt_id,
                "psn_no": bill.patient.psn_no,
                "insutype": bill.patient.insutype.value,
                "endtime": f"{v.discharge_date:%Y-%m-%d} 00:00:00",
                "dise_codg": main.code,
                "dise_name": main.name,
                "dscg_way": v.discharge_way.value,
            }
            await self._send(
                "2402",
                {"dscginfo": info, "diseinfo": self._diseinfo(bill)},
                flow="settle",
                write=True,
                insuplc=bill.patient.insured_region,
            )
        return mdtrt_id, splits

    def _settle_body(self, bill: Bill, mdtrt_id: str, splits: tuple[LineSplit, ...]) -> dict[str, Any]:
        p, v = bill.patient, bill.visit
        data: dict[str, Any] = {
            "psn_no": p.psn_no,
            **self._cert(bill),
            "med_type": v.med_type.value,
            "medfee_sumamt": format_yuan(sum(int(ln.amount_fen) for ln in self._basic_lines(bill))),
            "psn_setlway": self.cfg.psn_setlway,
            "mdtrt_id": mdtrt_id,
            "insutype": p.insutype.value,
            "acct_used_flag": "1" if p.use_account else "0",
            "invono": "",
        }
        if v.med_type.is_inpatient:
            data["mid_setl_flag"] = "0"
        else:
            data["chrg_bchno"] = v.mdtrt_id
        if splits:
            data["fulamt_ownpay_amt"] = format_yuan(sum(int(s.fulamt_ownpay_amt) for s in splits))
            data["overlmt_selfpay"] = format_yuan(sum(int(s.overlmt_amt) for s in splits))
            data["preselfpay_amt"] = format_yuan(sum(int(s.preselfpay_amt) for s in splits))
            data["inscp_scp_amt"] = format_yuan(sum(int(s.inscp_scp_amt) for s in splits))
        return {"data": data}

    def _result(self, reference: str, out: dict[str, Any]) -> ChannelSettleResult:
        info = out.get("setlinfo") or {}
        leg = basic_leg(info, list(out.get("setldetail") or []))
        return ChannelSettleResult(
            reference=reference,
            status=AnswerStatus.APPROVED,
            leg=leg,
            setl_id=str(info.get("setl_id", "")),
            raw_code="0",
        )

    async def pre_settle(self, inp: ChannelPreSettleInput) -> ChannelSettleResult:
        """2206 门诊预结算 / 2303 住院预结算: the same output as a settle, nothing booked."""
        try:
            mdtrt_id, splits = await self._prepare(inp.bill, inp.mdtrt_id)
            infno = "2303" if inp.bill.visit.med_type.is_inpatient else "2206"
            out = await self._send(
                infno,
                self._settle_body(inp.bill, mdtrt_id, splits),
                flow="pre_settle",
                write=True,
                insuplc=inp.bill.patient.insured_region,
            )
        except _Refusal as exc:
            return self._declined(inp.reference, exc)
        return self._result(inp.reference, out)

    async def settle(self, inp: ChannelSettleInput) -> ChannelSettleResult:
        """2207 门诊结算 / 2304 住院结算, sent at most once per reference.

        A reference already settled through this channel is read back with 5203 (a replay never
        sends a second settle). The settle message id is journaled before sending, so a lost answer
        can be reversed with 2601 by the original msgid.
        """
        bill = inp.bill
        entry = await self.journal.get(inp.reference)
        if entry is not None and entry.settle_msgid:
            return await self._replay(inp.reference, entry)
        entry = JournalEntry(psn_no=bill.patient.psn_no, insuplc_admdvs=bill.patient.insured_region)
        await self.journal.put(inp.reference, entry)
        try:
            mdtrt_id, splits = await self._prepare(bill, inp.mdtrt_id)
        except _Refusal as exc:
            return self._declined(inp.reference, exc)
        infno = "2304" if bill.visit.med_type.is_inpatient else "2207"
        msgid = self.new_msgid()
        entry = replace(
            entry, mdtrt_id=mdtrt_id, insutype=bill.patient.insutype.value, settle_infno=infno, settle_msgid=msgid
        )
        await self.journal.put(inp.reference, entry)
        try:
            out = await self._send(
                infno,
                self._settle_body(bill, mdtrt_id, splits),
                flow="settle",
                write=True,
                insuplc=bill.patient.insured_region,
                msgid=msgid,
            )
        except _Refusal as exc:
            return self._declined(inp.reference, exc)
        res = self._result(inp.reference, out)
        await self._record(inp.reference, entry, res)
        return res

    async def _record(self, reference: str, entry: JournalEntry, res: ChannelSettleResult) -> None:
        leg = res.leg
        if leg is None or leg.kind != "basic":
            return
        await self.journal.put(
            reference,
            replace(
                entry,
                setl_id=res.setl_id,
                day=self._now().date(),
                medfee_fen=int(leg.medfee_sumamt),
                fund_fen=int(leg.fund_pay_sumamt),
                acct_fen=int(leg.acct_pay),
            ),
        )

    async def _query(self, entry: JournalEntry, setl_id: str) -> dict[str, Any] | None:
        """5203 结算信息查询 for the entry's visit; None when the platform has no settlement."""
        body = {"data": {"psn_no": entry.psn_no, "mdtrt_id": entry.mdtrt_id, "setl_id": setl_id}}
        try:
            return await self._send("5203", body, flow="query", write=False, insuplc=entry.insuplc_admdvs)
        except _Refusal:
            return None

    async def _replay(self, reference: str, entry: JournalEntry) -> ChannelSettleResult:
        out = await self._query(entry, entry.setl_id)
        info = (out or {}).get("setlinfo") or {}
        if out is None or info.get("medins_setl_id") != entry.settle_msgid:
            # The first settle has no recorded outcome: report it unknown so the caller reverses it by msgid.
            raise PayerTimeout(
                "the first settle of this reference has no settlement at the platform", payer=self.name, flow="settle"
            )
        if str(info.get("refd_setl_flag", "0")) != "0":
            return ChannelSettleResult(
                reference=reference,
                status=AnswerStatus.DECLINED,
                reason=ReasonCode.CANCELLED,
                setl_id=str(info["setl_id"]),
            )
        res = self._result(reference, out)
        await self._record(reference, entry, res)
        return res

    async def cancel(self, inp: ChannelCancelInput) -> ChannelCancelResult:
        """2208 / 2305 结算撤销, after a 5203 read of the settlement's state (idempotent)."""
        entry = await self.journal.get(inp.original_reference)
        if entry is None or not entry.mdtrt_id:
            if entry is not None and not entry.settle_msgid:
                return ChannelCancelResult(reference=inp.reference, outcome="nothing_to_cancel")
            return ChannelCancelResult(
                reference=inp.reference,
                outcome="refused",
                reason=ReasonCode.OTHER,
                raw_message="no visit recorded for this reference: cancel by setl_id needs mdtrt_id and psn_no",
            )
        out = await self._query(entry, inp.setl_id or entry.setl_id)
        info = (out or {}).get("setlinfo") or {}
        ours = bool(inp.setl_id) or info.get("medins_setl_id") == entry.settle_msgid
        if out is None or not ours or str(info.get("refd_setl_flag", "0")) != "0":
            return ChannelCancelResult(reference=inp.reference, outcome="nothing_to_cancel")
        infno = "2305" if entry.settle_infno == "2304" else "2208"
        body = {"data": {"setl_id": str(info["setl_id"]), "mdtrt_id": entry.mdtrt_id, "psn_no": entry.psn_no}}
        try:
            await self._send(infno, body, flow="cancel", write=True, insuplc=entry.insuplc_admdvs)
        except _Refusal as exc:
            return ChannelCancelResult(
                reference=inp.reference,
                outcome="refused",
                reason=reason_for(exc.message),
                raw_code=exc.raw_code,
                raw_message=exc.message,
            )
        await self.journal.put(inp.original_reference, replace(entry, undone=True))
        return ChannelCancelResult(
            reference=inp.reference, outcome="cancelled", reason=ReasonCode.CANCELLED, raw_code="0"
        )

    async def reversal(self, inp: ReversalInput) -> ReversalResult:
        """2601 冲正 of the original message, addressed by its msgid and infno from the journal."""
        entry = await self.journal.get(inp.original_reference)
        if entry is None:
            return ReversalResult(
                reference=inp.reference,
                outcome=ReversalOutcome.REFUSED,
                reason=ReasonCode.OTHER,
                raw_message="no message recorded for this reference",
            )
        if inp.original_flow is not ChannelFlow.SETTLE or not entry.settle_msgid:
            # The journal is written before a settle is sent: no msgid means no settle ever left.
            return ReversalResult(reference=inp.reference, outcome=ReversalOutcome.NOTHING_TO_REVERSE)
        body = {"data": {"psn_no": entry.psn_no, "omsgid": entry.settle_msgid, "oinfno": entry.settle_infno}}
        try:
            out = await self._send("2601", body, flow="reversal", write=True, insuplc=entry.insuplc_admdvs)
        except _Refusal as exc:
            return ReversalResult(
                reference=inp.reference,
                outcome=ReversalOutcome.REFUSED,
                reason=reason_for(exc.message),
                raw_code=exc.raw_code,
                raw_message=exc.message,
            )
        said = str((out.get("data") or {}).get("rvs_result", "reversed"))
        outcome = ReversalOutcome.NOTHING_TO_REVERSE if said == "not_found" else ReversalOutcome.REVERSED
        await self.journal.put(inp.original_reference, replace(entry, undone=True))
        return ReversalResult(reference=inp.reference, outcome=outcome, raw_code="0", raw_message=said)

    async def accumulators(self, inp: AccumulatorsInput) -> AccumulatorsResult:
        """5206 人员累计信息查询: ``insutype:year:cum_type_code`` → fen."""
        body = {"data": {"psn_no": inp.psn_no.get_secret_value(), "cum_ym": f"{inp.year}12", "insutype": inp.insutype}}
        try:
            out = await self._send("5206", body, flow="accumulators", write=False)
        except _Refusal as exc:
            return AccumulatorsResult(
                reference=inp.reference, reason=reason_for(exc.message), raw_code=exc.raw_code, raw_message=exc.message
            )
        values = {
            f"{r['insutype']}:{r['year']}:{r['cum_type_code']}": yuan(r["cum"], "cuminfo.cum")
            for r in out.get("cuminfo", [])
        }
        return AccumulatorsResult(reference=inp.reference, values=values, raw_code="0")

    async def reconcile(self, inp: ChannelReconcileInput) -> ChannelReconcileResult:
        """3201 对总账 for one day: sends the totals journaled here, answers the platform's and whether they agree."""
        mine = await self.journal.totals(inp.day, inp.insutype)
        sent = {
            "medfee_sumamt": format_yuan(mine.medfee_fen),
            "fund_pay_sumamt": format_yuan(mine.fund_fen),
            "acct_pay": format_yuan(mine.acct_fen),
            "fixmedins_setl_cnt": str(mine.count),
        }
        body = {
            "data": {
                "insutype": inp.insutype,
                "clr_type": "",
                "setl_optins": "",
                "stmt_begndate": inp.day.isoformat(),
                "stmt_enddate": inp.day.isoformat(),
                **sent,
            }
        }
        try:
            out = await self._send("3201", body, flow="reconcile", write=False)
        except _Refusal as exc:
            return ChannelReconcileResult(
                reference=inp.reference,
                count=0,
                medfee_sumamt=yuan(sent["medfee_sumamt"], "sent"),
                fund_pay_sumamt=yuan(sent["fund_pay_sumamt"], "sent"),
                agreed=False,
                reason=reason_for(exc.message),
                raw_code=exc.raw_code,
                raw_message=exc.message,
            )
        info = out.get("stmtinfo") or {}

        def theirs(key: str) -> str:
            return str(info.get(f"centre_{key}", sent[key]))

        return ChannelReconcileResult(
            reference=inp.reference,
            count=int(theirs("fixmedins_setl_cnt")),
            medfee_sumamt=yuan(theirs("medfee_sumamt"), "stmtinfo.medfee_sumamt"),
            fund_pay_sumamt=yuan(theirs("fund_pay_sumamt"), "stmtinfo.fund_pay_sumamt"),
            acct_pay=yuan(theirs("acct_pay"), "stmtinfo.acct_pay"),
            agreed=str(info.get("stmt_rslt", "1")) == "0",
            raw_code="0",
            raw_message=str(info.get("stmt_rslt_dscr", "")),
        )


def _err(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("err_msg", ""))
    except ValueError:
        return ""
