"""Classes of false or deliberate cryptography and protocol findings (issue 15, helper
P1), each with a pair: the case the code settles (reported low, or not at all) and the
case it does not (still reported at its severity)."""

from __future__ import annotations

import textwrap

from helpers import severities
from helpers import review_snippet as review


def rule_findings(code: str, rule_id: str, name: str = "service/module.py") -> list[tuple[int, str, str]]:
    from scrutiny import source
    from scrutiny.rules import RuleSet, all_rules

    src = source.load(textwrap.dedent(code).encode(), name)
    return sorted((f.location.line, f.severity.name.lower(), f.message) for f in RuleSet(all_rules()).run(src)
                  if f.rule_id == rule_id)  # fmt: skip


def lines(code: str, rule_id: str) -> list[tuple[int, str]]:
    return [(line, severity) for line, severity, _message in rule_findings(code, rule_id)]


# SCR301: MD5 or SHA-1 as the hash inside HMAC or a key derivation ---------------------

KEYED_HASHES = """
    from cryptography.hazmat.primitives import hashes, hmac
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC


    def frame_tag(link_key, frame):
        tagger = hmac.HMAC(link_key, hashes.MD5())
        tagger.update(frame)
        return tagger.finalize()


    def station_key(phrase, network_name):
        stretch = PBKDF2HMAC(algorithm=hashes.SHA1(), length=32, salt=network_name, iterations=4096)
        return stretch.derive(phrase)


    def stamp(private, body):
        return private.sign(body, padding.PKCS1v15(), hashes.SHA1())
"""


def test_md5_and_sha1_inside_hmac_and_pbkdf2_are_low() -> None:
    found = rule_findings(KEYED_HASHES, "SCR301")
    assert [(line, severity) for line, severity, _ in found if line != 19] == [(8, "low"), (14, "low")]
    assert "no practical forgery" in found[0][2] and "prefer SHA-256" in found[0][2]


def test_sha1_given_to_a_signature_stays_medium() -> None:
    assert (19, "medium") in lines(KEYED_HASHES, "SCR301")


# SCR330 / SCR331: a cipher taken from cryptography's decrepit package; ciphers in tests --

LEGACY_CIPHERS = """
    from cryptography.hazmat.decrepit.ciphers import algorithms as legacy
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


    def stream_seal(session_key, payload):
        return Cipher(legacy.ARC4(session_key), mode=None).encryptor().update(payload)


    def one_block(link_key, block):
        return Cipher(legacy.TripleDES(link_key), modes.ECB()).encryptor().update(block)


    def fish(session_key, payload):
        return Cipher(algorithms.Blowfish(session_key), modes.CBC(b"0" * 8)).encryptor().update(payload)


    def aes_blocks(session_key, payload):
        return Cipher(algorithms.AES(session_key), modes.ECB()).encryptor().update(payload)
"""


def test_ciphers_imported_from_decrepit_are_low() -> None:
    assert lines(LEGACY_CIPHERS, "SCR330")[:2] == [(7, "low"), (11, "low")]
    assert lines(LEGACY_CIPHERS, "SCR331")[0] == (11, "low")
    assert "cryptography.hazmat.decrepit" in rule_findings(LEGACY_CIPHERS, "SCR330")[0][2]


def test_ciphers_from_the_primitives_package_keep_their_severity() -> None:
    assert lines(LEGACY_CIPHERS, "SCR330")[2:] == [(15, "high")]
    assert lines(LEGACY_CIPHERS, "SCR331")[1:] == [(19, "medium")]


CIPHER_CHECK = """
    from Crypto.Cipher import ARC4


    def check_seal(session_key, payload):
        sealed = ARC4.new(session_key).encrypt(payload)
        assert ARC4.new(session_key).decrypt(sealed) == payload
"""


def test_a_weak_cipher_run_by_a_test_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "tests/test_seal.py", "def test_it():\n    pass\n" + CIPHER_CHECK)
    assert severities(data, "SCR330") == [(8, "low"), (9, "low")]


