"""The independent X12 validator the billing tests run: pyx12 (pinned in pyproject.toml),
its maps for 005010X222A1 (837P) and 005010X221A1 (835). Returns pyx12's error
messages; an empty list means the file validates."""

import io
import json
import logging

import pyx12.params
import pyx12.x12n_document


def _errors(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "errors" and value:
                found.extend(f"{e.get('err_cde')}: {e.get('err_str')}" for e in value)
            else:
                _errors(value, found)
    elif isinstance(node, list):
        for value in node:
            _errors(value, found)
    return found


def validate(content: str) -> list[str]:
    """pyx12's errors for an X12 text (its map chosen by GS08), [] when valid."""
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    report = io.StringIO()
    valid = pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(),
        src_file=io.StringIO(content),
        fd_997=None,
        fd_html=None,
        fd_json=report,
    )
    errors = _errors(json.loads(report.getvalue() or "{}"), [])
    if not valid and not errors:
        errors.append("pyx12 rejected the file without a message")
    return errors
