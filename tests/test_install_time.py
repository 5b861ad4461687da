"""What runs at install and at import time, read from the AST of fixture distributions
(tests/fixtures/install_time/): every behaviour expected is found at its line, and the
look-alikes (function bodies, __main__ blocks of a module, tests, docs, writes inside the
package, exec of a literal, a client object made) are not."""

from __future__ import annotations

import textwrap
from pathlib import Path

from scrutiny import install_time
from scrutiny.install_time import IMPORT, INSTALL

FIXTURES = Path(__file__).parent / "fixtures" / "install_time"


def found(root: Path) -> set[tuple[str, str, str, int]]:
    return {(b.when, b.what, b.path, b.line) for b in install_time.behaviours(root)}


def test_sdist_install_time_backend_hooks_cmdclass_and_setup_py_calls() -> None:
    install = {b for b in found(FIXTURES / "sdist") if b[0] == INSTALL}
    assert install == {
        (INSTALL, "build backend hatchling.build", "pyproject.toml", 0),
        (INSTALL, "hatch build hook custom hatch_build.py", "pyproject.toml", 0),
        (INSTALL, "hatch build hook vcs (wheel)", "pyproject.toml", 0),
        (INSTALL, "setuptools cmdclass build_py = evilpkg_build.BuildPy", "pyproject.toml", 0),
        (INSTALL, "custom build hook hatch_build.py", "hatch_build.py", 0),
        (INSTALL, "setup.py cmdclass install = PostInstall", "setup.py", 18),
        (INSTALL, "setup.py command class PostInstall(install)", "setup.py", 8),
        (INSTALL, "subprocess call subprocess.check_call in PostInstall", "setup.py", 11),
        (INSTALL, "subprocess call subprocess.run at top level", "setup.py", 15),
        # setup.py runs as __main__, so its __main__ block counts
        (INSTALL, "network call urllib.request.urlopen at top level", "setup.py", 17),
        (INSTALL, "subprocess call os.system at top level, conditional", "setup.py", 21),
    }


def test_sdist_import_time_side_effects_and_what_is_left_out() -> None:
    imports = {b for b in found(FIXTURES / "sdist") if b[0] == IMPORT}
    assert imports == {
        (IMPORT, "network call urllib.request.urlopen at import", "evilpkg/__init__.py", 9),
        (IMPORT, "exec of decoded data (base64.b64decode) at import", "evilpkg/__init__.py", 10),
        (IMPORT, "file write open at import", "evilpkg/__init__.py", 11),  # ~/.bashrc, outside the package
        (IMPORT, "subprocess call subprocess.check_output at import", "evilpkg/__init__.py", 23),  # a class body
        (IMPORT, "network call requests.get at import", "evilpkg/sub/quiet.py", 9),  # a default value
    }
    # Not reported: the write into DATA (built from __file__, line 13), eval of a literal
    # (15), sp.run in a function (19) and in the __main__ block (27), requests.Session()
    # (13 of quiet.py), tests/ and docs/ (not installed), hatch_build.py (a build file).


def test_wheel_runs_nothing_at_install_but_pth_lines_run_at_every_start() -> None:
    assert found(FIXTURES / "wheel") == {
        (IMPORT, "startup code in a .pth file (runs at every interpreter start)", "plainpkg-startup.pth", 2),
        (IMPORT, "network call socket.gethostbyname at import", "plainpkg/__init__.py", 3),
    }


def test_legacy_setup_py_with_a_cmdclass_variable() -> None:
    assert found(FIXTURES / "legacy") == {
        (INSTALL, "build backend setuptools (legacy: runs setup.py)", "setup.py", 0),
        (INSTALL, "setup.py cmdclass = commands", "setup.py", 5),
    }


def test_aliases_and_decoders_resolve_through_imports(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """\
            import codecs as c
            import zlib
            from os import system as run_it
            from pathlib import Path
            import os, socket

            exec(zlib.decompress(c.decode("eJwrKMrMK1EwVEjOzy0oSi0uTk1RBABKSAaY", "base64")))
            run_it("id")
            Path("/etc/motd").write_text("hi")
            if not os.environ.get("CI"):
                for host in ("a.invalid", "b.invalid"):
                    socket.create_connection((host, 443))
            try:
                import yaml
            except ImportError:
                c.open("/tmp/fallback.log", mode="w")
            """
        )
    )
    assert found(tmp_path) == {
        (IMPORT, "exec of decoded data (zlib.decompress) at import", "pkg/__init__.py", 7),
        (IMPORT, "subprocess call os.system at import", "pkg/__init__.py", 8),
        (IMPORT, "file write write_text at import", "pkg/__init__.py", 9),
        (IMPORT, "network call socket.create_connection at import, conditional", "pkg/__init__.py", 12),
        (IMPORT, "file write codecs.open at import, conditional", "pkg/__init__.py", 16),  # an except clause
    }


def test_unparsable_files_are_passed_over(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def (:\n")
    (tmp_path / "setup.py").write_text("setup(\n")
    assert found(tmp_path) == {
        (INSTALL, "build backend setuptools (legacy: runs setup.py)", "setup.py", 0),
        (INSTALL, "setup.py could not be parsed", "setup.py", 0),
    }
