"""The output side of ``finalize``: per-line results and the bill-level figures summed from them.

This is the engine's hottest loop (one :class:`LineResult` and a handful of :class:`Allocation`
models per line), so it is written for speed: the output models are built without re-validation
(every value comes from the engine's own checked arithmetic; ``check_settlement`` verifies the
result in tests and before the gateway stores it), and the bill's totals are summed in the same
pass instead of walking the built models again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from onestop.domain.offer import PAYABLE, Category
from onestop.domain.settlement import Allocation, Leg, LineResult, PayerKey, SplitCategory
from onestop.engine._check import SettlementInvariantError
from onestop.engine._work import CELL_OF, Work
from onestop.money import Fen

__all__ = ["LineSums", "line_results", "trusted"]

_ModelT = TypeVar("_ModelT", bound=BaseModel)

_new = object.__new__
_int_new = int.__new__
# BaseModel keeps its bookkeeping in slots; their descriptors set them without object.__setattr__'s lookup.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_ZERO = Fen(0)


def _spec(cls: type[BaseModel]) -> tuple[set[str], tuple[str, ...], tuple[str, ...]]:
    """(field names, the same in declared order, fields constrained to be ≥ 0) of a model, read once."""
    spec = _SPECS.get(cls)
    if spec is None:
        nonneg = tuple(name for name, info in cls.model_fields.items() if _non_negative(info))
        spec = _SPECS[cls] = (set(cls.model_fields), tuple(cls.model_fields), nonneg)
    return spec


_SPECS: dict[type[BaseModel], tuple[set[str], tuple[str, ...], tuple[str, ...]]] = {}


def _non_negative(info: FieldInfo) -> bool:
    """True when the field (or the amount inside its ``| None``) carries ``ge=0``."""
    if any(getattr(m, "ge", None) == 0 for m in info.metadata):
        return True
    for arg in get_args(info.annotation):
        if get_origin(arg) is Annotated:
            for m in get_args(arg)[1:]:
                if any(getattr(x, "ge", None) == 0 for x in (m, *getattr(m, "metadata", ()))):
                    return True
    return False


def trusted(cls: type[_ModelT], values: dict[str, Any]) -> _ModelT:
    """Build a model from values the engine computed itself, without re-validation.

    Equivalent to ``model_construct`` with every field given (as pydantic documents it), minus its
    per-field default handling. Only for output models, with values of each field's own type (a test
    compares every field with a validated round trip). The model's ``ge=0`` constraints are still
    enforced, since a negative amount there can only be an engine bug.

    Raises:
        TypeError: ``values`` is not exactly the model's fields in declared order.
        SettlementInvariantError: an amount the model requires to be non-negative is negative.
    """
    fields_set, order, nonneg = _spec(cls)
    # JSON follows the order of __dict__, so the fields must come in the model's declared order.
    if tuple(values) != order:
        raise TypeError(f"{cls.__name__}: trusted construction needs exactly its fields, in declared order")
    for name in nonneg:
        v = values[name]
        if v is not None and v < 0:
            raise SettlementInvariantError(f"{cls.__name__}.{name} is negative: {int(v)}")
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


_CELL_POS = {c: i for i, c in enumerate(SplitCategory)}
_PAYER_ORDER = {PayerKey.WORK_INJURY: 1, PayerKey.EMPLOYER: 2, PayerKey.ACCOUNT: 4, PayerKey.PATIENT: 5}


def _cell_rank(cell: tuple[str, SplitCategory]) -> tuple[int, str, int]:
    """Output order of a line's cells: funds, work injury, employer, commercial, account, patient; then category."""
    payer = cell[0]
    group = 0 if payer.startswith("fund:") else _PAYER_ORDER.get(payer, 3)
    return (group, payer, _CELL_POS[cell[1]])


#: The patient's (offer category, cell category) pairs in output order.
_PATIENT_ORDER: tuple[tuple[Category, SplitCategory], ...] = tuple(
    sorted(((c, CELL_OF[c]) for c in PAYABLE), key=lambda pair: _CELL_POS[pair[1]])
)


class _Ranks(dict[tuple[str, SplitCategory], tuple[int, str, int]]):
    """Cell → output rank, filled on first use (a bill has a handful of distinct cells)."""

    def __missing__(self, cell: tuple[str, SplitCategory]) -> tuple[int, str, int]:
        rank = self[cell] = _cell_rank(cell)
        return rank


#: Patient cells by offer category, built once (the patient pays whatever is left at the end).
_PATIENT_CELL = {c: (PayerKey.PATIENT, CELL_OF[c]) for c in PAYABLE}


@dataclass(slots=True)
class LineSums:
    """Bill-level figures summed over the output lines (what the legs and totals need)."""

    by_payer: dict[str, int] = field(default_factory=dict)
    total: int = 0
    """Σ amount of every line (medfee_sumamt)."""
    cidl_amt: int = 0
    """Σ amount of CIDL lines, any leg."""
    basic_medfee: int = 0
    basic_fulamt: int = 0
    basic_overlmt: int = 0
    basic_preselfpay: int = 0
    basic_inscope: int = 0
    basic_cidl: int = 0
    """Σ 全自费 of CIDL lines on the basic leg."""
    basic_account: int = 0
    """Σ personal-account cells on basic-leg lines."""
    maternity_medfee: int = 0


