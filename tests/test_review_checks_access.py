"""Review-level checks: authorization, leakage and tokens, as a reviewer reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import aspect, citations, findings, review_json, seed_path

CONTROLLER = """\
from nova.api.openstack import wsgi
from nova.policies import servers as policies


class ServersController(wsgi.Controller):
    @wsgi.expected_errors(404)
    def show(self, req, id):
        context = req.environ["nova.context"]
        server = self.api.get(context, id)
        context.can(policies.SHOW, target={"project_id": server.project_id})
        return {"server": server}

    @wsgi.expected_errors(404)
    def lock(self, req, id, body):
        context = req.environ["nova.context"]
        server = self.api.get(context, id)
        context.can(policies.LOCK, target={"project_id": server.project_id})
        self.api.lock(context, server)

    @wsgi.expected_errors(404)
    def delete(self, req, id):
        context = req.environ["nova.context"]
        self.api.delete(context, id)
"""


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / "service" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return str(path)


def test_missing_check_names_the_sibling_idiom_and_where_to_copy_it(tmp_path, capsys) -> None:
    code, review = review_json(capsys, _write(tmp_path, "servers.py", CONTROLLER))
    (missing,) = findings(review, "SCR930")
    assert code == 1
    assert missing["line"] == 21 and missing["cwe"] == 862 and missing["severity"] == "high"
    assert "2 of 2 sibling handlers check with context.can" in missing["message"]
    assert "ServersController.show does at line 10" in missing["fix"]


def test_input_validation_aspect_says_which_handlers_check(tmp_path, capsys) -> None:
    _, review = review_json(capsys, _write(tmp_path, "servers.py", CONTROLLER))
    texts = [s["text"] for s in aspect(review, "input-validation")["statements"]]
    assert any(t.startswith("2 of 3 request handler(s) check authorization (context.can 2x)") for t in texts)
    assert citations(review, "input-validation", "authorization-check") == [(10, 10), (17, 17)]


def test_fixing_the_handler_clears_the_finding(tmp_path, capsys) -> None:
    fixed = CONTROLLER.replace(
        "        self.api.delete(context, id)\n",
        "        server = self.api.get(context, id)\n"
        '        context.can(policies.DELETE, target={"project_id": server.project_id})\n'
        "        self.api.delete(context, server)\n",
    )
    code, review = review_json(capsys, _write(tmp_path, "servers.py", fixed))
    assert findings(review, "SCR930") == [] and code == 0
    texts = [s["text"] for s in aspect(review, "input-validation")["statements"]]
    assert any(t.startswith("3 of 3 request handler(s) check authorization") for t in texts)


MASKED_ELSEWHERE = """\
import logging

from oslo_utils import strutils

LOG = logging.getLogger(__name__)


def connect(url, password):
    LOG.debug("connecting to %s", strutils.mask_password(url))
    LOG.debug("password %s", password)
    raise ConnectionError(f"cannot log in with {password}")
"""


@pytest.mark.parametrize("rule_id", ["SCR701", "SCR751"])
def test_secret_findings_name_the_masking_helper_the_module_uses(tmp_path, capsys, rule_id: str) -> None:
    _, review = review_json(capsys, _write(tmp_path, "client.py", MASKED_ELSEWHERE))
    (finding,) = findings(review, rule_id)
    assert "strutils.mask_password, which this module already uses" in finding["fix"]


def test_without_a_helper_the_fix_is_the_rule_advice(tmp_path, capsys) -> None:
    text = MASKED_ELSEWHERE.replace('    LOG.debug("connecting to %s", strutils.mask_password(url))\n', "")
    text = text.replace("from oslo_utils import strutils\n", "")
    _, review = review_json(capsys, _write(tmp_path, "client.py", text))
    (finding,) = findings(review, "SCR751")
    assert "already uses" not in finding["fix"]


def test_seed_gets_no_finding_from_the_review_level_rules(capsys) -> None:
    _, review = review_json(capsys, str(seed_path()))
    ours = {"SCR920", "SCR921", "SCR922", "SCR930", "SCR931", "SCR932", "SCR750", "SCR751"}
    assert [f for f in review["findings"] if f["rule_id"] in ours] == []
    assert [s for s in review["suppressed"] if s["rule_id"] in ours] == []
