"""ICD-10-CM codes for diagnoses, from the maintained `simple-icd-10-cm` package
(pinned in pyproject.toml; its code set is CMS's ICD-10-CM release of April 1, 2026).

A claim's diagnosis must be a billable code: a leaf of the tabular list (F10.20, not the
category F10.2). The substance-related disorders (F10-F19, ICD-10-CM chapter 5 block
"Mental and behavioral disorders due to psychoactive substance use") come first in a
search: they are what an IOP treats. The package is read on first use (its whole code
set: seconds), once per installed version; the table is then kept as JSON in the temp
directory, which a process reads in a tenth of a second (``_table``).
"""

import json
import os
import re
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path

SUBSTANCE_PREFIXES = tuple(f"F1{n}" for n in range(10))  # F10 ... F19
CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")
RELEASE = "ICD-10-CM, CMS release for fiscal year 2026, April update (simple-icd-10-cm 1.5.0)"


def _cm():
    import simple_icd_10_cm

    return simple_icd_10_cm


def normalize(text: str) -> str:
    """'f1020' or ' F10.20 ' -> 'F10.20' (the dot after the third character)."""
    code = (text or "").strip().upper().replace(".", "")
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def _cache_file() -> Path:
    version = metadata.version("simple-icd-10-cm")
    return Path(tempfile.gettempdir()) / f"iop-icd10cm-{version}.json"


def _build() -> dict:
    """Read the package's code set: every code (with the dot) and the billable ones
    with their descriptions. About two seconds: done once per installed version, then
    kept beside the process as JSON (a tenth of a second to read)."""
    cm = _cm()
    codes, leaves = [], []
    for code in cm.get_all_codes(with_dots=True):
        if "-" in code:  # a chapter or block ("F10-F19"), not a code
            continue
        codes.append(code)
        if cm.is_leaf(code):
            leaves.append((code, cm.get_description(code)))
    return {"codes": codes, "leaves": leaves}


@cache
def _table() -> dict:
    path = _cache_file()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = _build()
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            partial.write_text(json.dumps(data))
            partial.replace(path)
        except OSError:
            pass  # a read-only temp dir: build again next time
    leaves = sorted(
        (
            (code, text, f"{code} {code.replace('.', '')} {text}".lower())
            for code, text in data["leaves"]
        ),
        key=lambda r: (not r[0].startswith(SUBSTANCE_PREFIXES), r[0]),
    )
    return {
        "codes": frozenset(data["codes"]),
        "descriptions": {code: text for code, text, _ in leaves},
        "leaves": tuple(leaves),
    }


def warm() -> None:
    """Load the code set now (a worker's start, a test before a browser asks)."""
    _table()


def problem(code: str) -> str | None:
    """Why ``code`` (normalized) cannot be a diagnosis on a claim, or None."""
    if not code or len(code) > 8 or not CODE_SHAPE.match(code):
        return "An ICD-10-CM code looks like F10.20."
    table = _table()
    if code in table["descriptions"]:
        return None
    if code not in table["codes"]:
        return f"{code} is not an ICD-10-CM code ({RELEASE})."
    return f"{code} is a category: pick one of its billable codes (e.g. {first_leaf(code)})."


def first_leaf(code: str) -> str:
    return next((c for c in sorted(_table()["descriptions"]) if c.startswith(code)), code)


def description(code: str) -> str:
    return _table()["descriptions"][code]


def search(query: str = "", *, limit: int = 40) -> list[tuple[str, str]]:
    """Billable codes matching every word of ``query`` (code or description), the
    substance-use codes (F10-F19) first; with no query, the substance-use codes."""
    words = (query or "").lower().split()[:6]
    found = []
    for code, text, haystack in _table()["leaves"]:
        if not words and not code.startswith(SUBSTANCE_PREFIXES):
            break
        if all(word in haystack for word in words):
            found.append((code, text))
            if len(found) >= limit:
                break
    return found
