"""Text normalisation used for every name, form and 备注 comparison."""

from hypothesis import given
from hypothesis import strategies as st

from onestop.catalog._text import form_class, forms_agree, generic_key, norm


def test_kangxi_radical_folds_to_the_ordinary_character():
    """NFKC turns the Kangxi radical ⼉ (U+2F09) into 儿 (U+513F), as one real 备注 needs."""
    assert norm("预防\u2f09童") == "预防\u513f童"


def test_full_width_and_roman_numerals_fold():
    """Full-width brackets and the Roman-numeral code point Ⅲ compare equal to their ASCII spelling."""
    assert norm("二甲双胍恩格列净（Ⅲ）") == "二甲双胍恩格列净(III)"


def test_generic_key_drops_the_product_form_word_but_keeps_the_variant():
    """A product name and the generic name of a provincial list share one key; the (Ⅲ) variant stays."""
    assert generic_key("二甲双胍恩格列净片(Ⅲ)") == generic_key("二甲双胍恩格列净（Ⅲ）")
    assert generic_key("二甲双胍恩格列净片(Ⅲ)") != generic_key("二甲双胍恩格列净片(Ⅵ)")
    assert generic_key("注射用盐酸曲拉西利") == "盐酸曲拉西利"
    assert generic_key("贝那鲁肽注射液") == "贝那鲁肽"


def test_form_class_reads_the_form_or_the_name():
    """The dosage-form class comes from the form when given, else from the product name."""
    assert form_class("口服常释剂型") == "oral_solid"
    assert form_class("", "阿基仑赛注射液") == "injection"
    assert form_class("缓释控释剂型") == "sustained"
    assert not forms_agree("injection", "oral_solid")
    assert forms_agree("", "oral_solid")


@given(st.text(max_size=40))
def test_norm_is_idempotent(text):
    """Normalising twice changes nothing (so stored keys and line text meet)."""
    assert norm(norm(text)) == norm(text)
