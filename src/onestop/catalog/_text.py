"""Text normalisation for matching: NFKC, no spaces, product-form words stripped for generic keys.

Catalog text mixes full- and half-width punctuation, Roman-numeral code points (Ⅲ) and, in one real
备注, the Kangxi radical ⼉ (U+2F09) for 儿. NFKC folds all of these, so every name, form and 备注 is
compared only after :func:`norm`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["form_class", "forms_agree", "generic_key", "norm", "norm_spec"]

_SPACES = re.compile(r"\s+")
# Product-form words that turn a generic name into a product name (longest first).
_PREFIXES = ("注射用",)
_SUFFIXES = (
    "口服混悬液",
    "口服溶液",
    "缓释胶囊",
    "缓释片",
    "肠溶胶囊",
    "肠溶片",
    "分散片",
    "咀嚼片",
    "口崩片",
    "滴眼液",
    "注射液",
    "软胶囊",
    "胶囊",
    "颗粒",
    "片",
)
_TRAILING_GROUP = re.compile(r"^(.*?)((?:\([^()]*\))*)$")


@lru_cache(maxsize=65536)
def norm(text: str) -> str:
    """NFKC-normalise and remove all whitespace (``"二甲双胍（Ⅲ）" -> "二甲双胍(III)"``)."""
    out = text
    for _ in range(3):  # removing a space can let NFKC compose again (e.g. "A¨" → "A ̈" → "Ä")
        nxt = _SPACES.sub("", unicodedata.normalize("NFKC", out))
        if nxt == out:
            break
        out = nxt
    return out


def norm_spec(text: str) -> str:
    """A specification for comparison: normalised and lower-cased."""
    return norm(text).lower()


@lru_cache(maxsize=65536)
def generic_key(name: str) -> str:
    """The generic-name key of a drug name: product-form words removed, trailing ``(…)`` kept.

    ``"二甲双胍恩格列净片(Ⅲ)"`` and ``"二甲双胍恩格列净(Ⅲ)"`` share the key ``"二甲双胍恩格列净(III)"``;
    ``"注射用盐酸曲拉西利"`` has the key ``"盐酸曲拉西利"``.
    """
    n = norm(name)
    m = _TRAILING_GROUP.match(n)
    base, groups = (m.group(1), m.group(2)) if m else (n, "")
    for p in _PREFIXES:
        if base.startswith(p) and len(base) > len(p):
            base = base[len(p) :]
    for s in _SUFFIXES:
        if base.endswith(s) and len(base) > len(s):
            base = base[: -len(s)]
            break
    return base + groups


def _classify(text: str) -> str:
    if "注射" in text:
        return "injection"
    if "缓释" in text or "控释" in text:
        return "sustained"
    if "口服液" in text or "口服溶液" in text or "混悬" in text or "糖浆" in text:
        return "oral_liquid"
    if "口服常释" in text or text.endswith(("片", "胶囊")) or "片(" in text or "胶囊(" in text:
        return "oral_solid"
    return ""


@lru_cache(maxsize=65536)
def form_class(form: str, name: str = "") -> str:
    """A coarse dosage-form class used to check that a form given on a line agrees with an entry.

    The form decides when it is given, else the product name's form word (``…注射液``, ``…片``).
    Returns ``"injection"``, ``"oral_solid"``, ``"oral_liquid"``, ``"sustained"``, else the
    normalised form text (``""`` when neither says anything).
    """
    f = norm(form)
    for text in (f, norm(name)):
        if text:
            cls = _classify(text)
            if cls:
                return cls
    return f


def forms_agree(a: str, b: str) -> bool:
    """True when two form classes do not contradict each other (an unknown class agrees with all)."""
    return not a or not b or a == b
