"""Population files: members, claims and lines (CSV or Parquet), the gateway export's contract plus a few columns.

The column contract is in ``docs/simulator.md``. Reading checks every value and reports each
offending one as ``FILE:LINE: column: problem`` (Parquet: ``FILE:row N``); nothing is returned
until the three files agree with each other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from onestop.domain.offer import CATEGORY_ORDER, PAYABLE
from onestop.errors import FieldViolation, InvalidRequest
from onestop.simulator._tables import CELL_SCHEMA, CLAIM_SCHEMA, MEMBER_SCHEMA, Population

__all__ = ["lines_path_for", "read_population", "write_population"]

_CATS = [c.value for c in CATEGORY_ORDER if c in PAYABLE]
_REM = [f"remaining_{c}_fen" for c in _CATS]
_RESIDUAL_SN = "~rest"
_MAX_VIOLATIONS = 20


# What describes a fee line; a cell's line columns add where it stands, and a cell its category,
# amount and whether it is line detail.
_LINE_FIELDS = ["name", "national_code", "cidl_no", "charge_category", "chrgitm_lv", "in_catalog"]
_LINE_COLS = ["_row", "claim_id", "line_sn", *_LINE_FIELDS]
_CELL_COLS = [*_LINE_COLS, "category", "amount_fen", "detail"]


def _no_line(row: int, line_sn: str) -> list[pl.Expr]:
    """The line columns of a cell that stands for no fee line (a claim's residue or its category totals)."""
    return [
        pl.lit(row, dtype=pl.Int64).alias("_row"),
        pl.lit(line_sn).alias("line_sn"),
        pl.lit("").alias("name"),
        pl.lit("").alias("national_code"),
        pl.lit(None, dtype=pl.Int64).alias("cidl_no"),
        pl.lit("").alias("charge_category"),
        pl.lit("").alias("chrgitm_lv"),
        pl.lit(False).alias("in_catalog"),
    ]


def lines_path_for(claims: Path) -> Path:
    """The lines file beside a claims file: ``X.claims.csv`` → ``X.lines.csv`` (the export's naming)."""
    name = claims.name
    if ".claims." in name:
        return claims.with_name(name.replace(".claims.", ".lines.", 1))
    return claims.with_name(f"{claims.stem}.lines{claims.suffix}")


def _read_raw(path: Path) -> tuple[pl.DataFrame, bool]:
    """All columns as text; True when rows are CSV lines (numbered from 2 after the header)."""
    if not path.is_file():
        raise InvalidRequest("input file missing", violations=(FieldViolation(str(path), "no such file"),))
    ext = path.suffix.lower()
    try:
        if ext == ".csv":
            return pl.read_csv(path, infer_schema=False, null_values=[""]), True
        if ext == ".parquet":
            df = pl.read_parquet(path)
            return df.with_columns(pl.all().cast(pl.String)), False
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InvalidRequest(
            "unreadable input file", violations=(FieldViolation(str(path), str(exc).splitlines()[0]),)
        ) from None
    raise InvalidRequest(
        "unsupported input file", violations=(FieldViolation(str(path), "must end in .csv or .parquet"),)
    )


class _Checker:
    def __init__(self, path: Path, df: pl.DataFrame, csv: bool) -> None:
        self.path, self.df, self.csv = path, df, csv
        self.violations: list[FieldViolation] = []

    def where(self, row: int, column: str) -> str:
        pos = f"{row + 2}" if self.csv else f"row {row + 1}"
        return f"{self.path.name}:{pos}: {column}"

    def add(self, row: int, column: str, problem: str) -> None:
        if len(self.violations) < _MAX_VIOLATIONS:
            self.violations.append(FieldViolation(self.where(row, column), problem))

    def require(self, *names: str) -> None:
        for n in names:
            if n not in self.df.columns:
                self.violations.append(FieldViolation(f"{self.path.name}: {n}", "required column missing"))

    def first_of(self, *names: str) -> str | None:
        return next((n for n in names if n in self.df.columns), None)

    def cast(self, column: str, dtype: Any, what: str, *, min_value: int | None = None) -> pl.Series:
        raw = self.df.get_column(column)
        text = raw.str.strip_chars()
        if dtype == pl.Date:
            out = text.str.to_date("%Y-%m-%d", strict=False)
        elif dtype == pl.Boolean:
            out = text.str.to_lowercase().replace_strict(
                {"true": True, "1": True, "false": False, "0": False}, default=None, return_dtype=pl.Boolean
            )
        else:
            out = text.cast(dtype, strict=False)
        bad = (out.is_null() & text.is_not_null()).arg_true()
        for i in bad.head(_MAX_VIOLATIONS).to_list():
            self.add(i, column, f"{what}, got {text[i]!r}")
        if min_value is not None:
            for i in (out < min_value).fill_null(False).arg_true().head(_MAX_VIOLATIONS).to_list():
                self.add(i, column, f"must be ≥ {min_value}, got {out[i]}")
        return out.alias(column)

    def nonempty(self, column: str) -> pl.Series:
        col = self.df.get_column(column).str.strip_chars()
        for i in col.is_null().arg_true().head(_MAX_VIOLATIONS).to_list():
            self.add(i, column, "must not be empty")
        return col

    def fail(self, message: str) -> None:
        if self.violations:
            raise InvalidRequest(message, violations=tuple(self.violations))


def _text(df: pl.DataFrame, name: str | None, default: str = "") -> pl.Series:
    if name is None:
        return pl.Series([default] * df.height, dtype=pl.String)
    return df.get_column(name).str.strip_chars().fill_null(default)


def _members(path: Path) -> pl.DataFrame:
    df, csv = _read_raw(path)
    ck = _Checker(path, df, csv)
    ck.require("member_id")
    ck.fail("bad members file")
    out: dict[str, pl.Series] = {"member_id": ck.nonempty("member_id")}
    if "age" in df.columns:
        out["age"] = ck.cast("age", pl.Int64, "an age in whole years", min_value=0)
    elif "birth_year" in df.columns:
        out["birth_year"] = ck.cast("birth_year", pl.Int64, "a year", min_value=1850)
    else:
        ck.violations.append(FieldViolation(f"{path.name}: age", "required column missing (or birth_year)"))
    out["enrolled_on"] = (
        ck.cast("enrolled_on", pl.Date, "a date YYYY-MM-DD")
        if "enrolled_on" in df.columns
        else pl.Series([None] * df.height, dtype=pl.Date)
    )
    for name in ("sex", "insutype", "insured_region", "pre_existing"):
        out[name] = _text(df, name if name in df.columns else None)
    dup = out["member_id"].is_duplicated().arg_true().head(_MAX_VIOLATIONS).to_list()
    for i in dup:
        ck.add(i, "member_id", f"{out['member_id'][i]!r} appears twice")
    ck.fail("bad members file")
    return pl.DataFrame(out)


def _claims(path: Path, members: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    df, csv = _read_raw(path)
    ck = _Checker(path, df, csv)
    cid = ck.first_of("claim_id", "settlement_id")
    if cid is None:
        ck.violations.append(FieldViolation(f"{path.name}: claim_id", "required column missing (or settlement_id)"))
    ck.require("member_id", "admission_date", "discharge_date")
    ck.fail("bad claims file")
    assert cid is not None
    claim_id = ck.nonempty(cid).alias("claim_id")
    member_id = ck.nonempty("member_id")
    adm = ck.cast("admission_date", pl.Date, "a date YYYY-MM-DD")
    dis = ck.cast("discharge_date", pl.Date, "a date YYYY-MM-DD")
    for i in (dis < adm).fill_null(False).arg_true().head(_MAX_VIOLATIONS).to_list():
        ck.add(i, "discharge_date", "before admission_date")
    unknown = (member_id.is_not_null() & ~member_id.is_in(members.get_column("member_id").implode())).arg_true()
    for i in unknown.head(_MAX_VIOLATIONS).to_list():
        ck.add(i, "member_id", f"{member_id[i]!r} is not in the members file")
    for i in claim_id.is_duplicated().arg_true().head(_MAX_VIOLATIONS).to_list():
        ck.add(i, cid, f"{claim_id[i]!r} appears twice")

    def amount(*names: str) -> pl.Series:
        name = ck.first_of(*names)
        if name is None:
            return pl.Series([0] * df.height, dtype=pl.Int64)
        return ck.cast(name, pl.Int64, "integer fen", min_value=0).fill_null(0)

    diag_col = ck.first_of("diagnoses", "principal_diagnosis")
    claims = pl.DataFrame(
        {
            "claim_id": claim_id,
            "member_id": member_id,
            "admission_date": adm,
            "discharge_date": dis,
            "med_type": _text(df, ck.first_of("med_type")),
            "care_type": _text(df, ck.first_of("care_type")),
            "diagnoses": _text(df, diag_col),
            "hospital_code": _text(df, ck.first_of("hospital_code")),
            "hospital_tier": _text(df, ck.first_of("hospital_tier")),
            "medfee_fen": amount("medfee_fen", "medfee_sumamt_fen"),
            "fund_paid_fen": amount("fund_paid_fen"),
        }
    )
    remaining = pl.DataFrame({"claim_id": claim_id, **{c: amount(r) for c, r in zip(_CATS, _REM, strict=True)}})
    detail = (
        ck.cast("line_detail", pl.Boolean, "true or false").fill_null(True)
        if "line_detail" in df.columns
        else pl.Series([True] * df.height)
    )
    remaining = remaining.with_columns(detail.alias("_detail"))
    ck.fail("bad claims file")
    return claims.cast(CLAIM_SCHEMA), remaining  # type: ignore[arg-type]


def _lines(path: Path, claim_ids: pl.Series) -> tuple[pl.DataFrame, bool]:
    df, csv = _read_raw(path)
    ck = _Checker(path, df, csv)
    cid = ck.first_of("claim_id", "settlement_id")
    if cid is None:
        ck.violations.append(FieldViolation(f"{path.name}: claim_id", "required column missing (or settlement_id)"))
    ck.require("feedetl_sn", "amount_fen")
    ck.fail("bad lines file")
    assert cid is not None
    claim_id = ck.nonempty(cid).alias("claim_id")
    unknown = (claim_id.is_not_null() & ~claim_id.is_in(claim_ids.implode())).arg_true()
    for i in unknown.head(_MAX_VIOLATIONS).to_list():
        ck.add(i, cid, f"{claim_id[i]!r} is not in the claims file")
    per_line = all(r in df.columns for r in _REM)
    out: dict[str, pl.Series] = {
        "claim_id": claim_id,
        "line_sn": ck.nonempty("feedetl_sn").alias("line_sn"),
        "name": _text(df, ck.first_of("name")),
        "national_code": _text(df, ck.first_of("national_code")),
        "cidl_no": ck.cast("cidl_no", pl.Int64, "a CIDL entry number", min_value=1)
        if "cidl_no" in df.columns
        else pl.Series([None] * df.height, dtype=pl.Int64),
        "charge_category": _text(df, ck.first_of("charge_category")),
        "chrgitm_lv": _text(df, ck.first_of("chrgitm_lv")),
        "in_catalog": ck.cast("in_catalog", pl.Boolean, "true or false").fill_null(False)
        if "in_catalog" in df.columns
        else pl.Series([False] * df.height),
        "amount_fen": ck.cast("amount_fen", pl.Int64, "integer fen", min_value=0).fill_null(0),
        "fund_fen": ck.cast("fund_fen", pl.Int64, "integer fen", min_value=0).fill_null(0)
        if "fund_fen" in df.columns
        else pl.Series([0] * df.height, dtype=pl.Int64),
    }
    if per_line:
        for c, r in zip(_CATS, _REM, strict=True):
            out[c] = ck.cast(r, pl.Int64, "integer fen", min_value=0).fill_null(0)
    for i in (out["fund_fen"] > out["amount_fen"]).arg_true().head(_MAX_VIOLATIONS).to_list():
        ck.add(i, "fund_fen", "larger than amount_fen")
    ck.fail("bad lines file")
    return pl.DataFrame(out).with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64)), per_line


