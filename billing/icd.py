"""ICD-10-CM codes for diagnoses, from the maintained `simple-icd-10-cm` package
(pinned in pyproject.toml; its code set is CMS's ICD-10-CM release of April 1, 2026).

A claim's diagnosis must be a billable code: a leaf of the tabular list (F10.20, not the
category F10.2). The substance-related disorders (F10-F19, ICD-10-CM chapter 5 block
"Mental and behavioral disorders due to psychoactive substance use") come first in a
search: they are what an IOP treats. The package is loaded on first use (it reads the
whole code set, about a second), not when the app starts.
"""

import re
from functools import cache

SUBSTANCE_PREFIXES = tuple(f"F1{n}" for n in range(10))  # F10 ... F19
CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")
RELEASE = "ICD-10-CM, April 1, 2026 release (simple-icd-10-cm 1.5.0)"


def _cm():
    import simple_icd_10_cm

    return simple_icd_10_cm


def normalize(text: str) -> str:
    """'f1020' or ' F10.20 ' -> 'F10.20' (the dot after the third character)."""
    code = (text or "").strip().upper().replace(".", "")
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def problem(code: str) -> str | None:
    """Why ``code`` (normalized) cannot be a diagnosis on a claim, or None."""
    if not code or len(code) > 8 or not CODE_SHAPE.match(code):
        return "An ICD-10-CM code looks like F10.20."
    cm = _cm()
    if not cm.is_valid_item(code):
        return f"{code} is not an ICD-10-CM code ({RELEASE})."
    if not cm.is_leaf(code):
        return f"{code} is a category: pick one of its billable codes (e.g. {first_leaf(code)})."
    return None


def first_leaf(code: str) -> str:
    cm = _cm()
    leaves = [c for c in cm.get_descendants(code) if cm.is_leaf(c)]
    return cm.add_dot(leaves[0]) if leaves else code


def description(code: str) -> str:
    return _cm().get_description(code)


@cache
def _leaves() -> tuple[tuple[str, str, str], ...]:
    """Every billable code: (code with the dot, description, its lowercase search text),
    substance-use codes first, then in code order."""
    cm = _cm()
    rows = []
    for code in cm.get_all_codes(with_dots=True):
        if "." not in code and len(code) > 3:
            continue
        if cm.is_leaf(code) and not cm.is_chapter_or_block(code):
            text = cm.get_description(code)
            rows.append((code, text, f"{code} {code.replace('.', '')} {text}".lower()))
    rows.sort(key=lambda r: (not r[0].startswith(SUBSTANCE_PREFIXES), r[0]))
    return tuple(rows)


def search(query: str = "", *, limit: int = 40) -> list[tuple[str, str]]:
    """Billable codes matching every word of ``query`` (code or description), the
    substance-use codes (F10-F19) first; with no query, the substance-use codes."""
    words = (query or "").lower().split()[:6]
    found = []
    for code, text, haystack in _leaves():
        if not words and not code.startswith(SUBSTANCE_PREFIXES):
            break
        if all(word in haystack for word in words):
            found.append((code, text))
            if len(found) >= limit:
                break
    return found
