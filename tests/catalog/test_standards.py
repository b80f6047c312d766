"""Parsing the 医保支付标准 column: several specs, confidential "*", free text kept with a warning."""

from hypothesis import given
from hypothesis import strategies as st

from onestop.catalog.standards import parse_standard_text


def test_several_specs_each_become_a_standard():
    """The real 非诺贝特酸胆碱缓释胶囊 cell quotes two specs: 136 and 315 fen per 粒."""
    cell = "1.36元(45mg(按C17H15ClO4计)/粒)；3.15元(135mg(按C17H15ClO4计)/粒)"
    got, warnings = parse_standard_text(cell)
    assert [(s.amount_fen, s.spec, s.unit) for s in got] == [
        (136, "45mg(按C17H15ClO4计)", "粒"),
        (315, "135mg(按C17H15ClO4计)", "粒"),
    ]
    assert warnings == ()


def test_semicolons_inside_a_spec_do_not_split_it():
    """头孢吡肟/氯化钠 quotes a two-chamber spec with ； inside the brackets and ; between prices."""
    cell = "23.98元(粉体室:1.0g(按C19H24N6O5S2计)；液体室:100ml:0.9g/袋);30.27元(粉体室:2.0g(按C19H24N6O5S2计)；液体室:100ml:0.9g/袋)"
    got, _ = parse_standard_text(cell)
    assert [s.amount_fen for s in got] == [2398, 3027]
    assert all(s.unit == "袋" for s in got)


def test_star_is_confidential_without_a_number():
    """A "*" standard is confidential and carries no number from the public data."""
    (s,), _ = parse_standard_text("*")
    assert s.confidential
    assert s.amount_fen is None


def test_free_text_is_kept_with_a_warning():
    """The text 见备注2(…) is not guessed: kept as text, with a STANDARD_AS_TEXT warning."""
    (s,), warnings = parse_standard_text("见备注2(每粒胶囊含碘[131I]的放射性活度为37-3700MBq)")
    assert s.amount_fen is None
    assert not s.confidential
    assert warnings[0].startswith("STANDARD_AS_TEXT")


@given(
    st.lists(
        st.tuples(st.integers(min_value=1, max_value=10**8), st.from_regex(r"[0-9]{1,3}mg", fullmatch=True)),
        min_size=1,
        max_size=4,
    )
)
def test_round_trip_of_generated_price_lists(items):
    """Any list of "<yuan>元(<spec>/<unit>)" parts parses back to the same fen, specs and units."""
    cell = "；".join(f"{fen // 100}.{fen % 100:02d}元({spec}/粒)" for fen, spec in items)
    got, warnings = parse_standard_text(cell)
    assert warnings == ()
    assert [(s.amount_fen, s.spec, s.unit) for s in got] == [(fen, spec, "粒") for fen, spec in items]
