"""Library semantics the taint models must know: calls that end the request."""

from __future__ import annotations

from helpers import findings
from helpers import review_snippet as review

REST_ABORT = """
    from flask import Flask, send_from_directory
    from flask_restful import abort

    app = Flask(__name__)


    @app.route("/flags/<path:flag_path>")
    def flags(flag_path):
        subdir = flag_path.split("/")[0]
        if subdir not in ["1x1", "4x3"]:
            abort(404)
        return send_from_directory(f"static/flags/{subdir}", "flag.svg")


    @app.route("/icons/<path:icon_path>")
    def icons(icon_path):
        subdir = icon_path.split("/")[0]
        if subdir not in ["16", "32"]:
            print("unknown size")
        return send_from_directory(f"static/icons/{subdir}", "icon.svg")
"""


def test_flask_restful_abort_ends_the_request_like_flask_abort(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "flags.py", REST_ABORT)
    # Line 13 is reached only when the allow-list held: flask_restful.abort raises.
    # Line 21 is reached either way.
    assert [(f["line"], f["severity"]) for f in findings(data, "SCR504")] == [(21, "high")]
