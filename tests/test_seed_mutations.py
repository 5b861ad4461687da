"""Mutations of the seed file turn the verdict; context decides what counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import findings, review_json, seed_path
from scrutiny.report.compose import CLEAN_VERDICT

HELPER_LINE = "    def _resize_and_assert_error(self, server, dest_host):\n"


def mutate(tmp_path: Path, imports: str, body: str, name: str = "test_bug_1825537.py") -> tuple[Path, int]:
    """The seed with extra imports and extra lines at the top of _resize_and_assert_error.

    Returns the file and the line number of the first inserted body line.
    """
    text = seed_path().read_text()
    assert HELPER_LINE in text
    text = imports + text
    head, tail = text.split(HELPER_LINE)
    first_line = head.count("\n") + 2
    path = tmp_path / name
    path.write_text(head + HELPER_LINE + body + tail)
    return path, first_line


def assert_defect(review: dict, rule_id: str, line: int, cwe: int) -> dict:
    hits = [f for f in findings(review, rule_id) if f["line"] == line]
    assert hits, f"{rule_id} not reported at line {line}: {[(f['rule_id'], f['line']) for f in review['findings']]}"
    finding = hits[0]
    assert finding["cwe"] == cwe
    assert finding["severity"] in ("low", "medium", "high")
    assert finding["fix"]
    assert review["verdict"]["text"] != CLEAN_VERDICT
    assert review["summary"]["defects"] >= 1
    return finding


def test_shell_true_on_a_parameter_built_string(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, line = mutate(
        tmp_path, "import subprocess\n", '        subprocess.run("nova-manage migrate " + dest_host, shell=True)\n'
    )
    code, review = review_json(capsys, str(path))
    assert code == 1
    finding = assert_defect(review, "SCR101", line, 78)
    # No untrusted input reaches the helper's parameter: a hint (low), with the reason.
    assert finding["severity"] == "low" and finding["default_severity"] == "high"
    assert "no untrusted input was traced" in finding["context_note"]


def test_yaml_load_without_safe_loader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, line = mutate(tmp_path, "import yaml\n", "        spec = yaml.load(server['fault']['details'])\n")
    code, review = review_json(capsys, str(path))
    assert code == 1
    assert_defect(review, "SCR203", line, 502)


def test_requests_without_tls_verification(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, line = mutate(
        tmp_path, "import requests\n", "        requests.get(server['links'][0]['href'], verify=False)\n"
    )
    code, review = review_json(capsys, str(path))
    assert code == 1
    assert_defect(review, "SCR303", line, 295)


def test_token_written_to_a_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, line = mutate(
        tmp_path,
        "import logging\nLOG = logging.getLogger(__name__)\n",
        "        LOG.info('resizing with token %s', self.api.auth_token)\n",
    )
    code, review = review_json(capsys, str(path))
    assert code == 1
    assert_defect(review, "SCR701", line, 532)


PASSWORD_LINE = 'ADMIN_PASSWORD = "Zk8#qLr2vX"\n'


def test_hard_coded_password_is_a_note_in_the_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = mutate(tmp_path, PASSWORD_LINE, "")
    code, review = review_json(capsys, str(path))
    (password,) = findings(review, "SCR401")
    assert password["line"] == 1 and password["severity"] == "info"
    assert code == 0 and review["verdict"]["text"] == CLEAN_VERDICT


def test_hard_coded_password_in_a_production_module(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = tmp_path / "nova" / "compute"
    module.mkdir(parents=True)
    (module / "__init__.py").write_text("")
    (module / "credentials.py").write_text('"""Service credentials."""\n\n' + PASSWORD_LINE)
    code, review = review_json(capsys, str(module / "credentials.py"))
    assert review["files"][0]["kind"] == "production"
    assert code == 1
    # Only the name says it is a password: a defect to check, at low.
    finding = assert_defect(review, "SCR401", 3, 259)
    assert finding["severity"] == "low" and "only its name says" in finding["message"]
    # Given to a call as its password, the code shows what it is: medium.
    (module / "credentials.py").write_text(
        '"""Service credentials."""\n\n' + PASSWORD_LINE + "\n\ndef open_db(connect):\n"
        "    return connect(user='nova', password=ADMIN_PASSWORD)\n"
    )
    code, review = review_json(capsys, str(module / "credentials.py"))
    finding = assert_defect(review, "SCR401", 3, 259)
    assert finding["severity"] == "medium" and finding["context_note"] == ""


def test_same_host_literal_is_reported_in_production_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = tmp_path / "nova" / "scheduler"
    module.mkdir(parents=True)
    (module / "__init__.py").write_text("")
    (module / "pinning.py").write_text(
        "def pick_destination(api, server):\n    return api.post_server_action(server['id'], {'host': 'host2'})\n"
    )
    code, review = review_json(capsys, str(module / "pinning.py"))
    (host,) = findings(review, "SCR402")
    assert host["line"] == 2 and host["severity"] == "low" and host["context_note"] == ""
    assert code == 1
