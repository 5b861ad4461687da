"""A package inside another package that carries its own license file is a vendored copy,
even when its modules import each other only relatively (no import by its own name)."""

from __future__ import annotations

from helpers import findings, review_json

LEGACY = (
    "import hashlib\n\nfrom .util import to_bytes\n\n\n"
    "def legacy_hash(password):\n    return hashlib.md5(to_bytes(password)).hexdigest()\n"
)


def _write(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _tree(with_license: bool) -> dict[str, str]:
    files = {
        "wiki/__init__.py": "",
        "wiki/pages.py": "def show(page):\n    return page\n",
        "wiki/search.py": "def find(text):\n    return text\n",
        "wiki/users.py": "def load(name):\n    return name\n",
        "wiki/support/__init__.py": "",
        "wiki/support/dateparse/__init__.py": "__version__ = '2.1'\n",
        "wiki/support/dateparse/util.py": "def to_bytes(text):\n    return text.encode()\n",
        "wiki/support/dateparse/legacy.py": LEGACY,
    }
    if with_license:
        files["wiki/support/dateparse/LICENSE.txt"] = "Permission is granted to use this copy.\n"
    return files


def test_a_nested_package_with_its_own_license_is_a_copy(capsys, tmp_path) -> None:
    _write(tmp_path, _tree(with_license=True))
    _code, data = review_json(capsys, "--no-cache", str(tmp_path / "wiki"))
    (finding,) = findings(data, "SCR301")
    assert finding["severity"] == "low"
    assert "vendored copy of the dateparse package" in finding["context_note"]
    assert "its own license file, LICENSE.txt" in finding["context_note"]


def test_the_same_package_without_a_license_file_is_the_projects_own(capsys, tmp_path) -> None:
    _write(tmp_path, _tree(with_license=False))
    _code, data = review_json(capsys, "--no-cache", str(tmp_path / "wiki"))
    (finding,) = findings(data, "SCR301")
    assert finding["severity"] == "medium"
    assert finding["context_note"] == ""