def test_the_same_cipher_in_a_package_module_stays_high(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "pkg/seal.py", CIPHER_CHECK)
    assert severities(data, "SCR330") == [(6, "high"), (7, "high")]


# SCR301: a digest whose algorithm the other side of a protocol fixes -----------------

SIGNED_CALLS = """
    import hashlib

    import requests


    def profile(app_secret, member):
        query = {"call": "members.show", "member": member}
        query["signature"] = hashlib.md5(("&".join(sorted(query)) + app_secret).encode()).hexdigest()
        return requests.get("https://social.example.org/api", params=query, timeout=5)


    def stamped(app_secret, member):
        query = {"member": member}
        query["signature"] = hashlib.md5((member + app_secret).encode()).hexdigest()
        return query
"""


def test_a_digest_sent_as_a_remote_apis_signature_parameter_is_low() -> None:
    found = rule_findings(SIGNED_CALLS, "SCR301")
    assert found[0][:2] == (9, "low")
    assert "sent to the remote side as parameter 'signature' of params= of requests.get()" in found[0][2]


def test_the_same_keyed_digest_kept_locally_stays_medium() -> None:
    assert lines(SIGNED_CALLS, "SCR301")[1:] == [(15, "medium")]


NONCE_ANSWER = """
    import base64
    import hashlib
    import os

    SUFFIX = "fixed-protocol-text"


    def open_channel(link):
        challenge = base64.b64encode(os.urandom(16))
        link.send(b"challenge: " + challenge)
        reply = link.recv(128).strip()
        wanted = base64.b64encode(hashlib.sha1(challenge + SUFFIX.encode()).digest())
        if reply != wanted:
            raise ConnectionError("peer did not answer the challenge")


    def check_upload(blob, reply):
        wanted = hashlib.sha1(blob).hexdigest()
        if reply != wanted:
            raise ConnectionError("upload damaged")
"""


def test_the_digest_of_a_nonce_checked_against_a_peers_answer_is_low() -> None:
    found = rule_findings(NONCE_ANSWER, "SCR301")
    assert found[0][:2] == (13, "low")
    assert "only random bytes from os.urandom() and constants (a nonce)" in found[0][2]


def test_the_digest_of_received_data_checked_against_a_reply_stays_medium() -> None:
    assert lines(NONCE_ANSWER, "SCR301")[1:] == [(19, "medium")]


# SCR920: values compared that are not secrets a guesser can learn by timing ---------

PACKET_PAIRING = """
    class ExchangeReply:
        def answers(self, other):
            if isinstance(other, ExchangeRequest) and other.cookie == self.cookie:
                return 1
            return 0

        def accepts(self, request):
            if request.cookie == self.cookie:
                return 1
            return 0


    class ExchangeRequest:
        cookie = b""
"""


def test_the_same_protocol_field_of_two_packets_is_not_a_request_value() -> None:
    assert 4 not in [line for line, _ in lines(PACKET_PAIRING, "SCR920")]


def test_a_cookie_read_from_the_request_object_stays_medium() -> None:
    assert lines(PACKET_PAIRING, "SCR920") == [(9, "medium")]


CONTENT_DIGESTS = """
    from cryptography.hazmat.primitives import hashes, hmac


    def verify_content(content, signed_digest):
        hasher = hashes.Hash(hashes.SHA256())
        hasher.update(content)
        content_digest = hasher.finalize()
        if content_digest != signed_digest:
            raise ValueError("content does not match its signed digest")


    def verify_tag(link_key, content, received_tag):
        tagger = hmac.HMAC(link_key, hashes.SHA256())
        tagger.update(content)
        content_digest = tagger.finalize()
        if content_digest != received_tag:
            raise ValueError("bad tag")
"""


def test_an_unkeyed_cryptography_digest_of_the_data_is_not_a_secret() -> None:
    assert 9 not in [line for line, _ in lines(CONTENT_DIGESTS, "SCR920")]