def _cells(
    claims: pl.DataFrame, remaining: pl.DataFrame, lines: pl.DataFrame | None, per_line: bool, path: Path
) -> pl.DataFrame:
    order = claims.select("claim_id").with_row_index("_claim")
    cat_pos = pl.DataFrame(
        {"category": _CATS, "_cat": list(range(len(_CATS)))}, schema={"category": pl.String, "_cat": pl.Int64}
    )
    totals_long = remaining.unpivot(
        index=["claim_id", "_detail"], on=_CATS, variable_name="category", value_name="amount_fen"
    )
    parts: list[pl.DataFrame] = []
    with_lines = pl.Series("claim_id", [], dtype=pl.String)
    if lines is not None and lines.height:
        lines = lines.join(remaining.select("claim_id", "_detail"), on="claim_id", how="left").filter(pl.col("_detail"))
        with_lines = lines.get_column("claim_id").unique()
        if per_line:
            long = lines.drop("amount_fen", "fund_fen").unpivot(
                index=_LINE_COLS,
                on=_CATS,
                variable_name="category",
                value_name="amount_fen",
            )
        else:
            # Without per-line categories, a CIDL line's remaining liability is CIDL (never fund-payable).
            long = (
                lines.filter(pl.col("cidl_no").is_not_null())
                .with_columns(
                    pl.lit("cidl").alias("category"), (pl.col("amount_fen") - pl.col("fund_fen")).alias("amount_fen")
                )
                .select(_CELL_COLS[:-1])
            )
        long = long.filter(pl.col("amount_fen") > 0)
        sums = long.group_by("claim_id", "category").agg(pl.col("amount_fen").sum().alias("_lines"))
        residual = (
            totals_long.filter(pl.col("claim_id").is_in(with_lines.implode()))
            .join(sums, on=["claim_id", "category"], how="left")
            .with_columns((pl.col("amount_fen") - pl.col("_lines").fill_null(0)).alias("amount_fen"))
        )
        over = residual.filter(pl.col("amount_fen") < 0)
        if over.height:
            raise InvalidRequest(
                "lines exceed their claims",
                violations=tuple(
                    FieldViolation(
                        f"{lines_path_for(path).name}: claim {r['claim_id']}",
                        f"lines carry {r['_lines']} fen of {r['category']}, the claim's remaining_{r['category']}_fen is {r['_lines'] + r['amount_fen']}",
                    )
                    for r in over.head(_MAX_VIOLATIONS).iter_rows(named=True)
                ),
            )
        residual = residual.filter(pl.col("amount_fen") > 0).with_columns(*_no_line(2**62, _RESIDUAL_SN))
        cols = _CELL_COLS[:-1]
        parts.append(pl.concat([long.select(cols), residual.select(cols)]).with_columns(pl.lit(True).alias("detail")))
    totals = totals_long.filter(
        ~pl.col("claim_id").is_in(with_lines.implode()) & (pl.col("amount_fen") > 0)
    ).with_columns(*_no_line(0, ""), pl.lit(False).alias("detail"))
    cells = pl.concat([*(p.select(_CELL_COLS) for p in parts), totals.select(_CELL_COLS)])
    cells = (
        cells.join(order, on="claim_id", how="left")
        .join(cat_pos, on="category", how="left")
        .sort(["_claim", "_row", "_cat"])
        .with_columns(pl.int_range(pl.len()).over("_claim").cast(pl.Int64).alias("cell"))
    )
    return cells.select(list(CELL_SCHEMA)).cast(CELL_SCHEMA)  # type: ignore[arg-type]


