"""CatalogSet: effective-dated, region-scoped catalogs resolved in constant time per line.

Everything a line's resolution depends on — editions, entries, standards, confidential numbers,
transition windows, CIDL rows, provincial lists, preparations — is a row valid over a closed date
interval. So for one (code, region, charge category) the :class:`Resolution` is piecewise constant
between the *change dates* of all rows (each ``valid_from`` and each ``valid_to + 1``). The first
time a key is seen, :meth:`CatalogSet._resolve_at` (the readable reference resolver) is run once per
interval and the results are kept as a :class:`_Segment`; afterwards ``resolve`` is a couple of dict
gets and a tuple index. Keys are only built for codes that exist in the data, so unknown codes cost
no memory.

Region precedence: a row of the pooling region (e.g. ``220100``) beats its province (``220000``),
which beats national (``000000``) — for standards, confidential numbers, service/consumable rows,
preparation lists and the 双通道/两病 lists alike. Provincial lists never change a national class,
备注 or standard; they only add their own flags and the 医疗机构制剂 entries.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from onestop.catalog._rows import (
    NATIONAL,
    CatalogData,
    CidlRow,
    ConfidentialRow,
    DrugRow,
    EditionRow,
    ItemRow,
    ListRow,
    PrepRow,
    StandardRow,
    TransitionRow,
    in_force,
)
from onestop.catalog._text import form_class, forms_agree, generic_key, norm, norm_spec
from onestop.catalog.audit import AuditIndex
from onestop.catalog.remarks import parse_remark
from onestop.catalog.resolution import (
    AuditHit,
    CidlMatch,
    HospitalPreparation,
    MatchedBy,
    Resolution,
    Standard,
    StandardSource,
)
from onestop.catalog.views import (
    MASK,
    CidlView,
    EditionInfo,
    EntryView,
    LookupResult,
    PreparationView,
    StandardView,
)
from onestop.domain.codes import ChargeCategory, ChrgitmLv, ItemKind
from onestop.errors import ConfigError, FieldViolation, NoEditionInForce
from onestop.money import format_yuan

if TYPE_CHECKING:
    from onestop.domain.bill import Bill, BillLine, Hospital

__all__ = ["CatalogSet"]

_T = TypeVar("_T")
_ONE_DAY = dt.timedelta(days=1)
_SOURCE_RANK = {StandardSource.VBP: 0, StandardSource.NEGOTIATED: 1, StandardSource.BID: 2, StandardSource.PRICE_CAP: 3}
_LV_TEXT = {ChrgitmLv.A: "甲", ChrgitmLv.B: "乙", ChrgitmLv.C: "丙"}
_CHRGITM_TYPE = {
    "01": "床位费",
    "02": "诊察费",
    "03": "检查费",
    "04": "化验费",
    "05": "治疗费",
    "06": "手术费",
    "07": "护理费",
    "08": "卫生材料费",
    "09": "西药费",
    "10": "中药饮片费",
    "11": "中成药费",
    "12": "一般诊疗费",
    "13": "挂号费",
    "14": "其他费",
}
_PREP_SECTION = "医疗机构制剂"
_CAR_T = "XL01XL"


def _chain(region: str) -> tuple[str, ...]:
    """Fallback order: pooling region → province → national, without repeats."""
    out = [region]
    province = region[:2] + "0000"
    for r in (province, NATIONAL):
        if r not in out:
            out.append(r)
    return tuple(out)


def _most_specific(rows: Iterable[_T], chain: Sequence[str], region_of: str = "region") -> list[_T]:
    """The rows of the first region in ``chain`` that has any."""
    by_region: dict[str, list[_T]] = defaultdict(list)
    for r in rows:
        by_region[getattr(r, region_of)].append(r)
    for region in chain:
        if region in by_region:
            return by_region[region]
    return []


@dataclass(frozen=True, slots=True)
class _Segment:
    """Resolutions of one key, one per interval between change dates (``None`` = no edition)."""

    by_code: tuple[Resolution | None, ...]
    by_map: tuple[Resolution | None, ...]
    spec_sensitive: bool


@dataclass(frozen=True, slots=True)
class _Edition:
    row: EditionRow
    valid_to: dt.date | None
    """Effective last day: the row's own, or the day before the next edition of its kind starts."""