def test_an_hmac_finalized_and_compared_with_eq_stays_medium() -> None:
    assert lines(CONTENT_DIGESTS, "SCR920") == [(17, "medium")]


STORED_HASHES = """
    def check_refresh(store, presented_token):
        record = store.lookup()
        refresh_token_hash = store.hash_token(presented_token)
        if refresh_token_hash != record.hash:
            raise PermissionError("unknown refresh token")
        return record


    def check_plain(store, presented_token):
        record = store.lookup()
        if presented_token != record.refresh_token:
            raise PermissionError("unknown refresh token")
        return record
"""


def test_a_presented_token_hashed_and_compared_with_the_stored_hash_is_low() -> None:
    found = rule_findings(STORED_HASHES, "SCR920")
    assert found[0][:2] == (5, "low")
    assert "computed by store.hash_token() and compared with the stored record.hash" in found[0][2]


def test_a_presented_token_compared_with_the_stored_token_stays_medium() -> None:
    assert lines(STORED_HASHES, "SCR920")[1:] == [(12, "medium")]


KEYED_CHALLENGE = """
    import hashlib
    import os

    LINK_SECRET = "shared-between-both-ends"


    def challenge(link):
        nonce = os.urandom(16)
        link.send(nonce)
        if link.recv(20) != hashlib.sha1(nonce + LINK_SECRET.encode()).digest():
            raise ConnectionError("peer does not hold the link secret")
"""


def test_a_challenge_hashed_with_a_shared_secret_stays_medium() -> None:
    assert lines(KEYED_CHALLENGE, "SCR301") == [(11, "medium")]


SPAWNED_TOKENS = """
    def start_worker(db, worker, note):
        issued_token = db.query(note).one().new_token()
        worker.run(issued_token)
        if worker.api_token != issued_token:
            db.discard(issued_token)


    def resume_worker(request, worker):
        issued_token = request.query["resume"]
        if worker.api_token != issued_token:
            raise PermissionError("wrong resume token")
"""


def test_a_token_from_a_database_query_is_not_a_request_value() -> None:
    assert 5 not in [line for line, _ in lines(SPAWNED_TOKENS, "SCR920")]


def test_a_token_from_the_requests_query_string_stays_medium() -> None:
    assert lines(SPAWNED_TOKENS, "SCR920") == [(11, "medium")]


# SCR331: ECB as the raw block function of another construction ----------------------

BLOCK_FUNCTIONS = """
    from Crypto.Cipher import AES
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


    def first_subkey(mac_key):
        raw = AES.new(mac_key, AES.MODE_ECB)
        return raw.encrypt(bytes(16))


    def chained_tag(mac_key, message):
        raw = AES.new(mac_key, AES.MODE_ECB)
        state = bytes(16)
        for start in range(0, len(message), 16):
            mixed = bytes(a ^ b for a, b in zip(state, message[start : start + 16]))
            state = raw.encrypt(mixed)
        return state


    def seal_record(record_key, record):
        raw = AES.new(record_key, AES.MODE_ECB)
        return raw.encrypt(record)


    def seal_blocks(record_key, record):
        raw = Cipher(algorithms.AES(record_key), modes.ECB()).encryptor()
        sealed = b""
        for start in range(0, len(record), 16):
            sealed += raw.update(record[start : start + 16])
        return sealed
"""


def test_ecb_run_on_one_constant_block_or_chained_is_low() -> None:
    found = rule_findings(BLOCK_FUNCTIONS, "SCR331")
    assert [(line, severity) for line, severity, _ in found[:2]] == [(7, "low"), (12, "low")]
    assert "each run is over one constant block" in found[0][2]
    assert "the input of raw.encrypt() on line 16 is fed by an earlier run's output" in found[1][2]


def test_ecb_over_the_data_itself_stays_medium() -> None:
    assert lines(BLOCK_FUNCTIONS, "SCR331")[2:] == [(21, "medium"), (26, "medium")]