def read_population(
    claims: Path, members: Path, lines: Path | None = None, *, progress: Callable[[str, int, int], None] | None = None
) -> Population:
    """Read and check a population (see ``docs/simulator.md`` for the columns).

    Args:
        claims: The claims file (``.csv`` or ``.parquet``); the gateway export's ``*.claims.*`` as is.
        members: The members file.
        lines: The lines file; default: beside the claims file (:func:`lines_path_for`), optional.
        progress: Called after each of the four steps (members, claims, lines, cells) as
            ``progress("read population", 1, 4)`` (one more step done of four).

    Raises:
        InvalidRequest: a missing file or column, or values naming file, line and column.
    """

    def step() -> None:
        if progress is not None:
            progress("read population", 1, 4)

    m = _members(members)
    step()
    c, remaining = _claims(claims, m)
    step()
    if "age" not in m.columns:
        first = c.get_column("admission_date").min()
        year = first.year if first is not None else 2026  # type: ignore[union-attr]
        m = m.with_columns((year - pl.col("birth_year")).alias("age")).drop("birth_year")
    lpath = lines if lines is not None else lines_path_for(claims)
    line_df, per_line = (None, False)
    if lines is not None or lpath.is_file():
        line_df, per_line = _lines(lpath, c.get_column("claim_id"))
    step()
    cells = _cells(c, remaining, line_df, per_line, claims)
    step()
    return Population(m.select(list(MEMBER_SCHEMA)).cast(MEMBER_SCHEMA), c, cells).sorted()  # type: ignore[arg-type]


