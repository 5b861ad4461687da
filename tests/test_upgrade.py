"""The upgrade review on two local release trees (no network): files that moved keep their
findings, findings are introduced/unchanged/fixed, and behaviour that appeared is listed."""

from __future__ import annotations

import textwrap
from pathlib import Path

from scrutiny import pypi, upgrade
from scrutiny.api import Config
from scrutiny.findings import Severity
from scrutiny.report.json_out import to_dict

UNSAFE_LOAD = "import yaml\n\n\ndef read(stream):\n    return yaml.load(stream, Loader=yaml.Loader)\n"
SHELL = textwrap.dedent(
    """\
    import subprocess


    def run(command):
        return subprocess.call(command, shell=True)
    """
)


def release(root: Path, version: str, files: dict[str, str]) -> pypi.Fetched:
    top = root / f"acme-{version}"
    for rel, text in files.items():
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_text(text)
    return pypi.Fetched("acme", version, f"acme-{version}.tar.gz", "0" * 64, top, True)


def test_parse_upgrade_targets() -> None:
    assert upgrade.parse("pypi:six==1.15.0..1.16.0") == ("six", "1.15.0", "1.16.0")
    assert upgrade.parse("pypi:zope.interface==5.0..6.0rc1") == ("zope.interface", "5.0", "6.0rc1")
    assert upgrade.parse("pypi:six==1.16.0") is None
    assert upgrade.parse("six==1.0..2.0") is None


def test_moved_files_pair_by_path_suffix() -> None:
    gone = ["acme/a.py", "acme/b.py", "docs/conf.py"]
    added = ["src/acme/a.py", "src/acme/b.py", "src/other/b.py", "tools/conf2.py"]
    assert upgrade.moved(gone, added) == {"acme/a.py": "src/acme/a.py", "acme/b.py": "src/acme/b.py"}
    # Two candidates for one path: no guess.
    assert upgrade.moved(["b.py"], ["x/b.py", "y/b.py"]) == {}


def test_upgrade_to_src_layout_keeps_moved_findings_and_reports_the_new_one(tmp_path: Path) -> None:
    old = release(
        tmp_path / "old",
        "1.0",
        {
            "setup.py": "from setuptools import setup\nsetup(name='demo')\n",
            "acme/__init__.py": "",
            "acme/loader.py": UNSAFE_LOAD,
            "acme/shell.py": SHELL,
            "acme/same.py": "VALUE = 1\n",
        },
    )
    new = release(
        tmp_path / "new",
        "2.0",
        {
            "pyproject.toml": '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n',
            "src/acme/__init__.py": "import subprocess\n\nsubprocess.run(['id'])\n",
            "src/acme/loader.py": "# moved to the src layout\n" + UNSAFE_LOAD,
            "src/acme/fetch.py": "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n",
            "src/acme/same.py": "VALUE = 1\n",
        },
    )
    review = upgrade.review_releases(old, new, Config())
    change = review.change
    assert change is not None
    statuses = {(f.status, f.old_path, f.new_path) for f in change.files}
    assert ("renamed", "acme-1.0/acme/loader.py", "acme-2.0/src/acme/loader.py") in statuses
    assert ("added", None, "acme-2.0/src/acme/fetch.py") in statuses
    assert ("deleted", "acme-1.0/acme/shell.py", None) in statuses
    assert ("renamed", "acme-1.0/acme/same.py", "acme-2.0/src/acme/same.py") in statuses

    def rules(findings: list) -> set[tuple[str, str]]:  # type: ignore[type-arg]
        return {(f.rule_id, f.location.path.split("/")[-1]) for f in findings if f.severity > Severity.INFO}

    # The unsafe load moved with its file: unchanged, not introduced and fixed.
    assert ("SCR203", "loader.py") in rules(change.unchanged)
    assert not any(path == "loader.py" for _, path in rules(change.introduced) | rules(change.fixed))
    # pickle.loads in the new module, and the command the package now runs on import.
    assert {path for _, path in rules(change.introduced)} == {"fetch.py", "__init__.py"}
    assert {path for _, path in rules(change.fixed)} == {"shell.py"}
    assert review.exit_code == 1
    # Install and import time: the backend changed, and the package now runs a command on import.
    assert ("appeared", "install", "build backend hatchling.build (pyproject.toml)") in change.behaviour
    assert ("disappeared", "install", "build backend setuptools (legacy: runs setup.py) (setup.py)") in change.behaviour
    assert (
        "appeared",
        "import",
        "subprocess call subprocess.run at import (src/acme/__init__.py:3)",
    ) in change.behaviour
    document = to_dict(review)
    assert document["change"]["mode"] == "upgrade" and document["change"]["base"] == "acme 1.0 -> 2.0"
    assert [b for b in document["change"]["behaviour"] if b["when"] == "import"] == [
        {
            "state": "appeared",
            "when": "import",
            "what": "subprocess call subprocess.run at import (src/acme/__init__.py:3)",
        }
    ]


def test_an_upgrade_that_only_fixes_exits_0(tmp_path: Path) -> None:
    old = release(tmp_path / "old", "1.0", {"acme/__init__.py": "", "acme/shell.py": SHELL})
    new = release(tmp_path / "new", "1.1", {"acme/__init__.py": "", "acme/shell.py": "def run(command):\n    pass\n"})
    review = upgrade.review_releases(old, new, Config())
    assert review.change is not None
    assert review.change.introduced == [] and review.change.fixed
    assert review.exit_code == 0
    assert review.change.behaviour == []
