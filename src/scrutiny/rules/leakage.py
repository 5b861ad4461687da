"""Information-leakage rules (75x): error details sent to clients, secrets put into
exception messages.

SCR701 (secret written to a log) is the logging sibling of these rules.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.authz import DENIAL_STATUSES
from scrutiny.rules.base import DEFAULT_CONTEXT, Rule, Walk, is_built_string, note, values_bound, walk_function
from scrutiny.rules.handlers import handler_of
from scrutiny.rules.logs import STR_METHODS, masking_helper, secret_reference_nodes, weigh_secrets
from scrutiny.source import SourceFile

BROAD = {"Exception", "BaseException"}
# Errors whose text carries internals: paths, commands and their output, SQL, hosts.
REVEALING = {"OSError", "IOError", "EnvironmentError", "CalledProcessError", "ProcessExecutionError", "SQLAlchemyError",
             "DBError", "DatabaseError", "OperationalError", "ProgrammingError", "InterfaceError", "ConnectionError",
             "SSLError", "TemplateError"}  # fmt: skip
EXCEPTION_TEXT_ATTRS = {"args", "message", "strerror", "stderr", "stdout", "output", "cmd", "filename", "orig",
                        "statement", "detail", "__traceback__"}  # fmt: skip
TRACEBACK_CALLS = re.compile(r"^traceback\.(format_exc|format_exception|format_exception_only|format_tb|format_stack|"
                             r"extract_tb)$|^sys\.exc_info$")  # fmt: skip
RESPONSE_CALLS = {"jsonify", "JsonResponse", "HttpResponse", "HttpResponseBadRequest", "HttpResponseServerError",
                  "HttpResponseForbidden", "HttpResponseNotFound", "Response", "make_response", "JSONResponse",
                  "PlainTextResponse", "HTMLResponse", "json_response", "abort", "HTTPException", "HTTPError",
                  "render", "render_template"}  # fmt: skip
RESPONSE_MODULES = ("webob", "aiohttp", "fastapi", "starlette", "werkzeug", "falcon", "tornado", "flask", "django",
                    "pecan", "sanic", "rest_framework", "quart")  # fmt: skip
PARSE_ERRORS = re.compile(r"(Syntax|Pars|Lex|Token|Template)\w*Error$")
DEBUG = re.compile(r"\bdebug\b|DEBUG", re.IGNORECASE)
ERROR_TEXT_KEYWORDS = {"detail", "explanation", "description", "body", "text", "reason", "message", "content",
                       "json_body", "comment"}  # fmt: skip
NOT_TEXT_KEYWORDS = {"status", "status_code", "code", "headers", "content_type", "mimetype"}


def _caught(handler: ast.ExceptHandler, src: SourceFile) -> tuple[str, bool] | None:
    """(what is caught, whether its text reveals internals); None if it is the project's own error."""
    if handler.type is None:
        return "everything", True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    for name in names:
        tail = (src.qualname(name) or "").rsplit(".", 1)[-1]
        if tail in BROAD or tail in REVEALING:
            return tail, True
    return None


def _exception_text(
    node: ast.AST, error: str | None, src: SourceFile, held: dict[str, str] | None = None
) -> tuple[str, ast.AST] | None:
    """How ``node`` puts the caught error's text or a traceback into a value, if it does;
    ``held``: names the except block assigned such a value to, with how."""
    for sub in ast.walk(node):
        if held and isinstance(sub, ast.Name) and sub.id in held:
            return f"{held[sub.id]} (held in {sub.id})", sub
        if isinstance(sub, ast.Call):
            name = src.qualname(sub.func) or ""
            if TRACEBACK_CALLS.search(name):
                return f"{name}()", sub
            if error and name in ("str", "repr", "format") and sub.args and _is_name(sub.args[0], error):
                return f"{name}({error})", sub
        elif error and isinstance(sub, ast.Attribute) and _is_name(sub.value, error):
            if sub.attr in EXCEPTION_TEXT_ATTRS:
                return f"{error}.{sub.attr}", sub
        elif error and isinstance(sub, ast.FormattedValue) and _is_name(sub.value, error):
            return f"{{{error}}} in an f-string", sub
        elif error and isinstance(sub, ast.BinOp) and is_built_string(sub):
            if any(_is_name(v, error) for v in ast.walk(sub.right)) and isinstance(sub.op, ast.Mod):
                return f"% {error}", sub
    return None


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _shown_arguments(call: ast.Call, sink: str) -> list[ast.expr]:
    """The arguments a client sees: for HTTP errors the status and body or message, not
    the extra exception or traceback that frameworks such as bottle keep for debug pages."""
    if sink.startswith("HTTP") or sink == "abort":
        return [*call.args[:2], *(kw.value for kw in call.keywords if kw.arg in ERROR_TEXT_KEYWORDS)]
    return [*call.args, *(kw.value for kw in call.keywords if kw.arg not in NOT_TEXT_KEYWORDS)]


