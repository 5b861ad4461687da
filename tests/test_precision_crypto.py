"""SCR301 grades a weak hash by the use the code shows (precision on real code).

Each pair in tests/fixtures/rules/SCR301.py holds a use that protects something
(medium) next to a close one that does not (low); the fixture test checks the lines,
these tests the severities and the evidence the messages give.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from scrutiny import source
from scrutiny.findings import Finding, Severity
from scrutiny.rules import RuleSet, all_rules

FIXTURE = Path(__file__).parent / "fixtures" / "rules" / "SCR301.py"
MEDIUM, LOW = Severity.MEDIUM, Severity.LOW


def weak_hashes(code: str, name: str = "service.py") -> list[Finding]:
    src = source.load(code.encode(), name)
    return [f for f in RuleSet(all_rules()).run(src) if f.rule_id == "SCR301"]


@pytest.fixture(scope="module")
def by_scope() -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = {}
    for finding in weak_hashes(FIXTURE.read_text(), FIXTURE.name):
        found.setdefault(finding.scope, []).append(finding)
    return found


@pytest.mark.parametrize(
    ("protects", "does_not", "evidence"),
    [
        ("store_password", "image_path", ("the name 'password' says so", "joined into a file path")),
        ("log_in", "remember", ("value is also passed as password= to client.login()", "returned by remember()")),
        ("verify_download", "detect_change", ("compared with expected and a mismatch rejected", "without rejecting")),
        ("realm_hash", "digest_response", ("the name 'password' says so", "chosen by the protocol peer (algorithm")),
        ("Placeholders.salted", "Placeholders.__init__", ("the name 'password'", "random bytes from os.urandom()")),
        ("check_signature", "send_etag", ("compared in constant time by hmac.compare_digest()", "sent as an ETag")),
        ("sign_with", "hash_of", ("passed to key.sign() (a signature)", "returned by hash_of()")),
        ("hash_private_key", "read_secret_document", ("the name 'private_key' says so", "returned by")),
    ],
)
def test_a_protecting_use_stays_medium_and_its_neighbour_is_low(
    by_scope: dict[str, list[Finding]], protects: str, does_not: str, evidence: tuple[str, str]
) -> None:
    [kept], [lowered] = by_scope[protects], by_scope[does_not]
    assert (kept.severity, lowered.severity) == (MEDIUM, LOW)
    assert evidence[0] in kept.message, kept.message
    assert evidence[1] in lowered.message, lowered.message


def test_a_credential_fed_through_update_is_reported_where_it_is_hashed(by_scope: dict[str, list[Finding]]) -> None:
    [finding] = by_scope["hash_private_key"]
    line = FIXTURE.read_text().splitlines()[finding.location.line - 1]
    assert "hasher.update(private_key)" in line
    assert "(made on line" in finding.message


def test_the_digest_is_followed_through_a_hash_object_and_local_names() -> None:
    code = textwrap.dedent(
        """
        import hashlib, os

        def checksum(stream):
            m = hashlib.md5()
            for chunk in iter(lambda: stream.read(8192), b""):
                m.update(chunk)
            digest = m.hexdigest()
            return digest[:10]

        def lock_file(directory, path):
            name = "%s.lock" % hashlib.sha1(path).hexdigest()
            return os.path.join(directory, name)

        def badge(name):
            return int(hashlib.md5(name.encode()).hexdigest()[:8], 16) % 360
        """
    )
    messages = [(f.severity, f.message.split("; ")[1]) for f in weak_hashes(code)]
    assert messages == [
        (LOW, "the digest is returned by checksum()"),
        (LOW, "the digest is joined into a file path"),
        (LOW, "the digest is turned into a number"),
    ]


def test_protocol_names_pick_only_their_own_algorithm() -> None:
    code = textwrap.dedent(
        """
        import hashlib

        def digest(algorithm, data):
            if algorithm == "SHA-256":
                return hashlib.sha1(data).hexdigest()
            if algorithm in ("SHA", "SHA-SESS"):
                return hashlib.sha1(data).hexdigest()
            table = {"MD5": lambda d: hashlib.md5(d).hexdigest()}
            return table[algorithm](data)
        """
    )
    graded = [(f.location.line, "protocol peer" in f.message) for f in weak_hashes(code)]
    assert graded == [(6, False), (8, True), (9, True)]


def test_a_digest_compared_with_another_digest_made_here_is_a_content_comparison() -> None:
    code = textwrap.dedent(
        """
        import hashlib

        def same(old, new):
            before = hashlib.sha1(old).digest()
            if before != hashlib.sha1(new).digest():
                raise Changed()
        """
    )
    assert [(f.severity, "another digest computed here" in f.message) for f in weak_hashes(code)] == [
        (LOW, True),
        (LOW, True),
    ]


def test_used_for_security_false_and_crypt_are_unchanged() -> None:
    code = "import hashlib, crypt\nhashlib.md5(password, usedforsecurity=False)\ncrypt.crypt(w, crypt.METHOD_MD5)\n"
    assert [(f.location.line, f.severity) for f in weak_hashes(code)] == [(3, MEDIUM)]


def test_a_random_source_is_not_read_as_a_credential_name() -> None:
    code = textwrap.dedent(
        """
        import hashlib, secrets

        def placeholder():
            return hashlib.sha1(secrets.token_bytes(32)).hexdigest()

        def salted(password):
            return hashlib.sha1(secrets.token_bytes(8) + password).hexdigest()
        """
    )
    placeholder, salted = weak_hashes(code)
    assert placeholder.severity == LOW and "random bytes from secrets.token_bytes()" in placeholder.message
    assert salted.severity == MEDIUM and "(the name 'password' says so)" in salted.message
