"""`ivrc lint --format sarif` checked against the OASIS SARIF 2.1.0 JSON Schema (tests/support/vendor/),
and the parts GitHub code scanning relies on: fingerprints, rule help, repository-relative URIs."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from ivrctest import EXAMPLES, REPO
from reportschemas import validate_sarif

from ivrc.compiler.codes import CODES, anchor

BROKEN = REPO / "tests" / "flows" / "broken"


def _sarif(ivrc, *paths) -> dict:
    run = ivrc("lint", "--format", "sarif", *paths)
    return json.loads(run.out)


def test_the_schema_rejects_a_malformed_report() -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate_sarif({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "ivrc"}},
                                                      "results": [{"message": {"text": "x"}, "level": "fatal"}]}]})


@pytest.mark.parametrize("path", sorted(p.name for p in BROKEN.iterdir()))
def test_every_broken_flow_gives_valid_sarif(path: str, ivrc) -> None:
    validate_sarif(_sarif(ivrc, f"tests/flows/broken/{path}"))


def test_paths_are_relative_to_the_repository_with_a_base_id(ivrc) -> None:
    report = _sarif(ivrc, "./tests/flows/broken/IVR020-unknown-state-in-menu.yaml")
    validate_sarif(report)
    run = report["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": REPO.as_uri() + "/"}}
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "tests/flows/broken/IVR020-unknown-state-in-menu.yaml", "uriBaseId": "%SRCROOT%"}
    absolute = _sarif(ivrc, BROKEN / "IVR020-unknown-state-in-menu.yaml")
    assert absolute["runs"][0]["results"][0]["locations"] == run["results"][0]["locations"]


def test_every_rule_links_its_documentation(ivrc) -> None:
    rules = _sarif(ivrc, "tests/flows/broken")["runs"][0]["tool"]["driver"]["rules"]
    assert len(rules) > 20
    for rule in rules:
        code = CODES[rule["id"]]
        assert rule["helpUri"].endswith("#" + anchor(code))
        assert rule["helpUri"] in rule["help"]["markdown"]
        assert code.fix in rule["help"]["markdown"] and code.example.strip() in rule["help"]["markdown"]


def test_fingerprints_survive_lines_added_above_and_tell_findings_apart(tmp_path: Path, ivrc) -> None:
    flow = tmp_path / "flow.yaml"
    shutil.copy2(BROKEN / "IVR020-unknown-state-in-menu.yaml", flow)
    before = _sarif(ivrc, flow)["runs"][0]["results"]
    flow.write_text("# a new comment\n# and another\n" + flow.read_text())
    after = _sarif(ivrc, flow)["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] == [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] + 2 for r in before]
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]
    prints = [next(iter(r["partialFingerprints"].values())) for r in before]
    assert len(set(prints)) == len(prints)


def test_a_clean_example_gives_valid_sarif_with_no_results(ivrc) -> None:
    report = _sarif(ivrc, EXAMPLES)
    validate_sarif(report)
    assert report["runs"][0]["results"] == []