def write_population(
    pop: Population, out_dir: Path, *, stem: str = "population", fmt: str = "csv"
) -> tuple[Path, Path, Path]:
    """Write a population as members, claims and lines files that :func:`read_population` reads back equal.

    Lines carry their per-category remaining liability (``remaining_<category>_fen``), so a line's
    cells survive the round trip exactly; a claim without line detail has ``line_detail`` false.

    Returns:
        The members, claims and lines paths.
    """
    if fmt not in ("csv", "parquet"):
        raise InvalidRequest("unsupported format", violations=(FieldViolation("fmt", "csv or parquet"),))
    out_dir.mkdir(parents=True, exist_ok=True)
    cells = pop.cells
    rem = (
        cells.group_by("claim_id", "category")
        .agg(pl.col("amount_fen").sum())
        .pivot(on="category", index="claim_id", values="amount_fen")
    )
    for c in _CATS:
        if c not in rem.columns:
            rem = rem.with_columns(pl.lit(0, dtype=pl.Int64).alias(c))
    rem = rem.select("claim_id", *(pl.col(c).fill_null(0).alias(r) for c, r in zip(_CATS, _REM, strict=True)))
    detail = cells.group_by("claim_id").agg(pl.col("detail").first().alias("line_detail"))
    claims = (
        pop.claims.join(rem, on="claim_id", how="left")
        .join(detail, on="claim_id", how="left")
        .with_columns(*(pl.col(r).fill_null(0) for r in _REM), pl.col("line_detail").fill_null(False))
    )
    d = cells.filter(pl.col("detail"))
    lines = (
        d.with_columns(pl.col("cell").min().over("claim_id", "line_sn").alias("_first"))
        .pivot(
            on="category",
            index=["claim_id", "line_sn", "_first", *_LINE_FIELDS],
            values="amount_fen",
        )
        .sort("claim_id", "_first")
    )
    for c in _CATS:
        if c not in lines.columns:
            lines = lines.with_columns(pl.lit(0, dtype=pl.Int64).alias(c))
    lines = lines.select(
        "claim_id",
        pl.col("line_sn").alias("feedetl_sn"),
        *_LINE_FIELDS,
        sum((pl.col(c).fill_null(0) for c in _CATS), pl.lit(0, dtype=pl.Int64)).alias("amount_fen"),
        *(pl.col(c).fill_null(0).alias(r) for c, r in zip(_CATS, _REM, strict=True)),
    )
    paths = tuple(out_dir / f"{stem}.{part}.{fmt}" for part in ("members", "claims", "lines"))
    tmp = [p.with_name(f".{p.name}.tmp") for p in paths]
    try:
        for frame, path in zip((pop.members, claims, lines), tmp, strict=True):
            if fmt == "csv":
                frame.write_csv(path)
            else:
                frame.write_parquet(path)
        for a, b in zip(tmp, paths, strict=True):
            a.replace(b)
    finally:
        for t in tmp:
            t.unlink(missing_ok=True)
    return paths[0], paths[1], paths[2]