def line_results(works: Iterable[Work]) -> tuple[tuple[LineResult, ...], LineSums]:
    """Each line's result with the patient paying what is left, plus the bill's sums.

    The works are read, never changed: the patient's cells are added on the way out, so a state can
    be finalised more than once.
    """
    by_payer: dict[str, int] = {}
    total = cidl_amt = maternity_medfee = 0
    b_medfee = b_fulamt = b_overlmt = b_preselfpay = b_inscope = b_cidl = b_account = 0
    rank_of = _Ranks().__getitem__
    patient_cell = _PATIENT_CELL
    patient_order = _PATIENT_ORDER
    patient = PayerKey.PATIENT
    # Frozen models never change their fields-set, so one set per class is shared by every instance.
    alloc_fields = _spec(Allocation)[0]
    line_fields = _spec(LineResult)[0]
    account, basic, maternity = PayerKey.ACCOUNT, Leg.BASIC, Leg.MATERNITY
    zero = _ZERO
    out: list[LineResult] = []
    for w in works:
        cells = w.cells
        rem = w.remaining
        ordered: list[tuple[str, SplitCategory, int]]
        if len(cells) <= 1 and (not cells or cells[0][0] != patient):
            # The common line: at most one payer before the patient, so walking the patient's
            # categories in output order gives the canonical order with nothing to merge or sort.
            ordered = list(cells)
            for ocat, pcell in patient_order:
                amount = rem.get(ocat, 0)
                if amount > 0:
                    ordered.append((patient, pcell, amount))
        else:
            # Merge the line's cells (the same payer can pay the same category in two stages), then sort.
            merged: dict[tuple[str, SplitCategory], int] = {}
            get = merged.get
            for payer, cat, amount in cells:
                key = (payer, cat)
                merged[key] = get(key, 0) + amount
            for ocat, amount in rem.items():
                if amount > 0:
                    pkey = patient_cell.get(ocat)
                    if pkey is not None:
                        merged[pkey] = get(pkey, 0) + amount
            ordered = [(key[0], key[1], merged[key]) for key in sorted(merged, key=rank_of)]
        allocs: list[Allocation] = []
        line_account = 0
        for payer, cat, amount in ordered:
            if not amount:
                continue
            by_payer[payer] = by_payer.get(payer, 0) + amount
            if payer == account:
                line_account += amount
            a = _new(Allocation)
            _set_dict(a, {"payer": payer, "category": cat, "amount_fen": _int_new(Fen, amount)})
            _set_fields_set(a, alloc_fields)
            _set_extra(a, None)
            _set_private(a, None)
            allocs.append(a)
        s, r, ln = w.split, w.res, w.line
        cidl = r.cidl
        amount_fen = ln.amount_fen
        line_amount = int(amount_fen)  # plain int: Fen's reflected add would run in Python
        total += line_amount
        if cidl is not None:
            cidl_amt += line_amount
        if w.leg is basic:
            b_medfee += line_amount
            b_fulamt += s.fulamt
            b_overlmt += s.overlmt
            b_preselfpay += s.preselfpay
            b_inscope += s.inscope
            b_account += line_account
            if cidl is not None:
                b_cidl += s.fulamt
        elif w.leg is maternity:
            maternity_medfee += line_amount
        std_unit = s.std_unit_fen
        lr = _new(LineResult)
        _set_dict(
            lr,
            {
                "feedetl_sn": ln.feedetl_sn,
                "name": ln.name,
                "national_code": r.national_code,
                "item_kind": r.kind,
                "charge_category": ln.category,
                "amount_fen": amount_fen,
                "leg": w.leg,
                "in_catalog": r.in_catalog,
                # ``_value_`` is the member's value (documented Enum attribute) without the ``value``
                # property's descriptor call, which shows up once per line.
                "matched_by": r.matched_by._value_,
                "chrgitm_lv": r.chrgitm_lv,
                "selfpay_prop": s.selfpay_prop,
                "pric_uplmt_amt_fen": None if s.std_confidential or std_unit is None else _int_new(Fen, std_unit),
                "standard_confidential": s.std_confidential,
                "fulamt_ownpay_amt": _int_new(Fen, s.fulamt) if s.fulamt else zero,
                "overlmt_amt": _int_new(Fen, s.overlmt) if s.overlmt else zero,
                "preselfpay_amt": _int_new(Fen, s.preselfpay) if s.preselfpay else zero,
                "inscp_scp_amt": _int_new(Fen, s.inscope) if s.inscope else zero,
                "cidl_no": cidl.no if cidl is not None else None,
                "cidl_matched_by": cidl.matched_by._value_ if cidl is not None else "",
                "reasons": tuple(s.reasons),
                "allocations": tuple(allocs),
            },
        )
        _set_fields_set(lr, line_fields)
        _set_extra(lr, None)
        _set_private(lr, None)
        out.append(lr)
    sums = LineSums(
        by_payer=by_payer,
        total=total,
        cidl_amt=cidl_amt,
        basic_medfee=b_medfee,
        basic_fulamt=b_fulamt,
        basic_overlmt=b_overlmt,
        basic_preselfpay=b_preselfpay,
        basic_inscope=b_inscope,
        basic_cidl=b_cidl,
        basic_account=b_account,
        maternity_medfee=maternity_medfee,
    )
    return tuple(out), sums