def _response_call(call: ast.Call, src: SourceFile) -> str | None:
    name = src.qualname(call.func) or ""
    tail = name.rsplit(".", 1)[-1]
    root = name.split(".", 1)[0]
    if tail in RESPONSE_CALLS and (root in RESPONSE_MODULES or "." not in name or tail == "HTTPException"):
        return tail
    if tail.startswith("HTTP") and root in RESPONSE_MODULES:
        return tail
    return None


class ExceptionDetailInResponse(Rule):
    """Exception text or traceback sent back to the client

    What: inside an except block that catches everything (bare except, Exception,
    BaseException) or an error whose text carries internals (OSError,
    CalledProcessError, ProcessExecutionError, database errors), the error's text
    (str(e), repr(e), f"{e}", e.args, e.stderr...) is passed to a response or HTTP
    error (jsonify, JsonResponse, Response, abort, HTTPException(detail=...),
    webob.exc.HTTPBadRequest(explanation=...)) or returned from a request handler; and
    any traceback.format_exc()/format_exception() put into one. Errors the project
    defines for its users (nova's exceptions, caught by name) are not reported. Text
    put only into the log message of tornado's HTTPError, which tornado logs rather than
    sends, is low unless the file's write_error shows log messages. When the try block
    does nothing but parse request data (json.loads(request.POST["batch"]), int(...)),
    the error can only describe what the client sent: low, with the reason. Also low when
    the handler is wrapped by a decorator defined in the same file whose wrapper calls the
    handler on one path and answers 401 or 403 on another: the text reaches only the
    clients that gate admits.
    Why: the text of an unexpected error describes the server, not the request: file
    paths, SQL statements, host names, command lines and library versions help an
    attacker plan the next step.
    Example:
        except Exception as e:
            return jsonify(error=str(e)), 500
    Fix: log the error with LOG.exception(...) and send a fixed message with a
    request or incident id the operator can look up.
    """

    id = "SCR750"
    name = "exception-detail-in-response"
    category = Category.LOGGING
    cwe = 209
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.ExceptHandler,)
    context = {**DEFAULT_CONTEXT, FileKind.TEST: note("a test's responses reach no user")}

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.ExceptHandler)
        src = walk.src
        caught = _caught(node, src)
        error = node.name if caught else None
        handler = None
        held: dict[str, str] = {}  # err = traceback.format_exc(): the name now carries it
        for statement in node.body:
            for sub in ast.walk(statement):
                if isinstance(sub, ast.Assign) and len(sub.targets) == 1 and isinstance(sub.targets[0], ast.Name):
                    found = _exception_text(sub.value, error, src, held)
                    if found is not None:
                        held[sub.targets[0].id] = found[0]
        for statement in node.body:
            for sub in ast.walk(statement):
                sink = ""
                value: ast.AST | None = None
                if isinstance(sub, ast.Call) and (response := _response_call(sub, src)):
                    sink = response
                    value = ast.Tuple(_shown_arguments(sub, response))
                elif isinstance(sub, ast.Return) and sub.value is not None:
                    handler = handler or handler_of(walk.function, src)
                    if handler is not None:
                        sink, value = f"the return value of handler {handler.name}", sub.value
                if value is None:
                    continue
                leak = _exception_text(value, error, src, held)
                if leak is None and error and isinstance(sub, ast.Return) and _is_name(value, error):
                    leak = (f"the exception object {error}", value)  # rendered as its text
                if leak is None or _debug_only(leak[1], node, src):
                    continue
                text = leak[0]
                if caught is None or "traceback" in text or "exc_info" in text:
                    what = "a traceback"
                else:
                    what = "the error's text" if caught[0] == "everything" else f"the text of an {caught[0]}"
                if isinstance(sub, ast.Call) and _logged_only(sub, leak[1], src):
                    shows = _shows_log_message(src)
                    yield self.finding(
                        sub,
                        f"{text} goes into the log message of tornado's {sink}, which tornado logs and does not send "
                        + (f"unless write_error shows it, as this file's does (line {shows})" if shows else
                           "to the client unless a write_error override shows it"),
                        src, scope=walk.scope_name, severity=None if shows else Severity.LOW,
                        confidence=None if shows else Confidence.LOW,
                    )  # fmt: skip
                    return
                gate = _refusing_decorator(walk.function, src)
                if gate:
                    # The text goes only to the clients the file's own decorator admits.
                    yield self.finding(sub, f"{text} sends {what} to the client through {sink}; but the handler is "
                                       f"wrapped by {gate}, so the text reaches only the clients it admits",
                                       src, scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
                    return
                parsed = _parses_client_input(node, walk.function, src)
                if parsed:
                    # The error can only say what is wrong with what the client sent.
                    yield self.finding(sub, f"{text} sends {what} to the client through {sink}; the try block only "
                                       f"parses the client's own input ({parsed}), so the text describes that input, "
                                       "not the server", src, scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
                    return
                yield self.finding(sub, f"{text} sends {what} to the client through {sink}", src,
                                   scope=walk.scope_name)  # fmt: skip
                return


def _refuses(node: ast.AST, src: SourceFile) -> bool:
    """``return "...", 403`` / ``return Response(..., status=403)`` / ``abort(403)``."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Return) and isinstance(sub.value, ast.Tuple):
            if any(isinstance(e, ast.Constant) and e.value in DENIAL_STATUSES for e in sub.value.elts):
                return True
        if isinstance(sub, ast.Call):
            values = [kw.value for kw in sub.keywords if kw.arg in ("status", "status_code", "code")]
            if _tail(sub.func) == "abort":
                values += sub.args[:1]
            if any(isinstance(v, ast.Constant) and v.value in DENIAL_STATUSES for v in values):
                return True
    return False


def _refusing_decorator(function: ast.AST | None, src: SourceFile) -> str:
    """A decorator of ``function`` defined in this file whose wrapper calls the wrapped
    function on one path and answers 401/403 on another: an access gate the file shows
    ('' when there is none)."""
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        return ""
    defined = {n.name: n for n in src.tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    for decorator in function.decorator_list:
        if not isinstance(decorator, ast.Name) or decorator.id not in defined:
            continue
        outer = defined[decorator.id]
        params = [a.arg for a in outer.args.args]
        if not params:
            continue
        wrapped = params[0]
        for inner in outer.body:
            if not isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            calls_wrapped = any(
                isinstance(n, ast.Return) and isinstance(n.value, ast.Call | ast.Await)
                and any(isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == wrapped
                        for c in ast.walk(n.value))
                for n in ast.walk(inner)
            )  # fmt: skip
            if calls_wrapped and _refuses(inner, src):
                return f"{decorator.id} (line {outer.lineno}), which answers 401/403 to the requests it refuses"
    return ""


# Parsers of text whose errors describe the text they were given (position, bad literal).
PARSERS = frozenset({"json.loads", "int", "float", "decimal.Decimal", "uuid.UUID", "ast.literal_eval",
                     "datetime.date.fromisoformat", "datetime.datetime.fromisoformat", "ipaddress.ip_address",
                     "ipaddress.ip_network", "base64.b64decode", "base64.urlsafe_b64decode", "bytes.fromhex"})  # fmt: skip


def _parses_client_input(handler: ast.ExceptHandler, function: ast.AST | None, src: SourceFile) -> str:
    """The parse call (json.loads(batch)) when the try block holds nothing but parsing
    request data into names ("" otherwise): the only error it can raise is about that data."""
    try_node = src.index.parents.get(handler)
    if not isinstance(try_node, ast.Try) or function is None:
        return ""
    shown = ""
    for statement in try_node.body:
        if not (isinstance(statement, ast.Assign | ast.Expr) and isinstance(statement.value, ast.Call)):
            return ""
        call = statement.value
        if (src.qualname(call.func) or "") not in PARSERS or len(call.args) != 1:
            return ""
        if not _from_request(call.args[0], function):
            return ""
        shown = shown or ast.unparse(call)
    return shown


def _from_request(node: ast.AST, function: ast.AST, depth: int = 5) -> bool:
    """The value is read from the request (request.POST.get("x"), or a name assigned from one)."""
    if depth <= 0:
        return False
    for sub in ast.walk(node):
        if (isinstance(sub, ast.Name) and sub.id == "request"
                or isinstance(sub, ast.Attribute) and sub.attr == "request"):  # fmt: skip
            return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _from_request(node.func.value, function, depth - 1)  # data.get("x"): where data is from
    if isinstance(node, ast.Subscript):
        return _from_request(node.value, function, depth - 1)
    if isinstance(node, ast.Name):
        bound = values_bound(node.id, walk_function(function))
        return bool(bound) and all(_from_request(v, function, depth - 1) for v in bound)
    return False


def _logged_only(call: ast.Call, leak: ast.AST, src: SourceFile) -> bool:
    """tornado.web.HTTPError(status, log_message, *args, reason=...): the message and its
    arguments go to the server's log; the client sees the status and ``reason``."""
    if not (src.qualname(call.func) or "").startswith("tornado."):
        return False
    reason = next((kw.value for kw in call.keywords if kw.arg == "reason"), None)
    return reason is None or not any(n is leak for n in ast.walk(reason))


def _shows_log_message(src: SourceFile) -> int | None:
    """The line of a write_error defined in this file that reads an error's log_message."""
    for function in src.index.of_type(ast.FunctionDef):
        assert isinstance(function, ast.FunctionDef)
        if function.name == "write_error" and any(
            isinstance(n, ast.Attribute) and n.attr == "log_message" for n in ast.walk(function)
        ):
            return function.lineno
    return None


def _only_decides(node: ast.AST, argument: ast.AST, src: SourceFile) -> bool:
    """The reference only decides something, its text going nowhere: the test of a
    conditional expression (code="a" if token else "b"), a comparison, a not, bool() or len()."""
    parents = src.index.parents
    child, current = node, parents.get(node)
    while current is not None and child is not argument:
        if isinstance(current, ast.IfExp) and child is current.test:
            return True
        if isinstance(current, ast.Compare) or isinstance(current, ast.UnaryOp) and isinstance(current.op, ast.Not):
            return True
        if isinstance(current, ast.Call) and isinstance(current.func, ast.Name) and current.func.id in ("bool", "len"):
            return True
        child, current = current, parents.get(current)
    return False


def _tail(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _objects_in(function: ast.AST | None) -> set[str]:
    """Names the function reads fields of (token.lineno): parsed objects, not secret strings."""
    if function is None:
        return set()
    return {
        n.value.id
        for n in walk_function(function)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.attr not in STR_METHODS
    }


def _debug_only(node: ast.AST, handler: ast.ExceptHandler, src: SourceFile) -> bool:
    """The value is sent only when a debug setting is on (settings.DEBUG, app.debug)."""
    current: ast.AST | None = node
    while current is not None and current is not handler:
        if isinstance(current, ast.IfExp | ast.If) and DEBUG.search(ast.unparse(current.test)):
            return True
        current = src.index.parents.get(current)
    return False


def _rejected_by_type(node: ast.Raise, secrets: list[str], walk: Walk) -> str:
    """The raise sits in the body of ``if not isinstance(value, Types)`` and each secret
    named in the message is that value or a class of Types: the evidence as text, or ''."""
    child: ast.AST = node
    parent = walk.parent(node)
    while parent is not None and not isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
        test = parent.test if isinstance(parent, ast.If) else None
        if (
            isinstance(test, ast.UnaryOp)
            and isinstance(test.op, ast.Not)
            and isinstance(test.operand, ast.Call)
            and _tail(test.operand.func) == "isinstance"
            and len(test.operand.args) == 2
            and child in parent.body  # type: ignore[union-attr]
        ):
            value, types = test.operand.args
            checked = ast.unparse(value)
            classes = {ast.unparse(n) for n in ast.walk(types) if isinstance(n, ast.Name | ast.Attribute)}
            if checked in secrets and all(n == checked or n in classes for n in secrets):
                return f"the raise runs only when {checked} is not an instance of {ast.unparse(types)}"
        child, parent = parent, walk.parent(parent)
    return ""


class SecretInExceptionMessage(Rule):
    """Secret put into an exception message

    What: raise SomeError(...) whose message is built from, or is, a value named like a
    secret (password, token, secret, api_key, private_key, credentials), unless it
    passes through a masking helper (mask_password, redact..., sanitize...). When only
    a weak name says so (a token, or a name whose last word is something else, such as
    credentialInterfaces) and nothing shows the value is a credential, it is low. A
    secret that only decides something (the test of code="a" if token else "b", a
    comparison, not, bool() or len()) puts no text into the message and is not reported.
    Low as well when the raise runs only under ``if not isinstance(value, Types)`` and the
    secret names in the message are that value and the classes it was checked against:
    the message shows whatever wrong-typed value the caller passed (a type error), not a
    credential object the code holds.
    Why: exception messages are logged with their traceback, shown in error pages and
    API faults, and copied into bug reports; a password in one is a leaked password.
    Example:
        raise AuthError(f"login failed for {user} with password {password}")
    Fix: leave the secret out of the message (name the user or key id instead), or
    pass it through the project's masking helper (oslo_utils.strutils.mask_password).
    """

    id = "SCR751"
    name = "secret-in-exception-message"
    category = Category.LOGGING
    cwe = 209
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.Raise,)
    context = {**DEFAULT_CONTEXT, FileKind.TEST: note("a test's exceptions carry test values")}

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Raise)
        if not isinstance(node.exc, ast.Call) or not _tail(node.exc.func)[:1].isupper():
            return  # raise self.error(token): a helper builds the exception, not a class
        if PARSE_ERRORS.search(_tail(node.exc.func)):
            return  # the "token" of a syntax error is a piece of the parsed text
        arguments = [*node.exc.args, *(kw.value for kw in node.exc.keywords)]
        found = {text: sub for argument in arguments for text, sub in secret_reference_nodes(argument)
                 if not _only_decides(sub, argument, walk.src)}
        # Upper-case names are constants (error codes such as VIR_ERR_NO_SECRET), not secret values.
        if not found:
            return
        objects = _objects_in(walk.function)
        secrets = sorted(n for n in found if not n.rsplit(".", 1)[-1].isupper() and n not in objects)
        if not secrets:
            return
        rejected = _rejected_by_type(node, secrets, walk)
        if rejected:
            yield self.finding(node, f"exception message includes {', '.join(secrets[:3])}; but {rejected}, so the "
                               "message shows a value of the wrong type the caller passed, not a credential object",
                               walk.src, scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
            return
        why, by_name_only = weigh_secrets([(n, found[n]) for n in secrets], walk.src)
        helper = masking_helper(walk.src)
        fix = f"leave {secrets[0]} out of the message, or mask it with {helper}, which this module already uses" if (
            helper) else None  # fmt: skip
        yield self.finding(node, f"exception message includes {', '.join(secrets[:3])}{why}", walk.src,
                           scope=walk.scope_name, fix=fix, severity=Severity.LOW if by_name_only else None,
                           confidence=Confidence.LOW if by_name_only else None)  # fmt: skip
