"""Checks in plain sight: a finding the code's own check answers is dropped or claims less.

Each case reads the check from what the code does (a loader's bases, a containment helper's
body, an escape on every path, a negated isinstance, an assert's evidence), not from names.
"""

from __future__ import annotations

import textwrap

from scrutiny import source
from scrutiny.findings import Confidence, Finding, Severity
from scrutiny.rules import RuleSet, all_rules


def findings(code: str, rule_id: str, name: str = "service.py") -> list[Finding]:
    src = source.load(textwrap.dedent(code).encode(), name)
    return [f for f in RuleSet(all_rules()).run(src) if f.rule_id == rule_id]


# SCR203: YAML loaders assembled from parts -------------------------------------------


def test_loader_built_on_a_safe_constructor_of_the_file_is_not_reported() -> None:
    code = """
        import yaml
        from yaml.constructor import SafeConstructor
        from yaml.cyaml import CParser
        from yaml.resolver import Resolver

        class TagConstructor(SafeConstructor):
            pass

        class TagLoader(CParser, TagConstructor, Resolver):
            def __init__(self, stream):
                CParser.__init__(self, stream)
                TagConstructor.__init__(self)
                Resolver.__init__(self)

        def count(text):
            return len(list(yaml.load_all(text, Loader=TagLoader)))
    """
    assert findings(code, "SCR203") == []


def test_loader_built_on_the_full_constructor_is_reported_at_medium_with_its_base() -> None:
    code = """
        import yaml
        from yaml.constructor import FullConstructor
        from yaml.cyaml import CParser
        from yaml.resolver import Resolver

        class TagConstructor(FullConstructor):
            pass

        class TagLoader(CParser, TagConstructor, Resolver):
            pass

        def count(text):
            return len(list(yaml.load_all(text, Loader=TagLoader)))
    """
    [found] = findings(code, "SCR203")
    assert found.severity == Severity.MEDIUM and found.confidence == Confidence.HIGH
    assert "yaml.constructor.FullConstructor" in found.message


def test_loader_that_cannot_be_resolved_is_reported_with_low_confidence_and_says_so() -> None:
    code = """
        import yaml
        from .loaders import ProjectLoader

        def parse(text):
            return yaml.load(text, Loader=ProjectLoader)
    """
    [found] = findings(code, "SCR203")
    assert found.confidence == Confidence.LOW
    assert "could not be resolved" in found.message and "another module" in found.message


# SCR802: tar members checked to stay under the destination ----------------------------

CONTAINED = """
    import os
    import tarfile

    def inside(base, target):
        return os.path.realpath(target).startswith(os.path.realpath(base) + os.sep)

    def unpack(upload, dest):
        with tarfile.open(upload) as archive:
            for member in archive.getmembers():
                if not inside(dest, os.path.join(dest, member.name)){links}:
                    raise ValueError(member.name)
            archive.extractall(dest)
"""


def test_members_and_links_checked_by_a_helper_of_the_file_are_not_reported() -> None:
    assert findings(CONTAINED.format(links=" or member.issym() or member.islnk()"), "SCR802") == []


def test_members_checked_by_name_only_are_low_and_the_message_says_links_are_not() -> None:
    [found] = findings(CONTAINED.format(links=""), "SCR802")
    assert found.severity == Severity.LOW
    assert "inside() (line 5)" in found.message and "link targets" in found.message


def test_member_check_in_another_module_claims_less_and_names_it() -> None:
    code = """
        import os
        import tarfile
        from .paths import is_subpath

        def unpack(upload, dest):
            with tarfile.open(upload) as archive:
                for member in archive:
                    if not is_subpath(os.path.join(dest, member.name), dest):
                        raise ValueError(member.name)
                    archive.extract(member, dest)
    """
    [found] = findings(code, "SCR802")
    assert found.severity == Severity.MEDIUM and found.confidence == Confidence.MEDIUM
    assert "is_subpath()" in found.message and "cannot read" in found.message


# SCR908: values escaped above the Markup call ------------------------------------------


def test_value_escaped_above_on_every_path_is_not_reported() -> None:
    code = """
        from markupsafe import Markup, escape

        def banner(title, bold):
            title = escape(title)
            if bold:
                return Markup(f"<b>{title}</b>")
            return Markup(title)
    """
    assert findings(code, "SCR908") == []


def test_value_escaped_on_one_branch_only_is_reported_at_medium() -> None:
    code = """
        from markupsafe import Markup, escape

        def banner(title, trusted):
            if not trusted:
                title = escape(title)
            return Markup(f"<b>{title}</b>")
    """
    [found] = findings(code, "SCR908")
    assert found.severity == Severity.MEDIUM and found.confidence == Confidence.MEDIUM


def test_value_from_a_helper_of_another_module_claims_less_and_names_it() -> None:
    code = """
        from flask import url_for
        from markupsafe import Markup
        from . import texts

        def error_link(error, uuid):
            error = texts.render_escaped(error)
            return Markup(f"{error} - <a href=\\"{url_for('edit', uuid=uuid)}\\">edit</a>")
    """
    [found] = findings(code, "SCR908")
    assert found.confidence == Confidence.LOW and "texts.render_escaped()" in found.message


# SCR601: an assert is an access decision only by evidence -----------------------------


def severity_of_asserts(code: str) -> list[Severity]:
    return [f.severity for f in findings(code, "SCR601")]


def test_assert_on_a_setting_or_an_invariant_is_the_low_generic_finding() -> None:
    code = """
        class FTPStore:
            FTP_PASSWORD = None

            def __init__(self, uri, policy, auth):
                assert self.FTP_PASSWORD
                assert policy
                assert {"type", "raw_auth"} == auth.keys()
                self.uri = uri
    """
    assert severity_of_asserts(code) == [Severity.LOW] * 3


def test_assert_on_what_the_file_denies_access_on_is_medium_and_says_where() -> None:
    code = """
        class PermissionDenied(Exception):
            pass

        def archive(user, report):
            if not user.is_admin:
                raise PermissionDenied()
            report.archive()

        def restore(user, report):
            assert user.is_admin
            report.restore()
    """
    [found] = findings(code, "SCR601")
    assert found.severity == Severity.MEDIUM and "line 6 denies access on user.is_admin" in found.message


def test_assert_on_an_authorization_call_a_digest_or_request_data_in_a_handler_is_medium() -> None:
    code = """
        import hashlib
        import hmac
        from flask import Flask, request

        app = Flask(__name__)

        def delete_post(request, post):
            assert request.user.has_perm("blog.delete_post")

        def verify(body, signature, key):
            assert signature == hmac.new(key, body, hashlib.sha256).hexdigest()

        @app.route("/hook", methods=["POST"])
        def hook():
            assert request.headers.get("X-Token") == app.config["HOOK_TOKEN"]
            return "ok"
    """
    assert severity_of_asserts(code) == [Severity.MEDIUM] * 3
