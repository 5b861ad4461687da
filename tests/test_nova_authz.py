"""nova's own API controllers: clean as published, reported once a policy check is broken.

The mutations are made on a copy of server_tags.py from the nova 34.0.0 sdist (fetched
from PyPI into the git-ignored cache); nothing is special-cased for nova in the rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import fetch_nova, findings, review_json

SERVER_TAGS = "nova/api/openstack/compute/server_tags.py"
DELETE_CHECK = """        context.can(st_policies.POLICY_ROOT % 'delete',
                    target={'project_id': im.project_id})
"""
DESTROY = "                objects.Tag.destroy(cctxt, server_id, id)\n"

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def server_tags() -> str:
    fetched = fetch_nova()
    text = (fetched.root / SERVER_TAGS).read_text()
    assert text.count(DELETE_CHECK) == 1 and text.count(DESTROY) == 1
    return text


def _review(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> dict:
    path = tmp_path / "nova" / "api" / "server_tags.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return review_json(capsys, str(path))[1]


AUTHZ = ("SCR930", "SCR931", "SCR932")


def test_published_controller_is_clean(tmp_path, capsys, server_tags: str) -> None:
    review = _review(tmp_path, capsys, server_tags)
    assert [f for f in review["findings"] if f["rule_id"] in AUTHZ] == []


def test_removed_policy_check_is_reported(tmp_path, capsys, server_tags: str) -> None:
    review = _review(tmp_path, capsys, server_tags.replace(DELETE_CHECK, ""))
    (finding,) = [f for f in review["findings"] if f["rule_id"] in AUTHZ]
    assert finding["rule_id"] == "SCR930" and finding["scope"] == "ServerTagsController.delete"
    assert "check with context.can" in finding["fix"]


def test_policy_check_moved_after_the_destroy_is_reported(tmp_path, capsys, server_tags: str) -> None:
    moved = server_tags.replace(DELETE_CHECK, "").replace(
        DESTROY, DESTROY + DELETE_CHECK.replace("    ", "        ", 2)
    )
    review = _review(tmp_path, capsys, moved)
    (finding,) = findings(review, "SCR931")
    assert "objects.Tag.destroy" in finding["message"]


def test_policy_target_from_the_body_is_reported(tmp_path, capsys, server_tags: str) -> None:
    from_body = server_tags.replace(
        "    def update_all(self, req, server_id, body):\n"
        '        context = req.environ["nova.context"]\n'
        "        im = _get_instance_mapping(context, server_id)\n"
        "        context.can(st_policies.POLICY_ROOT % 'update_all',\n"
        "                    target={'project_id': im.project_id})\n",
        "    def update_all(self, req, server_id, body):\n"
        '        context = req.environ["nova.context"]\n'
        "        im = _get_instance_mapping(context, server_id)\n"
        "        context.can(st_policies.POLICY_ROOT % 'update_all',\n"
        "                    target={'project_id': body['project_id']})\n",
    )
    assert from_body != server_tags
    review = _review(tmp_path, capsys, from_body)
    assert [f["rule_id"] for f in review["findings"] if f["rule_id"] in AUTHZ] == ["SCR932"]
