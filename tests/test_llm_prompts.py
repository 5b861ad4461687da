"""SCR514 and the sink options it rests on: message entries picked by role, lists of calls."""

from __future__ import annotations

import ast
import contextlib
import textwrap
from pathlib import Path

import pytest

from scrutiny import api
from scrutiny.findings import Severity
from scrutiny.taint import entries
from scrutiny.taint.models import ModelError, Sink, parse_model

CASES = Path(__file__).parent / "fixtures" / "taint"
SYSTEM = Sink("prompt", "x.create", args=("messages",), item="content", when_key="role", when_values=frozenset({"system"}))
USER = Sink("user_prompt", "x.create", args=("messages",), item="content", when_key="role", unless_values=frozenset({"system"}))


def _picked(sink: Sink, argument: str) -> list[str] | None:
    found = entries.parts(sink, ast.parse(argument, mode="eval").body)
    return None if found is entries.WHOLE else [ast.unparse(p) for p in found]


@pytest.mark.parametrize(
    "argument, system, user",
    [
        ('[{"role": "system", "content": a}, {"role": "user", "content": b}]', ["a"], ["b"]),
        ('({"role": "system", "content": a},)', ["a"], []),
        ('{"role": "system", "content": a}', ["a"], []),
        ('[{"role": r, "content": a}]', [], ["a"]),  # a role that is not a literal may be anything
        ('[{**base, "content": a}]', [], ["a"]),  # the spread may hold the role
        ('[{"role": "system", "name": a}]', [], []),  # only the item key counts
        ('[*history, {"role": "system", "content": a}]', ["a"], ["history"]),
        ('[first, "fixed"]', [], ["first"]),
        ("messages", [], None),  # not a literal: the user sink sees all of it
    ],
)
def test_entries_are_picked_by_their_role(argument: str, system: list[str], user: list[str] | None) -> None:
    assert _picked(SYSTEM, argument) == system
    assert _picked(USER, argument) == user


def test_a_call_keyword_decides_without_item() -> None:
    sink = Sink("prompt", "x.create", args=("content",), when_key="role", when_values=frozenset({"assistant"}))
    call = ast.parse('x.create(role="assistant", content=c)', mode="eval").body
    other = ast.parse('x.create(role="user", content=c)', mode="eval").body
    missing = ast.parse("x.create(content=c)", mode="eval").body
    assert isinstance(call, ast.Call) and isinstance(other, ast.Call) and isinstance(missing, ast.Call)
    assert entries.call_passes(sink, call) and not entries.call_passes(sink, other)
    assert not entries.call_passes(sink, missing)


@pytest.mark.parametrize(
    "text, complaint",
    [
        ('[[sink]]\nkind = "prompt"\ncall = "a.b"\nargs = ["x"]\nwhen_key = "role"\n', "when_key goes with"),
        (
            '[[sink]]\nkind = "prompt"\ncall = "a.b"\nargs = ["x"]\nwhen_key = "role"\n'
            'when_values = ["s"]\nunless_values = ["s"]\n',
            "when_key goes with",
        ),
        ('[[sink]]\nkind = "prompt"\ncall = "a.b"\nwhen_values = ["s"]\n', "when_key goes with"),
        ('[[sink]]\nkind = "prompt"\ncall = "a.b"\nitem = "content"\n', "item needs args"),
        ('[[sink]]\nkind = "prompt"\ncall = ["a.b", 3]\n', "a name or a list of names"),
        ('[[sink]]\nkind = "prompt"\ncall = []\n', "exactly one of"),
    ],
)
def test_bad_entry_sinks_are_rejected(text: str, complaint: str) -> None:
    with pytest.raises(ModelError, match=complaint):
        parse_model(text, "user.toml")


def test_a_list_of_calls_makes_one_sink_each() -> None:
    models = parse_model('[[sink]]\nkind = "prompt"\ncall = ["a.One().run", "a.Two().run"]\nargs = ["x"]\n', "user.toml")
    assert set(models.sink_calls) == {"a.One().run", "a.Two().run"}
    assert all(sinks[0].args == ("x",) for sinks in models.sink_calls.values())


def _review(tmp_path: Path, code: str) -> list[tuple[int, Severity, str]]:
    (tmp_path / "app.py").write_text(textwrap.dedent(code))
    with contextlib.chdir(tmp_path):
        review = api.scan(["app.py"])
    return sorted((f.location.line, f.severity, f.message) for f in review.findings if f.rule_id == "SCR514")


def test_instructions_are_medium_and_the_user_turn_low(tmp_path: Path) -> None:
    found = _review(
        tmp_path,
        """
        from flask import Flask, request
        from openai import AsyncOpenAI

        app = Flask(__name__)


        @app.route("/")
        async def chat():
            client = AsyncOpenAI()
            style, question = request.args["style"], request.args["q"]
            return await client.chat.completions.create(
                model="m",
                messages=[
                    {"role": "developer", "content": style},
                    {"role": "user", "content": question},
                    {"role": "user", "content": "fixed"},
                ],
            )
        """,
    )
    assert [(line, severity) for line, severity, _ in found] == [(15, Severity.MEDIUM), (16, Severity.LOW)]
    assert "without an allow-list of fixed instructions" in found[0][2]
    assert "user turn" in found[1][2]


def test_an_unread_message_list_counts_as_the_user_turn(tmp_path: Path) -> None:
    found = _review(
        tmp_path,
        """
        import anthropic
        from flask import Flask, request

        app = Flask(__name__)
        claude = anthropic.Anthropic()


        @app.route("/")
        def chat():
            history = request.get_json()["history"]
            return claude.messages.create(model="m", max_tokens=9, messages=history)
        """,
    )
    assert [(line, severity) for line, severity, _ in found] == [(12, Severity.LOW)]


def test_an_unknown_client_is_not_a_sink(tmp_path: Path) -> None:
    found = _review(
        tmp_path,
        """
        from flask import Flask, request
        from mylib import make_client

        app = Flask(__name__)


        @app.route("/")
        def chat():
            client = make_client()
            return client.chat.completions.create(messages=[{"role": "system", "content": request.args["s"]}])
        """,
    )
    assert found == []


def test_the_person_running_a_tool_may_prompt_it(tmp_path: Path) -> None:
    found = _review(
        tmp_path,
        """
        import sys

        from agents import Agent, Runner

        if __name__ == "__main__":
            agent = Agent(name="helper", instructions="Talk like " + sys.argv[1])
            print(Runner.run_sync(agent, input("> ")).final_output)
        """,
    )
    assert found == []
