"""SARIF 2.1.0 for code scanning: each finding annotates the YAML line that defines it."""
from __future__ import annotations

from pathlib import Path

from accord import __version__
from accord.findings import Finding

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def to_sarif(findings: list[Finding], uri_prefix: str = "") -> dict:
    """`uri_prefix` is the project folder relative to the repository root ('' when they are the same)."""
    codes = sorted({f.code for f in findings})
    rules = [{"id": c, "name": c, "shortDescription": {"text": c.replace("-", " ")},
              "helpUri": "https://github.com/accord-metrics/accord#findings"} for c in codes]
    results = []
    for f in findings:
        result = {
            "ruleId": f.code,
            "ruleIndex": codes.index(f.code),
            "level": _LEVEL[f.severity],
            "message": {"text": f.title + (f" (owner: {f.owner})" if f.owner else "")},
            "properties": {"metrics": list(f.metrics), "teams": list(f.teams), "owner": f.owner,
                           "evidence": f.evidence},
        }
        if f.location and f.location.file:
            uri = (Path(uri_prefix) / f.location.file).as_posix() if uri_prefix else f.location.file
            region = {"startLine": max(f.location.line, 1)}
            result["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": uri},
                                                         "region": region}}]
        if f.accepted:
            result["suppressions"] = [{"kind": "external", "status": "accepted",
                                       "justification": f"{f.accepted['reason']} (owner {f.accepted['owner']}, "
                                                        f"until {f.accepted['until']})"}]
        results.append(result)
    return {"$schema": SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "accord", "version": __version__,
                                          "informationUri": "https://github.com/accord-metrics/accord",
                                          "rules": rules}},
                      "results": results}]}
