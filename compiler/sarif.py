"""Lint results as SARIF 2.1.0, the format GitHub code scanning and other SARIF viewers read."""
from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from .codes import CODES, DOCS_URL, HOME_URL, Code, anchor
from .diagnostics import Diagnostic
from .pipeline import Result

SRCROOT = "%SRCROOT%"  # the uriBaseId code scanning resolves to the repository's root
# Our own fingerprint, not GitHub's primaryLocationLineHash (GitHub computes that one itself
# when it has the source; uploads through the API do not, so they need one of ours).
FINGERPRINT = "ivrcFindingHash/v1"


def source_root(start: str | None = None) -> str:
    """The repository the paths are relative to: the nearest folder up from start holding .git,
    else start itself (the current folder by default)."""
    here = os.path.abspath(start or os.getcwd())
    folder = here
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return here
        folder = parent


def artifact(file: str, root: str) -> dict:
    """A repository-relative URI with uriBaseId when the file is inside root, else an absolute file URI."""
    path = Path(os.path.abspath(file))
    try:
        relative = path.relative_to(root)
    except ValueError:
        return {"uri": path.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}


def rule(code: Code) -> dict:
    """A rule with its documentation: a link (helpUri) and the same text as markdown."""
    url = f"{DOCS_URL}#{anchor(code)}"
    markdown = (f"**{code.code} {code.name}** ({code.severity})\n\n{code.summary}\n\n**Why it matters.** {code.why}"
                f"\n\n**Example:**\n\n```yaml\n{code.example.rstrip()}\n```\n\n**Fix.** {code.fix}\n\n"
                f"```yaml\n{code.fixed.rstrip()}\n```\n\n[Documentation]({url})")
    return {
        "id": code.code,
        "name": code.name,
        "shortDescription": {"text": code.summary},
        "fullDescription": {"text": code.why},
        "helpUri": url,
        "help": {"text": f"{code.fix} See {url}", "markdown": markdown},
        "defaultConfiguration": {"level": code.severity},
    }


def _line(result: Result, line: int) -> str:
    text = result.document.text if result.document is not None else result.text
    lines = (text or "").splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def document(results: list[Result], version: str, root: str | None = None) -> dict:
    root = os.path.abspath(root) if root else source_root()
    found = [(r, d) for r in results for d in sorted(r.diagnostics, key=Diagnostic.sort_key)]
    codes = sorted({d.code for _, d in found})
    index = {code: i for i, code in enumerate(codes)}

    def location(span, message=None):
        out = {"physicalLocation": {
            "artifactLocation": artifact(span.file, root),
            "region": {"startLine": span.line, "startColumn": span.column,
                       "endLine": span.end_line or span.line, "endColumn": span.end_column or span.column}}}
        if message:
            out["message"] = {"text": message}
        return out

    seen: Counter = Counter()
    sarif_results = []
    for result, d in found:
        # The finding, not its line number: the code, the file and the text of the line, so an
        # alert survives lines added above it, and two identical findings stay two.
        where = artifact(d.span.file, root)["uri"]
        key = (d.code, where, _line(result, d.span.line).strip(), d.message)
        seen[key] += 1
        digest = hashlib.sha256("\0".join(key).encode("utf-8")).hexdigest()[:32]
        item = {"ruleId": d.code, "ruleIndex": index[d.code], "level": d.severity.value,
                "message": {"text": d.message + (f" ({d.help})" if d.help else "")},
                "locations": [location(d.span)],
                "partialFingerprints": {FINGERPRINT: f"{digest}:{seen[key]}"}}
        if d.related:
            item["relatedLocations"] = [dict(location(r.span, r.message), id=i) for i, r in enumerate(d.related)]
        sarif_results.append(item)
    root_uri = Path(root).as_uri().rstrip("/") + "/"  # a base URI ends in a slash
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "ivrc", "version": version, "informationUri": HOME_URL,
                                      "rules": [rule(CODES[code]) for code in codes]}},
                  "originalUriBaseIds": {SRCROOT: {"uri": root_uri}},
                  "results": sarif_results}],
    }