class CatalogSet:
    """Loaded catalogs: implements :class:`~onestop.catalog.CatalogView` for the engine, plus lookups.

    Build it with :func:`onestop.catalog.default_catalogs` (packaged data) or
    :func:`onestop.catalog.open_catalogs` (a catalog store). It is immutable after construction
    apart from its internal caches, and safe to share between threads (a cache race only
    computes the same value twice).
    """

    def __init__(self, data: CatalogData) -> None:
        """Index ``data``.

        Raises:
            ConfigError: Two editions of one kind and region start on the same day.
        """
        self.data = data
        self._editions = self._index_editions(data.editions)
        self._kind_of_edition = {e.row.edition: e.row.kind for eds in self._editions.values() for e in eds}
        self._edition_by_id = {e.row.edition: e for eds in self._editions.values() for e in eds}

        self._drug_by_code: dict[tuple[str, str], DrugRow] = {}
        self._drug_by_key: dict[tuple[str, str], list[DrugRow]] = defaultdict(list)
        for d in data.drugs:
            if d.code:
                self._drug_by_code[(d.edition, d.code)] = d
            self._drug_by_key[(d.edition, generic_key(d.name))].append(d)
        self._items: dict[tuple[str, str], list[ItemRow]] = defaultdict(list)
        for it in data.items:
            self._items[(self._kind_of_edition.get(it.edition, ""), it.code)].append(it)
        self._std_by_code: dict[str, list[StandardRow]] = defaultdict(list)
        self._std_by_name: dict[str, list[StandardRow]] = defaultdict(list)
        for s in data.standards:
            if s.code:
                self._std_by_code[s.code].append(s)
            else:
                self._std_by_name[norm(s.name)].append(s)
        self._conf_by_code: dict[str, list[ConfidentialRow]] = defaultdict(list)
        self._conf_by_name: dict[str, list[ConfidentialRow]] = defaultdict(list)
        for conf in data.confidential:
            (self._conf_by_code[conf.code] if conf.code else self._conf_by_name[norm(conf.name)]).append(conf)
        self._map = {(m.hospital, m.hospital_code): m.code for m in data.hospital_map}
        self._cidl_by_code: dict[str, list[CidlRow]] = defaultdict(list)
        self._cidl_by_name: dict[str, list[CidlRow]] = defaultdict(list)
        self._cidl_info: dict[int, CidlRow] = {}
        for c in data.cidl:
            if c.code:
                self._cidl_by_code[c.code].append(c)
            for key in {norm(c.name), generic_key(c.name)}:
                self._cidl_by_name[key].append(c)
            # The listing row (without a mapped code) describes the drug; code rows only map to it.
            if not c.code:
                self._cidl_info[c.no] = c
            else:
                self._cidl_info.setdefault(c.no, c)
        self._lists = {"dual": self._index_list(data.dual_channel), "two": self._index_list(data.two_diseases)}
        self._prep_by_code: dict[str, list[PrepRow]] = defaultdict(list)
        for p in data.preparations:
            self._prep_by_code[p.code].append(p)
        self._transitions: dict[str, list[TransitionRow]] = defaultdict(list)
        for t in data.transitions:
            self._transitions[t.edition].append(t)
        self._audit = AuditIndex(data.audit_rules)

        self._drug_codes = frozenset(d.code for d in data.drugs if d.code)
        self._known: frozenset[str] = frozenset(
            {d.code for d in data.drugs if d.code}
            | {i.code for i in data.items}
            | {p.code for p in data.preparations}
            | {c.code for c in data.cidl if c.code}
        )
        self._regions = frozenset(
            {NATIONAL}
            | {r.region for r in data.items}
            | {r.region for r in data.standards}
            | {r.region for r in data.confidential}
            | {r.region for r in data.dual_channel}
            | {r.region for r in data.two_diseases}
            | {r.region for r in data.preparations}
            | {r.region for r in data.transitions}
            | {e.region for e in data.editions}
        )
        self._starts = self._change_dates()
        self._day_index: dict[dt.date, int] = {}
        self._segments: dict[tuple[str, str, str, str], _Segment] = {}
        self._eff_region: dict[str, str] = {}
        self._out: dict[tuple[ItemKind, str], tuple[Resolution | None, ...]] = {}

    # ------------------------------------------------------------------ indexes

    @staticmethod
    def _index_editions(rows: Sequence[EditionRow]) -> dict[tuple[str, str], list[_Edition]]:
        grouped: dict[tuple[str, str], list[EditionRow]] = defaultdict(list)
        for r in rows:
            grouped[(r.kind, r.region)].append(r)
        out: dict[tuple[str, str], list[_Edition]] = {}
        for key, eds in grouped.items():
            eds.sort(key=lambda e: e.valid_from)
            for a, b in itertools.pairwise(eds):
                if a.valid_from == b.valid_from:
                    raise ConfigError(
                        "two editions start on the same day",
                        violations=(FieldViolation(b.edition, f"starts on {b.valid_from} like {a.edition}"),),
                    )
            effective = []
            for i, e in enumerate(eds):
                end = e.valid_to
                if i + 1 < len(eds):
                    # A new edition abolishes the previous one on its start date.
                    abolished = eds[i + 1].valid_from - _ONE_DAY
                    end = abolished if end is None else min(end, abolished)
                effective.append(_Edition(e, end))
            out[key] = effective
        return out

    @staticmethod
    def _index_list(rows: Sequence[ListRow]) -> tuple[dict[str, list[ListRow]], dict[str, list[ListRow]]]:
        by_code: dict[str, list[ListRow]] = defaultdict(list)
        by_key: dict[str, list[ListRow]] = defaultdict(list)
        for r in rows:
            if r.code:
                by_code[r.code].append(r)
            else:
                by_key[generic_key(r.name)].append(r)
        return by_code, by_key

    def _change_dates(self) -> list[dt.date]:
        dates: set[dt.date] = set()

        def add(start: dt.date, end: dt.date | None) -> None:
            dates.add(start)
            if end is not None and end < dt.date.max:
                dates.add(end + _ONE_DAY)

        for eds in self._editions.values():
            for e in eds:
                add(e.row.valid_from, e.valid_to)
        d = self.data
        rows: Iterable[ItemRow | StandardRow | ListRow | CidlRow | TransitionRow] = [
            *d.items,
            *d.standards,
            *d.dual_channel,
            *d.two_diseases,
            *d.cidl,
            *d.transitions,
        ]
        for r in rows:
            add(r.valid_from, r.valid_to)
        for c in d.confidential:
            add(c.valid_from, c.valid_to)
        return [dt.date.min, *sorted(dates)]

    # ------------------------------------------------------------------ editions

    def _edition_at(self, kind: str, day: dt.date, region: str = NATIONAL) -> _Edition | None:
        for e in self._editions.get((kind, region), ()):
            if in_force(e.row.valid_from, e.valid_to, day):
                return e
        return None

    def _previous_edition(self, edition: _Edition) -> _Edition | None:
        eds = self._editions[(edition.row.kind, edition.row.region)]
        i = eds.index(edition)
        return eds[i - 1] if i > 0 else None

    def editions(self) -> tuple[EditionInfo, ...]:
        """Every loaded edition (drug, service, consumable, cidl, preparation), by kind then start date."""
        out = [self._edition_info(e) for eds in self._editions.values() for e in eds]
        return tuple(sorted(out, key=lambda i: (i.kind, i.region, i.valid_from)))

    @staticmethod
    def _edition_info(e: _Edition) -> EditionInfo:
        r = e.row
        return EditionInfo(
            id=r.edition,
            kind=r.kind,
            title=r.title,
            region=r.region,
            valid_from=r.valid_from,
            valid_to=e.valid_to,
            source=r.source,
            fixture=r.fixture,
        )

    # ------------------------------------------------------------------ hot path

    def resolve(self, line: BillLine, hospital: Hospital) -> Resolution:
        """Resolve a bill line on its own date in the hospital's region.

        National code first; else the hospital's code map (``hospital.code``, ``line.hospital_code``);
        else out of catalog — and then, for drugs, a CIDL match by generic name (+ dosage form).

        Raises:
            NoEditionInForce: No loaded edition of the line's catalog covers the line's date.
        """
        i = self._day_index.get(line.date)
        if i is None:
            i = self._day_index.setdefault(line.date, bisect.bisect_right(self._starts, line.date) - 1)
        code = line.national_code
        if code:
            seg = self._segments.get((code, hospital.region, line.category, ""))
            if seg is None and code in self._known:
                seg = self._segment(code, hospital.region, line.category, "")
            if seg is not None:
                if seg.spec_sensitive:
                    seg = self._spec_segment(code, hospital.region, line.category, line.spec)
                res = seg.by_code[i]
                if res is not None:
                    return res
                raise self._no_edition(line)
        return self._resolve_unmatched(line, hospital, i)

    def _resolve_unmatched(self, line: BillLine, hospital: Hospital, i: int) -> Resolution:
        if line.hospital_code:
            mapped = self._map.get((hospital.code, line.hospital_code))
            if mapped is not None and mapped in self._known:
                seg = self._segment(mapped, hospital.region, line.category, "")
                if seg.spec_sensitive:
                    seg = self._spec_segment(mapped, hospital.region, line.category, line.spec)
                res = seg.by_map[i]
                if res is not None:
                    return res
                raise self._no_edition(line)
        kind = line.category.item_kind
        out = self._out.get((kind, ""))
        if out is None:
            out = self._out.setdefault((kind, ""), tuple(self._out_at(kind, d, None) for d in self._starts))
        res = out[i]
        if res is None:
            raise self._no_edition(line)
        if kind is ItemKind.DRUG:
            match = self._cidl_name_match(line.name, line.dosage_form)
            if match is not None:
                key = (kind, f"cidl:{match.no}")
                seq = self._out.get(key)
                if seq is None:
                    seq = self._out.setdefault(key, tuple(self._out_at(kind, d, match) for d in self._starts))
                named = seq[i]
                if named is not None:
                    return named
        return res

    def _no_edition(self, line: BillLine) -> NoEditionInForce:
        kind = line.category.item_kind
        return NoEditionInForce(
            f"no {kind.value} catalog edition is in force on {line.date} (line {line.feedetl_sn})",
            metadata={"date": line.date.isoformat(), "kind": kind.value, "feedetl_sn": line.feedetl_sn},
        )

    def _region_key(self, region: str) -> str:
        """The most specific region of the chain that has rows; regions without rows share it."""
        eff = self._eff_region.get(region)
        if eff is None:
            eff = next(r for r in _chain(region) if r in self._regions)
            self._eff_region[region] = eff
        return eff

    def _segment(self, code: str, region: str, category: ChargeCategory, spec: str) -> _Segment:
        key = (code, region, category, spec)
        seg = self._segments.get(key)
        if seg is not None:
            return seg
        eff = self._region_key(region)
        eff_key = (code, eff, category, spec)
        seg = self._segments.get(eff_key)
        if seg is None:
            seg = self._build_segment(code, eff, category.item_kind, spec)
            self._segments[eff_key] = seg
        self._segments[key] = seg
        return seg

    def _spec_segment(self, code: str, region: str, category: ChargeCategory, spec: str) -> _Segment:
        return self._segment(code, region, category, "\x00" + norm_spec(spec))

    def _build_segment(self, code: str, region: str, kind: ItemKind, spec: str) -> _Segment:
        spec_text = spec[1:] if spec.startswith("\x00") else ""
        by_code: list[Resolution | None] = []
        sensitive = False
        for day in self._starts:
            res, needs_spec = self._resolve_at(kind, code, day, region, spec_text)
            sensitive = sensitive or needs_spec
            by_code.append(res)
        by_map = tuple(
            replace(r, matched_by=MatchedBy.HOSPITAL_MAP)
            if r is not None and r.matched_by is MatchedBy.NATIONAL_CODE
            else r
            for r in by_code
        )
        return _Segment(tuple(by_code), by_map, sensitive and not spec.startswith("\x00"))

    # ------------------------------------------------------------------ reference resolver

    def _resolve_at(
        self, kind: ItemKind, code: str, day: dt.date, region: str, spec: str
    ) -> tuple[Resolution | None, bool]:
        """The readable resolver: one code on one day in one region (None = no edition in force).

        Returns:
            ``(resolution, depends_on_spec)``; the flag says the line's spec chose among standards.
        """
        if kind is ItemKind.DRUG:
            return self._resolve_drug(code, day, region, spec)
        return self._resolve_item(kind, code, day, region, spec)

    def _out_at(self, kind: ItemKind, day: dt.date, cidl: CidlRow | None) -> Resolution | None:
        ed = self._edition_at(kind.value, day)
        if ed is None:
            return None
        match = self._cidl_match(cidl, day, MatchedBy.NAME) if cidl is not None else None
        return Resolution(
            in_catalog=False,
            matched_by=MatchedBy.NAME if match is not None else MatchedBy.NONE,
            kind=kind,
            edition=ed.row.edition,
            name=cidl.name if match is not None and cidl is not None else "",
            cidl=match,
        )

    def _cidl_match(self, row: CidlRow, day: dt.date, how: MatchedBy) -> CidlMatch | None:
        if not in_force(row.valid_from, row.valid_to, day):
            return None
        return CidlMatch(no=row.no, name=row.name, matched_by=how, category_code=row.category_code)

    def _cidl_name_match(self, name: str, form: str) -> CidlRow | None:
        """CIDL row whose name (or generic key) equals the line's, with an agreeing dosage form."""
        rows = self._cidl_by_name.get(norm(name)) or self._cidl_by_name.get(generic_key(name))
        if not rows:
            return None
        line_form = form_class(form) if form else ""
        for r in rows:
            if forms_agree(line_form, form_class(r.form, r.name)):
                return self._cidl_info.get(r.no, r)
        return None

    def _resolve_drug(self, code: str, day: dt.date, region: str, spec: str) -> tuple[Resolution | None, bool]:
        ed = self._edition_at("drug", day)
        if ed is None:
            return None, False
        chain = _chain(region)
        cidl_rows = [c for c in self._cidl_by_code.get(code, ()) if in_force(c.valid_from, c.valid_to, day)]
        cidl = self._cidl_match(cidl_rows[0], day, MatchedBy.NATIONAL_CODE) if cidl_rows else None
        entry = self._drug_by_code.get((ed.row.edition, code))
        if entry is not None:
            return self._drug_resolution(entry, ed.row.edition, day, day, chain, spec, None, cidl, None)
        prep = self._prep_at(code, day, chain)
        if prep is not None:
            prep_row, prep_edition = prep
            as_drug = DrugRow(
                edition=prep_edition,
                code=prep_row.code,
                catalog_no="",
                name=prep_row.name,
                form=prep_row.form,
                spec=prep_row.spec,
                section=_PREP_SECTION,
                lv=prep_row.lv,
                memo=prep_row.memo,
                category_code="",
                fixture=prep_row.fixture,
            )
            return self._drug_resolution(as_drug, prep_edition, day, day, chain, spec, None, cidl, prep_row)
        transition = self._transition_at(code, day, chain, ed)
        if transition is not None:
            old, prev, until = transition
            std_day = prev.valid_to if prev.valid_to is not None else day
            return self._drug_resolution(old, prev.row.edition, day, std_day, chain, spec, until, cidl, None)
        return (
            Resolution(
                in_catalog=False,
                matched_by=MatchedBy.NATIONAL_CODE if cidl is not None else MatchedBy.NONE,
                kind=ItemKind.DRUG,
                edition=ed.row.edition,
                national_code=code,
                name=cidl.name if cidl is not None else "",
                cidl=cidl,
            ),
            False,
        )

    def _prep_at(self, code: str, day: dt.date, chain: Sequence[str]) -> tuple[PrepRow, str] | None:
        for region in chain:
            ed = self._edition_at("preparation", day, region)
            if ed is None:
                continue
            for p in self._prep_by_code.get(code, ()):
                if p.edition == ed.row.edition and p.region == region:
                    return p, ed.row.edition
        return None

    def _transition_at(
        self, code: str, day: dt.date, chain: Sequence[str], ed: _Edition
    ) -> tuple[DrugRow, _Edition, dt.date] | None:
        prev = self._previous_edition(ed)
        if prev is None:
            return None
        old = self._drug_by_code.get((prev.row.edition, code))
        if old is None:
            return None
        rows = [
            t
            for t in self._transitions.get(ed.row.edition, ())
            if in_force(t.valid_from, t.valid_to, day)
            and ((t.code and t.code == code) or (not t.code and self._names_match(t.name, t.form, old)))
        ]
        chosen = _most_specific(rows, chain)
        if not chosen:
            return None
        return old, prev, max(t.valid_to for t in chosen)

    @staticmethod
    def _names_match(name: str, form: str, entry: DrugRow) -> bool:
        if norm(name) != norm(entry.name) and generic_key(name) != generic_key(entry.name):
            return False
        return forms_agree(form_class(form) if form else "", form_class(entry.form, entry.name))

    def _listed(self, which: str, entry: DrugRow, day: dt.date, chain: Sequence[str]) -> bool:
        by_code, by_key = self._lists[which]
        rows = [
            r
            for r in (*by_code.get(entry.code, ()), *by_key.get(generic_key(entry.name), ()))
            if r.region in chain
            and in_force(r.valid_from, r.valid_to, day)
            and (r.code or self._names_match(r.name, r.form, entry))
        ]
        chosen = _most_specific(rows, chain)
        # At the deciding region, a delisting row wins over a listing row.
        return bool(chosen) and all(r.listed for r in chosen)

    def _drug_resolution(
        self,
        entry: DrugRow,
        edition: str,
        day: dt.date,
        std_day: dt.date,
        chain: Sequence[str],
        spec: str,
        transition_until: dt.date | None,
        cidl: CidlMatch | None,
        prep: PrepRow | None,
    ) -> tuple[Resolution, bool]:
        notes: list[str] = []
        standard, needs_spec = self._standard(entry.code, entry.name, entry.spec or spec, std_day, chain, notes)
        if standard is None and prep is not None and prep.amount_fen is not None:
            ed = self._edition_by_id[prep.edition]
            standard = Standard(
                source=StandardSource.NEGOTIATED,
                unit="",
                spec=prep.spec,
                amount_fen=prep.amount_fen,
                confidential=False,
                valid_from=ed.row.valid_from,
                valid_to=ed.valid_to,
                region=prep.region,
            )
        return (
            Resolution(
                in_catalog=True,
                matched_by=MatchedBy.NATIONAL_CODE,
                kind=ItemKind.DRUG,
                edition=edition,
                national_code=entry.code,
                name=entry.name,
                dosage_form=entry.form,
                chrgitm_lv=entry.lv,
                section=entry.section,
                negotiated="谈判" in entry.section,
                remark=entry.memo,
                restrictions=parse_remark(entry.memo),
                standard=standard,
                transition_until=transition_until,
                cidl=cidl,
                hospital_preparation=(
                    HospitalPreparation(prep.producers, prep.group_approved, prep.groups) if prep else None
                ),
                dual_channel=self._listed("dual", entry, day, chain),
                two_diseases=self._listed("two", entry, day, chain),
                notes=tuple(notes),
            ),
            needs_spec,
        )

    def _resolve_item(
        self, kind: ItemKind, code: str, day: dt.date, region: str, spec: str
    ) -> tuple[Resolution | None, bool]:
        ed = self._edition_at(kind.value, day)
        if ed is None:
            return None, False
        chain = _chain(region)
        rows = [
            r
            for r in self._items.get((kind.value, code), ())
            if r.edition == ed.row.edition and r.region in chain and in_force(r.valid_from, r.valid_to, day)
        ]
        chosen = _most_specific(rows, chain)
        if not chosen:
            return Resolution(
                in_catalog=False, matched_by=MatchedBy.NONE, kind=kind, edition=ed.row.edition, national_code=code
            ), False
        row = max(chosen, key=lambda r: r.valid_from)
        notes: list[str] = []
        standard, needs_spec = self._standard(code, row.name, spec, day, chain, notes)
        return (
            Resolution(
                in_catalog=True,
                matched_by=MatchedBy.NATIONAL_CODE,
                kind=kind,
                edition=ed.row.edition,
                national_code=code,
                name=row.name,
                chrgitm_lv=row.lv,
                section=_CHRGITM_TYPE.get(row.chrgitm_type, row.chrgitm_type),
                remark=row.memo,
                restrictions=parse_remark(row.memo),
                standard=standard,
                selfpay_ratio=row.selfpay_ratio,
                notes=tuple(notes),
            ),
            needs_spec,
        )

    # ------------------------------------------------------------------ standards

    def _standard_rows(self, code: str, name: str, day: dt.date, chain: Sequence[str]) -> list[StandardRow]:
        rows = [*self._std_by_code.get(code, ()), *(self._std_by_name.get(norm(name), ()) if name else ())]
        return [r for r in rows if r.region in chain and in_force(r.valid_from, r.valid_to, day)]

    @staticmethod
    def _best(rows: Sequence[StandardRow], chain: Sequence[str]) -> StandardRow:
        return min(rows, key=lambda r: (chain.index(r.region), _SOURCE_RANK[r.source], -r.valid_from.toordinal()))

    def _standard(
        self, code: str, name: str, spec: str, day: dt.date, chain: Sequence[str], notes: list[str]
    ) -> tuple[Standard | None, bool]:
        """The standard for the entry on ``day``; the flag says several specs made the spec decide."""
        rows = self._standard_rows(code, name, day, chain)
        if not rows:
            return None, False
        specs = {norm_spec(r.spec) for r in rows if r.spec}
        pool = rows
        needs_spec = len(specs) > 1
        if needs_spec:
            s = norm_spec(spec)
            quoted = "; ".join(sorted({r.spec for r in rows if r.spec}))
            if not s:
                notes.append(f"STANDARD_SPEC_NEEDED: several specs are quoted ({quoted}); the line gives none")
                return None, True
            hits = {x for x in specs if x == s} or {x for x in specs if s in x or x in s}
            if len(hits) != 1:
                notes.append(f"STANDARD_SPEC_UNMATCHED: line spec {spec!r} matches none or several of ({quoted})")
                return None, True
            pool = [r for r in rows if not r.spec or norm_spec(r.spec) in hits]
        best = self._best(pool, chain)
        if best.amount_fen is None and not best.confidential:
            notes.append(f"STANDARD_AS_TEXT: {best.text}")
            return None, needs_spec
        amount = best.amount_fen
        if best.fixture:
            notes.append("FIXTURE_STANDARD: the payment standard is a labelled fixture (an invented figure)")
        if best.confidential:
            amount, fixture = self._confidential_amount(best, code, day, chain)
            if fixture:
                # Without the configured confidential file the packaged fixture supplies the number:
                # say so on the line, so an invented figure is never taken for the official one.
                notes.append(
                    "FIXTURE_CONFIDENTIAL_STANDARD: the confidential standard is the packaged fixture (invented); "
                    "configure ONESTOP_CONFIDENTIAL_STANDARDS"
                )
        return (
            Standard(
                source=best.source,
                unit=best.unit,
                spec=best.spec,
                amount_fen=amount,
                confidential=best.confidential,
                valid_from=best.valid_from,
                valid_to=best.valid_to,
                region=best.region,
            ),
            needs_spec,
        )

    def _confidential_amount(
        self, row: StandardRow, code: str, day: dt.date, chain: Sequence[str]
    ) -> tuple[int | None, bool]:
        """The number behind a ``*`` standard and whether it came from a fixture row (None: no source has it)."""
        cands = [
            *self._conf_by_code.get(row.code or code, ()),
            *(self._conf_by_name.get(norm(row.name), ()) if row.name else ()),
        ]
        ok = [
            c
            for c in cands
            if c.region in chain
            and in_force(c.valid_from, c.valid_to, day)
            and (not c.spec or norm_spec(c.spec) == norm_spec(row.spec))
        ]
        chosen = _most_specific(ok, chain)
        return (chosen[0].amount_fen, chosen[0].fixture) if chosen else (None, False)

    # ------------------------------------------------------------------ audit

    def audit(self, bill: Bill) -> tuple[AuditHit, ...]:
        """Run the NHSA 两库 rule lists over a bill; hits are warnings, never refusals."""
        return self._audit.check(bill, self._map)

    # ------------------------------------------------------------------ lookup

    def lookup(
        self,
        code: str | None = None,
        name: str | None = None,
        form: str | None = None,
        *,
        at: dt.date,
        region: str = NATIONAL,
    ) -> LookupResult:
        """The entries and standards in force for a code or a name on a date in a region.

        Confidential standards show ``"*"``; fixture rows are flagged ``fixture=True``.

        Args:
            code: A national code (drug, service, consumable, preparation or CIDL).
            name: A generic or product name (NFKC-normalised; product-form words ignored).
            form: A dosage form that must agree with the entry's, with ``name``.
            at: The date.
            region: The admdvs whose provincial layer applies (default national).

        Raises:
            NoEditionInForce: No drug/service/consumable edition covers ``at`` for the kinds searched.
            ValueError: Neither or both of ``code`` and ``name`` given.
        """
        if (code is None) == (name is None):
            raise ValueError("give exactly one of code or name")
        chain = _chain(region)
        entries: list[EntryView] = []
        cidl_views: list[CidlView] = []
        kinds: list[str] = []
        if code is not None:
            kinds = self._kinds_of_code(code)
            for kind in kinds:
                res, _ = self._resolve_at(ItemKind(kind), code, at, region, "")
                if res is None:
                    raise NoEditionInForce(f"no {kind} catalog edition is in force on {at}")
                if res.in_catalog:
                    entries.append(self._entry_view(res, code, res.name, at, chain))
                if res.cidl is not None:
                    cidl_views.append(self._cidl_view(res.cidl))
        else:
            assert name is not None
            kinds = ["drug"]
            ed = self._edition_at("drug", at)
            if ed is None:
                raise NoEditionInForce(f"no drug catalog edition is in force on {at}")
            wanted = form_class(form) if form else ""
            key = generic_key(name)
            seen: set[str] = set()
            for row in self._drug_by_key.get((ed.row.edition, key), ()):
                if not forms_agree(wanted, form_class(row.form, row.name)):
                    continue
                if row.code:
                    seen.add(row.code)
                    res, _ = self._resolve_drug(row.code, at, region, "")
                    assert res is not None
                else:
                    res, _ = self._drug_resolution(row, ed.row.edition, at, at, chain, "", None, None, None)
                entries.append(self._entry_view(res, row.code, row.name, at, chain, fixture=row.fixture))
            # A drug the edition in force dropped is still paid inside its region's transition window: the
            # previous edition's rows of that name, resolved by code on the date, answer for it.
            previous = self._previous_edition(ed)
            for row in self._drug_by_key.get((previous.row.edition, key), ()) if previous is not None else ():
                if not row.code or row.code in seen or not forms_agree(wanted, form_class(row.form, row.name)):
                    continue
                seen.add(row.code)
                res, _ = self._resolve_drug(row.code, at, region, "")
                if res is not None and res.in_catalog:
                    entries.append(self._entry_view(res, row.code, row.name, at, chain, fixture=row.fixture))
            cidl_row = self._cidl_name_match(name, form or "")
            if cidl_row is not None:
                match = self._cidl_match(cidl_row, at, MatchedBy.NAME)
                if match is not None:
                    cidl_views.append(self._cidl_view(match))
        in_force_eds = [
            self._edition_info(e)
            for (kind, reg), eds in sorted(self._editions.items())
            if reg in chain
            for e in eds
            if in_force(e.row.valid_from, e.valid_to, at) and (kind in kinds or kind in ("cidl", "preparation"))
        ]
        return LookupResult(
            at=at,
            region=region,
            code=code,
            name=name,
            form=form,
            editions=tuple(in_force_eds),
            entries=tuple(sorted(entries, key=lambda e: (e.fixture, e.national_code))),
            cidl=tuple(cidl_views),
        )

    def _kinds_of_code(self, code: str) -> list[str]:
        kinds = [k for k in ("service", "consumable") if (k, code) in self._items]
        if code in self._drug_codes or code in self._prep_by_code or code in self._cidl_by_code or not kinds:
            kinds.insert(0, "drug")
        return kinds

    def _fixture_of(self, res: Resolution, code: str) -> bool:
        if res.kind is ItemKind.DRUG:
            row = self._drug_by_code.get((res.edition, code))
            if row is not None:
                return row.fixture
            return all(p.fixture for p in self._prep_by_code.get(code, ())) if code in self._prep_by_code else False
        return all(r.fixture for r in self._items.get((res.kind.value, code), ()))

    def _entry_view(
        self,
        res: Resolution,
        code: str,
        name: str,
        at: dt.date,
        chain: Sequence[str],
        *,
        fixture: bool | None = None,
    ) -> EntryView:
        std_day = at
        if res.transition_until is not None:
            prev = self._edition_by_id.get(res.edition)
            std_day = prev.valid_to if prev is not None and prev.valid_to is not None else at
        rows = self._standard_rows(code, name, std_day, chain)
        by_spec: dict[str, list[StandardRow]] = defaultdict(list)
        for r in rows:
            by_spec[norm_spec(r.spec)].append(r)
        standards = []
        for spec_rows in by_spec.values():
            best = self._best(spec_rows, chain)
            standards.append(self._standard_view(best))
        prep = res.hospital_preparation
        return EntryView(
            kind=res.kind.value,
            edition=res.edition,
            national_code=code,
            name=res.name,
            dosage_form=res.dosage_form,
            spec="",
            section=res.section,
            chrgitm_lv=_LV_TEXT[res.chrgitm_lv],
            negotiated=res.negotiated,
            remark=res.remark,
            restrictions=tuple(
                f"{r.kind.value}={r.value}" if r.value is not None else r.kind.value for r in res.restrictions
            ),
            standards=tuple(sorted(standards, key=lambda s: (s.spec, s.source))),
            selfpay_ratio=str(res.selfpay_ratio) if res.selfpay_ratio is not None else None,
            transition_until=res.transition_until,
            dual_channel=res.dual_channel,
            two_diseases=res.two_diseases,
            preparation=(
                PreparationView(
                    producer_codes=prep.producer_codes, group_approved=prep.group_approved, groups=prep.groups
                )
                if prep
                else None
            ),
            cidl=self._cidl_view(res.cidl) if res.cidl else None,
            notes=tuple(n for n in res.notes if not n.startswith("STANDARD_SPEC_NEEDED")),
            fixture=self._fixture_of(res, code) if fixture is None else fixture,
        )

    @staticmethod
    def _standard_view(r: StandardRow) -> StandardView:
        if r.confidential:
            amount = MASK
        elif r.amount_fen is None:
            amount = r.text
        else:
            amount = format_yuan(r.amount_fen)
        return StandardView(
            source=r.source.value,
            spec=r.spec,
            unit=r.unit,
            amount=amount,
            region=r.region,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            fixture=r.fixture,
        )

    def _cidl_view(self, match: CidlMatch) -> CidlView:
        row = self._cidl_info[match.no]
        return CidlView(
            no=row.no,
            name=row.name,
            brand=row.brand,
            category_code=row.category_code,
            car_t=row.category_code == _CAR_T,
            matched_by=match.matched_by.value,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            fixture=row.fixture,
        )
