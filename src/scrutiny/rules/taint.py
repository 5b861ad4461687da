"""Taint rules (5xx): untrusted input traced to a dangerous operation.

These rules check nothing during the walk (``node_types = ()``): the taint engine
(scrutiny.taint) follows data from sources to sinks and asks the rule of each sink kind
to make the finding, so every taint finding carries the same metadata as any other.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Location, Severity, TraceStep
from scrutiny.rules.base import DEFAULT_CONTEXT, ContextPolicy, Rule, registered
from scrutiny.source import SourceFile
from scrutiny.taint.guards import UNREAD_CHECK

_NO_SOURCE = SourceFile("", "", ast.Module(body=[], type_ignores=[]))


class TaintRule(Rule):
    """Base of the taint rules: which sink kinds a rule owns and what would have made the data safe."""

    sinks: ClassVar[frozenset[str]] = frozenset()
    missing: ClassVar[str] = ""
    node_types = ()
    # No script policy: a path from argv, the environment or stdin is already low where it
    # is found (findings_for), and a path from a request or a socket is remote input in a
    # script as much as anywhere, never "from the person running it".
    context: ClassVar[Mapping[FileKind, ContextPolicy]] = {
        **DEFAULT_CONTEXT,
        # A handler in a test serves the test's own client: the path is worth a look, not a defect.
        FileKind.TEST: ContextPolicy(Severity.LOW, "in test code, where the request comes from the test itself"),
    }

    def taint_finding(
        self,
        location: Location,
        message: str,
        evidence: str,
        trace: tuple[TraceStep, ...],
        severity: Severity,
        scope: str = "",
    ) -> Finding:
        finding = self.finding(location, message, _NO_SOURCE, scope=scope, severity=severity)
        return replace(finding, evidence=evidence, trace=trace)


class CommandInjection(TaintRule):
    """Untrusted input reaches a command that is executed

    What: data from a request, the command line, the environment or console input flows,
    through any number of assignments and calls, into os.system, os.popen, subprocess or os.exec*.
    Why: a shell reads ;, |, $() and backticks, and a program name taken from input runs
    whatever the attacker names (OS command injection).
    Example:
        name = request.args["name"]
        os.system("ping " + name)
    Fix: pass an argument list without a shell (subprocess.run(["ping", name])), check the
    value against an allow-list, or quote it with shlex.quote.
    """

    id = "SCR501"
    name = "tainted-command"
    category = Category.INJECTION
    cwe = 78
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    sinks = frozenset({"shell"})
    missing = "shlex.quote, an argument list or an allow-list check"


class CodeInjection(TaintRule):
    """Untrusted input reaches eval, exec, compile or a dynamic import

    What: data from an untrusted source flows into eval, exec, compile, __import__ or importlib.import_module.
    Why: the interpreter runs whatever the attacker sends, with the service's rights.
    Example:
        expr = request.form["expr"]
        result = eval(expr)
    Fix: parse data with ast.literal_eval or json.loads; map names to functions with a dict.
    """

    id = "SCR502"
    name = "tainted-code"
    category = Category.INJECTION
    cwe = 94
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    sinks = frozenset({"code"})
    missing = "ast.literal_eval or a lookup table"


class SqlInjection(TaintRule):
    """Untrusted input reaches an SQL statement

    What: data from an untrusted source is part of the SQL text given to cursor.execute,
    executemany, SQLAlchemy text() or Django raw()/extra().
    Why: quotes in the data end the literal and the rest runs as SQL.
    Example:
        cursor.execute("SELECT * FROM users WHERE name = '%s'" % name)
    Fix: keep the SQL fixed and pass values as parameters:
    cursor.execute("SELECT * FROM users WHERE name = %s", (name,)).
    """

    id = "SCR503"
    name = "tainted-sql"
    category = Category.INJECTION
    cwe = 89
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    sinks = frozenset({"sql"})
    missing = "query parameters"


class PathTraversal(TaintRule):
    """Untrusted input names a file that is opened, sent, moved or deleted

    What: data from an untrusted source becomes a path given to open, os and shutil
    file operations, pathlib.Path or send_file.
    Why: ../ segments and absolute paths reach files outside the intended directory.
    Example:
        return open(os.path.join(UPLOADS, request.args["name"])).read()
    Fix: take os.path.basename of the name, or resolve os.path.realpath and check that the
    result starts with the base directory before using it.
    """

    id = "SCR504"
    name = "tainted-path"
    category = Category.FILESYSTEM
    cwe = 22
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    sinks = frozenset({"path"})
    missing = "os.path.basename or a realpath prefix check"


class UnsafeDeserialization(TaintRule):
    """Untrusted input is deserialized with pickle, marshal, shelve or an unsafe YAML loader

    What: data from an untrusted source flows into pickle.loads, marshal.loads, shelve.open,
    yaml.load or yaml.unsafe_load.
    Why: these formats can name any class or function to call while loading; a crafted
    payload runs code.
    Example:
        obj = pickle.loads(request.data)
    Fix: exchange data as JSON (json.loads) or load YAML with yaml.safe_load.
    """

    id = "SCR505"
    name = "tainted-deserialization"
    category = Category.DESERIALIZATION
    cwe = 502
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    sinks = frozenset({"deserialize"})
    missing = "a data-only format (json, yaml.safe_load)"


class ServerSideRequestForgery(TaintRule):
    """Untrusted input chooses where the server sends an HTTP request

    What: a URL or host from an untrusted source reaches requests, httpx, urllib or http.client.
    Why: the attacker makes the server call internal services or cloud metadata endpoints (SSRF).
    Example:
        requests.get(request.args["url"])
    Fix: parse the URL with urllib.parse and check its scheme and host against an allow-list first.
    """

    id = "SCR506"
    name = "tainted-url"
    category = Category.TLS_NETWORK
    cwe = 918
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    sinks = frozenset({"ssrf"})
    missing = "an allow-list check of the URL's host"


class OpenRedirect(TaintRule):
    """Untrusted input chooses where a redirect sends the user

    What: a location from an untrusted source reaches redirect(), HttpResponseRedirect or HTTPFound.
    Not reported where the path passes a host allow-list check: Django's
    url_has_allowed_host_and_scheme, or a function of the reviewed tree, in any file, that
    returns that check's result for its argument (a wrapper that first widens the allowed
    hosts), tested so that the location goes on only where the check held or the location
    is empty (if url and not is_safe(url): url = None); a check of another file clears a
    path within one file as it clears a path between files.
    Why: links on the trusted site forward victims to a phishing page (open redirect).
    Example:
        return redirect(request.args["next"])
    Fix: redirect only to relative paths or to hosts on an allow-list
    (Django: url_has_allowed_host_and_scheme).
    """

    id = "SCR507"
    name = "tainted-redirect"
    category = Category.INPUT_VALIDATION
    cwe = 601
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    sinks = frozenset({"redirect"})
    missing = "a host allow-list check"


class CrossSiteScripting(TaintRule):
    """Untrusted input reaches a response body, a safe-marked string or a template source

    What: data from an untrusted source is written into an HTML response, marked safe
    (Markup, mark_safe) or compiled as a template (render_template_string, jinja2.Template).
    Why: script in the data runs in the victim's browser (XSS); as template source it runs
    template code on the server (server-side template injection). A Jinja2 sandboxed
    environment (SandboxedEnvironment, ImmutableSandboxedEnvironment, made directly, through
    a variable or by a function of the file that returns one) refuses unsafe attributes and
    calls, so its from_string is not reported. Nor is a response whose body is declared
    as something other than HTML (Django HttpResponse(content_type="text/plain"), Flask
    Response(mimetype="application/json"): plain text, JSON, CSV, script
    (application/javascript, text/javascript) or binary): a browser does not run it as
    markup, and a script body runs only where a page of the site includes it. A type chosen
    at run time still counts.
    Example:
        return render_template_string("<h1>" + request.args["q"] + "</h1>")
    Fix: render a fixed template with the value as a variable (autoescaped), or escape it
    with html.escape / markupsafe.escape.
    """

    id = "SCR508"
    name = "tainted-html"
    category = Category.INJECTION
    cwe = 79
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    sinks = frozenset({"xss", "template"})
    missing = "html.escape or a fixed template"


class LogInjection(TaintRule):
    """Untrusted input becomes the message of a log call

    What: a log message (the format string, not a lazy %-argument) is built from untrusted data.
    Why: newlines forge log entries and % in the data breaks formatting (CWE-117).
    Example:
        LOG.info("login failed for " + request.form["user"])
    Fix: keep the message fixed and pass the value as an argument: LOG.info("login failed for %r", user).
    """

    id = "SCR509"
    name = "tainted-log"
    category = Category.LOGGING
    cwe = 117
    severity = Severity.LOW
    confidence = Confidence.MEDIUM
    sinks = frozenset({"log"})
    missing = "a fixed message with the value as an argument"


class HeaderInjection(TaintRule):
    """Untrusted input is written into a response header or cookie

    What: data from an untrusted source becomes the value of set_cookie, set_header or add_header,
    or the name of a header set through werkzeug/Flask (Headers.add/set/extend, headers[name] = ...,
    make_response(body, headers), Response(headers=...)).
    Why: CR/LF in the value splits the response or sets headers the attacker chooses (CWE-113).
    werkzeug rejects CR/LF in header values but not in names: a name from input still picks
    which header is set (Set-Cookie, Location), and its CR/LF reach the server unchecked.
    Example:
        response.set_cookie("lang", request.args["lang"])
    Fix: check the value against an allow-list, or reject CR and LF before using it.
    """

    id = "SCR510"
    name = "tainted-header"
    category = Category.INJECTION
    cwe = 113
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    sinks = frozenset({"header"})
    missing = "an allow-list or a CR/LF check"


class RegexInjection(TaintRule):
    """Untrusted input is compiled as a regular expression

    What: a pattern given to re.compile, re.match, re.search, re.sub or re.findall comes from untrusted data.
    Why: nested quantifiers take exponential time to match (ReDoS) and the pattern can match
    more than intended.
    Example:
        re.search(request.args["q"], text)
    Fix: escape the value with re.escape, or match it as plain text (str.find / in).
    """

    id = "SCR511"
    name = "tainted-regex"
    category = Category.INPUT_VALIDATION
    cwe = 1333
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    sinks = frozenset({"regex"})
    missing = "re.escape"


class LdapXpathInjection(TaintRule):
    """Untrusted input is part of an LDAP filter or an XPath expression

    What: data from an untrusted source is built into the filter of an LDAP search or an XPath query.
    Why: (, ), * and quotes change which entries the query returns, bypassing checks.
    Example:
        conn.search_s(base, ldap.SCOPE_SUBTREE, "(uid=%s)" % user)
    Fix: escape the value (ldap.filter.escape_filter_chars) or use XPath variables.
    """

    id = "SCR512"
    name = "tainted-query"
    category = Category.INJECTION
    cwe = 90
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    sinks = frozenset({"ldap", "xpath"})
    missing = "escape_filter_chars or query variables"


class TrustBoundary(TaintRule):
    """Untrusted input is stored in the session as if it were trusted

    What: data from an untrusted source is written into a server-side session store
    (session[...] = ..., set_signed_cookie). What is read from a session (request.session
    of a tainted request) is the server's own state, not client input. The finding is low
    when no code of the file compares or tests the session key written (directly or
    through the name a read is assigned to): storing what the client sent is a defect only
    where later code takes it as the server's own decision (a role, a user id), and such a
    read is then not in sight.
    Why: later code reads the session as trusted state, so unchecked data crosses the
    trust boundary (CWE-501).
    Example:
        session["role"] = request.args["role"]
    Fix: validate the value (type, allow-list) before storing it, or store only what the server decided.
    """

    id = "SCR513"
    name = "tainted-session"
    category = Category.INPUT_VALIDATION
    cwe = 501
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    sinks = frozenset({"trust"})
    missing = "validation before storing"


class NoSqlInjection(TaintRule):
    """Untrusted structured data becomes a MongoDB query

    What: a value parsed from request data (json.loads of a parameter, a JSON request body)
    reaches the filter of a pymongo collection method or mongoengine's ``__raw__``, or any
    value from input is placed under ``$where`` (run as JavaScript on the server).
    Why: a parsed object carries the operators the sender chose ({"$ne": null} matches every
    document, {"$where": ...} runs code); a plain string used as a field's value cannot, so it
    is not reported.
    Example:
        users.find({"name": json.loads(request.args["name"])})
    Fix: check that each value has the expected type (str, int) before building the query,
    or strip keys that start with $ (mongosanitizer.sanitize); never build $where from input.
    """

    id = "SCR515"
    name = "tainted-nosql"
    category = Category.INJECTION
    cwe = 943
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    sinks = frozenset({"nosql"})
    missing = "a type check of the parsed values or removal of $ operators"


class PromptInjection(TaintRule):
    """Untrusted input is written into the instructions of a language model

    What: data from an untrusted source becomes part of what an LLM API takes as its
    instructions: the system or developer message of a chat call (openai
    chat.completions/responses, OpenRouter), Anthropic's system parameter, an assistant turn,
    the instructions of an Assistant, run or realtime session, an openai-agents Agent's
    instructions or handoff description, or the description of a tool or handoff the model
    chooses from. Medium severity. Only data from the network counts: whoever runs a
    command-line tool already chooses its prompts.
    Also reported, at low severity (sink kind user_prompt): untrusted text as the user turn
    (a user-role message, a message of unknown role, a prompt= parameter, agent input). That
    is how a chat service is meant to work, so it is not a defect in itself, but the model
    may follow instructions hidden in it: it marks where a review should check that the
    model's tools, data access and output handling assume a hostile user. A message list the
    analysis cannot read entry by entry (built elsewhere, appended to) counts as user turn.
    Why: the model gives system, developer and earlier assistant text precedence over the
    user; whoever writes it can lift the application's rules, reveal the prompt or steer tool
    calls (CWE-1427).
    Example:
        client.chat.completions.create(model="gpt-4o", messages=[
            {"role": "system", "content": "You talk like " + request.args["persona"]}])
    Fix: keep instructions fixed; pick variable parts from a fixed allow-list, and pass
    free text only as a user message.
    """

    id = "SCR514"
    name = "tainted-prompt"
    category = Category.INJECTION
    cwe = 1427
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    sinks = frozenset({"prompt", "user_prompt"})
    missing = "an allow-list of fixed instructions"


UNMODELLED = "which has no model"  # the step the engine writes for a call it passes taint through
KIND_CWE = {"xpath": 643, "template": 1336}
# Sink kinds reported below their rule's severity, with what the finding then means.
KIND_SEVERITY = {"user_prompt": Severity.LOW}
KIND_NOTE = {"user_prompt": "as the model's user turn: check what the model may do for such a user"}
# Sink kinds where data from the person running the program is no finding: whoever runs a
# chat or agent tool is the very user the model serves, and could edit its prompt anyway.
REMOTE_ONLY = frozenset({"prompt", "user_prompt"})


def rule_for(kind: str) -> TaintRule | None:
    for rule_class in registered().values():
        if issubclass(rule_class, TaintRule) and kind in rule_class.sinks:
            return rule_class()
    return None


def findings_for(
    sink_path: str,
    sink: tuple[str, str, int, int, int, int, str],
    source_path: str,
    source: tuple[str, str, int, int],
    trace: tuple[TraceStep, ...],
    stored_only: bool = False,
) -> list[Finding]:
    """The finding for one source reaching one sink, with its path as trace and message
    (``stored_only``: a session store whose key no code of the sink's file decides on)."""
    kind, callee, line, col, end_line, end_col, code = sink
    rule = rule_for(kind)
    if rule is None:
        return []
    source_kind, label, source_line, _ = source
    if source_kind == "local" and kind in REMOTE_ONLY:
        return []
    where = f"line {source_line}" if source_path == sink_path else f"{source_path}:{source_line}"
    hops = [s for s in trace[1:] if s.message.startswith("calls ")]
    through = f" through {', '.join(s.message[6:] for s in hops[:3])}" if hops else ""
    severity = rule.severity
    if source_kind == "local" and severity > Severity.LOW:
        # argv, environment and console belong to whoever runs the program: a defect only
        # when someone less trusted starts it (setuid, a service passing on request data).
        severity = Severity.LOW
    severity = min(severity, KIND_SEVERITY.get(kind, severity))
    message = f"{label} ({where}) reaches {callee} at line {line}{through} without {rule.missing}"
    if kind in KIND_NOTE:
        message = f"{label} ({where}) reaches {callee} at line {line}{through} {KIND_NOTE[kind]}"
    if stored_only and severity > Severity.LOW:
        # The session only carries the value: the defect, if any, is a later read that takes
        # it as the server's own decision, and no code of this file makes one.
        severity = Severity.LOW
        message += "; no code of this file compares or tests that session key, so the value is only carried"
    assumed = [
        s.message.split("(", 1)[0].removeprefix("passed through ") for s in trace if s.message.endswith(UNMODELLED)
    ]
    if assumed:
        # The path rests on calls no model describes: say so, and claim less.
        shown = ", ".join(dict.fromkeys(f"{a}()" for a in assumed[:3]))
        message += f"; the path assumes {shown} passes the data on (no model)"
    if kind in KIND_CWE:
        message += f" ({kind})"
    if trace and not trace[0].message.startswith("source: "):
        trace = (replace(trace[0], message=f"source: {trace[0].message}"), *trace[1:])
    sink_step = TraceStep(sink_path, line, col, f"sink: {callee} ({kind}), missing sanitizer: {rule.missing}")
    steps = (*trace, sink_step)
    if (
        len(trace) > 1
        and trace[-1].line == line
        and trace[-1].path == sink_path
        and trace[-1].message.startswith("reaches")
    ):
        steps = (*trace[:-1], sink_step)
    location = Location(sink_path, line, col, end_line, end_col)
    unread = [
        s.message.split("(", 1)[0].removeprefix("checked by ").rsplit(".", 1)[-1]
        for s in trace
        if s.message.endswith(UNREAD_CHECK)
    ]
    if unread:
        # A check the path passes could not be read: it may be exactly the allow-list needed.
        message += f"; it passes {unread[0]}(), a check scrutiny cannot read (in a library or another file)"
    finding = rule.taint_finding(location, message, code, steps, severity)
    if (assumed or unread) and finding.confidence > Confidence.LOW:
        finding = replace(finding, confidence=Confidence(finding.confidence - 1))
    if kind in KIND_CWE:
        finding = replace(finding, cwe=KIND_CWE[kind])
    return [finding]
