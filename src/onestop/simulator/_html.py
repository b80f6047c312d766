"""A static HTML report with inline SVG charts: one file, no script, no server, no network.

Amounts are shown in yuan (formatted from integer fen with integer arithmetic); chart geometry is
the only place a float appears, and it never feeds back into a figure.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

__all__ = ["render_html", "yuan"]

_PALETTE = ("#2b6cb0", "#dd6b20", "#2f855a", "#9b2c2c", "#6b46c1", "#b7791f", "#2c7a7b", "#97266d")
_W = 760


def yuan(fen: int) -> str:
    """Integer fen as yuan text with thousands separators, e.g. ``1,234.50``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def _wan(fen: int) -> str:
    whole, rest = divmod(abs(int(fen)), 1_000_000)
    return f"{'-' if fen < 0 else ''}{whole:,}.{rest // 10_000:02d}万"


def _legend(codes: list[str], y: float) -> str:
    parts = []
    for i, code in enumerate(codes):
        x = 10 + i * 190
        parts.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{_PALETTE[i % len(_PALETTE)]}"/>'
            f'<text x="{x + 18}" y="{y + 11}" font-size="12">{escape(code)}</text>'
        )
    return "".join(parts)


def _grouped_bars(chart: str, title: str, groups: list[tuple[str, list[int]]], codes: list[str], label: Any) -> str:
    """Horizontal bars: one group per label, one bar per design."""
    bar, gap = 14, 10
    n = max(1, len(codes))
    top = 40
    height = top + len(groups) * (n * bar + gap) + 40
    peak = max([v for _, vs in groups for v in vs] + [1])
    left, right = 200, 140
    scale = (_W - left - right) / peak
    out = [
        (
            f'<svg class="chart" data-chart="{chart}" xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" '
            f'viewBox="0 0 {_W} {height}" role="img" aria-label="{escape(title)}">'
        ),
        f'<text x="10" y="20" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    y = float(top)
    for name, values in groups:
        out.append(
            f'<text x="{left - 8}" y="{y + n * bar / 2 + 4}" font-size="12" text-anchor="end">{escape(name)}</text>'
        )
        for i, v in enumerate(values):
            w = max(0.0, v * scale)
            color = _PALETTE[i % len(_PALETTE)]
            out.append(f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{bar - 2}" fill="{color}"/>')
            out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 4}" font-size="11">{escape(label(v))}</text>')
            y += bar
        y += gap
    out.append(_legend(codes, y + 8))
    out.append("</svg>")
    return "".join(out)


def _distribution(summaries: list[dict[str, Any]]) -> str:
    """Member payout percentiles per design on a log scale (a line per design)."""
    keys = ["p50", "p90", "p99", "p99_9", "max"]
    height, left, top, bottom = 300, 70, 40, 50
    plot_w, plot_h = _W - left - 30, height - top - bottom
    peak = max([s["member_payout"][k] for s in summaries for k in keys] + [100])
    decades = max(1, math.ceil(math.log10(peak)))

    def ypos(v: int) -> float:
        return top + plot_h - (math.log10(v + 1) / decades) * plot_h

    out = [
        (
            f'<svg class="chart" data-chart="distribution" xmlns="http://www.w3.org/2000/svg" width="{_W}" '
            f'height="{height + 20}" viewBox="0 0 {_W} {height + 20}" role="img" aria-label="payout per member">'
        ),
        '<text x="10" y="20" font-size="15" font-weight="bold">Payout per enrolled member (percentiles, log scale)</text>',
    ]
    for d in range(0, decades + 1, max(1, decades // 6)):
        y = ypos(10**d - 1)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{yuan(10**d)}</text>')
    step = plot_w / (len(keys) - 1)
    for i, k in enumerate(keys):
        out.append(
            f'<text x="{left + i * step:.1f}" y="{top + plot_h + 18}" font-size="12" text-anchor="middle">{k}</text>'
        )
    for si, s in enumerate(summaries):
        color = _PALETTE[si % len(_PALETTE)]
        pts = [(left + i * step, ypos(s["member_payout"][k])) for i, k in enumerate(keys)]
        out.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            + '"/>'
        )
        for x, y in pts:
            out.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')
    out.append(_legend([s["code"] for s in summaries], height))
    out.append("</svg>")
    return "".join(out)


_EXAMPLE_MARK = " (example)"


def _premium_is_example(s: dict[str, Any]) -> bool:
    return "premium_fen" in s.get("example_values", ())


def _if_example(s: dict[str, Any], text: str) -> str:
    """A premium-derived figure, marked when the design's premium is an example value."""
    return text + _EXAMPLE_MARK if _premium_is_example(s) else text


def _table(summaries: list[dict[str, Any]]) -> str:
    rows: list[tuple[str, list[str]]] = [
        ("enrolled members", [f"{s['enrolled_members']:,}" for s in summaries]),
        ("premium per member (元)", [_if_example(s, yuan(s["premium_per_member_fen"])) for s in summaries]),
        ("premium income (元)", [_if_example(s, yuan(s["premium_fen"])) for s in summaries]),
        ("payout (元)", [yuan(s["payout_fen"]) for s in summaries]),
        ("loss ratio", [_if_example(s, s["loss_ratio"]) if s["loss_ratio"] is not None else "—" for s in summaries]),
        ("break-even premium (元)", [yuan(s["break_even_premium_fen"]) for s in summaries]),
        ("claims paid", [f"{s['claims_paid']:,}" for s in summaries]),
        ("members paid", [f"{s['member_payout']['members_paid']:,}" for s in summaries]),
        ("share reaching a deductible", [s["member_payout"]["share_reaching_deductible"] for s in summaries]),
        ("top 1 % of members' share of payout", [s["member_payout"]["top_1pct_share"] for s in summaries]),
        ("CAR-T paid (元)", [yuan(s["car_t"]["paid_fen"]) for s in summaries]),
        ("pre-existing claims", [f"{s['pre_existing']['claims']:,}" for s in summaries]),
        ("paid on pre-existing claims (元)", [yuan(s["pre_existing"]["paid_fen"]) for s in summaries]),
        (
            "saving from the pre-existing ratio (元)",
            [yuan(s["pre_existing"].get("saving_fen", 0)) for s in summaries],
        ),
    ]
    head = "".join(f"<th>{escape(s['code'])}<br><small>{escape(s['name'])}</small></th>" for s in summaries)
    body = "".join(
        f"<tr><th>{escape(name)}</th>" + "".join(f"<td>{escape(v)}</td>" for v in vals) + "</tr>" for name, vals in rows
    )
    return f'<table class="compare"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(summary: dict[str, Any]) -> str:
    """The report page for a simulation summary (see :func:`onestop.simulator.simulate`)."""
    designs: list[dict[str, Any]] = summary["designs"]
    codes = [s["code"] for s in designs]
    lia_ids: list[str] = []
    for s in designs:
        for lia in s["liabilities"]:
            if lia["id"] not in lia_ids:
                lia_ids.append(lia["id"])

    def paid_of(s: dict[str, Any], lid: str) -> int:
        return sum(x["paid_fen"] for x in s["liabilities"] if x["id"] == lid)

    charts = [
        _grouped_bars(
            "liabilities",
            "Payout per liability",
            [(lid, [paid_of(s, lid) for s in designs]) for lid in lia_ids],
            codes,
            _wan,
        ),
        _grouped_bars(
            "premium",
            "Premium income vs payout",
            [("premium", [s["premium_fen"] for s in designs]), ("payout", [s["payout_fen"] for s in designs])],
            codes,
            _wan,
        ),
        _distribution(designs),
    ]
    cidl_nos = sorted({c["cidl_no"] for s in designs for c in s["cidl"]})
    if cidl_nos:
        names = {c["cidl_no"]: c["name"] for s in designs for c in s["cidl"]}

        def cidl_paid(s: dict[str, Any], no: int) -> int:
            return sum(c["paid_fen"] for c in s["cidl"] if c["cidl_no"] == no)

        charts.append(
            _grouped_bars(
                "cidl",
                "Cost of each CIDL drug (paid by the product)",
                [(f"{no} {names.get(no, '')}", [cidl_paid(s, no) for s in designs]) for no in cidl_nos],
                codes,
                _wan,
            )
        )
    sources = "".join(
        f"<li><b>{escape(s['code'])}</b>: {escape(str(s.get('source', '')))}"
        + (
            f" — example values, not sourced figures: {escape(', '.join(s['example_values']))}"
            if s.get("example_values")
            else ""
        )
        + "</li>"
        for s in designs
    )
    pop = summary.get("population", {})
    assumptions = "".join(
        f"<li><code>{escape(str(k))}</code>: {escape(str(v))}</li>" for k, v in summary.get("assumptions", {}).items()
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>onestop coverage simulation</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; margin: 24px; color: #1a202c; }}
table.compare {{ border-collapse: collapse; margin: 16px 0; }}
table.compare th, table.compare td {{ border: 1px solid #cbd5e0; padding: 4px 10px; text-align: right; }}
table.compare tbody th {{ text-align: left; font-weight: normal; background: #f7fafc; }}
svg.chart {{ display: block; margin: 18px 0; background: #fff; border: 1px solid #e2e8f0; }}
.note {{ color: #4a5568; font-size: 13px; }}
</style></head><body>
<h1>Coverage simulation</h1>
<p class="note">Mode <b>{escape(str(summary.get("mode", "")))}</b>; population: {escape(str(pop.get("source", "")))},
{pop.get("members", 0):,} members, {pop.get("claims", 0):,} claims. Amounts in yuan (元), computed to the fen.</p>
{_table(designs)}
{"".join(charts)}
<h2>Sources of the designs</h2><ul class="note">{sources}</ul>
<p class="note">A figure marked (example) derives from an example value of its design, not from a sourced one.</p>
<h2>Assumptions</h2><ul class="note">{assumptions or "<li>population from files</li>"}</ul>
</body></html>
"""
