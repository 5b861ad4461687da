"""Injection rules (1xx): shell commands, code evaluation, SQL and templates."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    DEFAULT_CONTEXT,
    CallRule,
    ContextPolicy,
    Walk,
    argument,
    call_tail,
    is_built_string,
    is_constant_string,
    is_false,
    keyword,
    walk_function,
)
from scrutiny.rules.code_guards import names_vetted, operator_supplied, project_file, regex_vetted
from scrutiny.rules.template_text import is_markup, literal_text
from scrutiny.source import SourceFile

SUBPROCESS_CALLS = (
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
)


def shell_flag(call: ast.Call) -> str:
    """'on' for shell=<truthy literal>, 'unknown' for a value chosen at run time, '' otherwise."""
    value = keyword(call, "shell")
    if value is None:
        return ""
    if isinstance(value, ast.Constant):
        return "on" if value.value else ""
    if isinstance(value, ast.List | ast.Tuple | ast.Set):
        return "on" if value.elts else ""
    if isinstance(value, ast.Dict):
        return "on" if value.keys else ""
    return "unknown"


class SubprocessShellTrue(CallRule):
    """Command run through a shell by subprocess.

    What: a subprocess call with shell=True or another true value (getoutput and
    getstatusoutput always use a shell); shell= set from a variable is reported with low
    confidence.
    Why: the shell parses the whole command string, so any part built from data can add
    commands with ;, |, $() or backticks (OS command injection).
    Example:
        subprocess.run(f"tar xf {name}", shell=True)
    Fix: pass an argument list without a shell: subprocess.run(["tar", "xf", name]);
    if a shell is unavoidable, quote each value with shlex.quote.
    """

    id = "SCR101"
    traced_by = "SCR501"
    name = "subprocess-shell-true"
    category = Category.INJECTION
    cwe = 78
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    calls = SUBPROCESS_CALLS
    # getoutput/getstatusoutput are B605 in Bandit's numbering.
    bandit = ("B602", "B605")
    ruff = ("S602", "S605")

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        always_shell = name.endswith(("getoutput", "getstatusoutput"))
        shell = "on" if always_shell else shell_flag(call)
        if not shell:
            return
        if shell == "unknown":
            yield self.finding(call, f"{name} is called with shell= chosen at run time", walk.src,
                               scope=walk.scope_name, confidence=Confidence.LOW)  # fmt: skip
            return
        command = argument(call, "args", 0) if not always_shell else argument(call, "cmd", 0)
        if command is not None and is_constant_string(command):
            yield self.finding(
                call,
                f"{name} runs a fixed command through a shell",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.LOW,
                confidence=Confidence.HIGH,
            )
            return
        yield self.finding(
            call,
            f"{name} runs a command built at run time through a shell",
            walk.src,
            scope=walk.scope_name,
        )


SHELL_CALLS = (
    "os.system",
    "os.popen",
    "os.popen2",
    "os.popen3",
    "os.popen4",
    "commands.getoutput",
    "commands.getstatusoutput",
    "popen2.popen2",
    "popen2.popen3",
    "popen2.popen4",
    "popen2.Popen3",
    "popen2.Popen4",
)


class OsCommandShell(CallRule):
    """Command run through a shell by os.system, os.popen or a Python 2 shell helper

    What: os.system, os.popen (and popen2/3/4), commands.getoutput/getstatusoutput and the
    popen2 module, all of which hand one command string to /bin/sh (cmd.exe on Windows).
    Why: the shell reads the whole string, so a value pasted into it can end the command and
    start another with ;, &&, | or $(...) (OS command injection). A fixed command is not
    injectable but still depends on the shell and on PATH.
    Example:
        os.system("convert " + upload + " out.png")
    Fix: call subprocess.run with an argument list and no shell:
    subprocess.run(["convert", upload, "out.png"], check=True).
    """

    id = "SCR102"
    traced_by = "SCR501"
    name = "os-command-shell"
    category = Category.INJECTION
    cwe = 78
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    calls = SHELL_CALLS
    bandit = ("B605",)
    ruff = ("S605",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        command = argument(call, "cmd", 0) or argument(call, "command", 0)
        if command is not None and is_constant_string(command):
            yield self.finding(
                call,
                f"{name} runs a fixed command through a shell",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.LOW,
            )
            return
        yield self.finding(
            call, f"{name} runs a command built at run time through a shell", walk.src, scope=walk.scope_name
        )


def _defines_at_module_level(src: SourceFile, name: str) -> bool:
    """True when the module defines or assigns ``name`` itself, shadowing the builtin."""
    for statement in src.tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and statement.name == name:
            return True
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in statement.targets
        ):
            return True
    return False


class _BuiltinCodeRun(CallRule):
    """Shared check for the eval and exec builtins (not a rule itself: no id)."""

    builtin = ""
    # A test evaluates strings it wrote itself; it stays a defect, at the lowest level.
    context = {
        **DEFAULT_CONTEXT,
        FileKind.TEST: ContextPolicy(Severity.LOW, "in test code, which evaluates strings the test itself wrote"),
    }

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if name == self.builtin and _defines_at_module_level(walk.src, self.builtin):
            return
        code = argument(call, "source", 0)
        if code is None:
            return
        if is_constant_string(code):
            yield self.finding(
                call,
                f"{self.builtin}() runs a fixed string as Python code",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.LOW,
            )
            return
        if regex_vetted(call, code, walk) or names_vetted(call, code, walk):
            return  # what the text can name was checked against an allow-list first
        if path := project_file(code, walk):
            # setup.py reading its own version file: code the project ships, like a fixed string.
            setup = PurePosixPath(walk.src.path.replace("\\", "/")).name == "setup.py"
            who = "setup script runs" if setup else f"{self.builtin}() runs"
            yield self.finding(
                call,
                f"{who} the project's own file {path}: its path is fixed in the code, so the text is not from outside",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.LOW,
            )
            return
        if operator_supplied(call, code, walk):
            yield self.finding(
                call,
                f"{self.builtin}() runs code the program's operator supplies (console, piped input, environment "
                "or command option), which is what the command is for",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.LOW,
                confidence=Confidence.LOW,
            )
            return
        built = "a string built at run time" if is_built_string(code) else "a value that is not a fixed string"
        yield self.finding(call, f"{self.builtin}() runs {built} as Python code", walk.src, scope=walk.scope_name)


class EvalUsed(_BuiltinCodeRun):
    """Python expression evaluated with eval()

    What: the builtin eval (or builtins.eval) called on anything other than a literal
    string. Methods that happen to be named eval (model.eval(), driver.eval(js)) are not
    the builtin and are left alone, and so is text vetted by an allow-list before it runs:
    every variable in it matched by an anchored regular expression on that branch, or the
    compiled code's co_names checked with a raise for any name not allowed (restricted
    globals alone do not count). Code the operator of a command-line program supplies
    (typed at input(), piped on stdin, named by the environment, or a management
    command's option) is low: running it is the program's purpose; so is the text of a
    file named by a path fixed in the code (literals and __file__), which the project ships.
    Why: eval runs any Python expression with the caller's globals, so a value that an
    attacker can influence can import modules, open files or start processes (code
    injection). Passing restricted globals does not make it safe.
    Example:
        total = eval(request.args["expr"])
    Fix: parse literals with ast.literal_eval, numbers with int()/float(), JSON with
    json.loads; for formulas, parse with a small grammar or a dispatch table of allowed
    operations instead of running Python.
    """

    id = "SCR103"
    traced_by = "SCR502"
    name = "eval-used"
    category = Category.INJECTION
    cwe = 95
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    calls = ("eval", "builtins.eval")
    bandit = ("B307",)
    ruff = ("S307",)
    builtin = "eval"


class ExecUsed(_BuiltinCodeRun):
    """Python code run with exec()

    What: the builtin exec (or builtins.exec) called on source code or a code object.
    The text of a file named by a path fixed in the code (string literals and __file__
    joined by os.path or pathlib, as setup.py runs its own version file) is low: it is
    code the project ships, like a fixed string.
    Why: exec runs whole statements: any text that reaches it can define functions,
    import modules and run commands with the program's rights (code injection). Even a
    fixed string hides code from linters, type checkers and reviewers.
    Example:
        exec(f"result = {user_formula}")
    Fix: write the code directly; choose among known functions with a dict lookup or
    getattr on a vetted name; read data with json or ast.literal_eval.
    """

    id = "SCR104"
    traced_by = "SCR502"
    name = "exec-used"
    category = Category.INJECTION
    cwe = 95
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    calls = ("exec", "builtins.exec")
    bandit = ("B102",)
    ruff = ("S102",)
    builtin = "exec"


# Templates -------------------------------------------------------------------------

# Position of the autoescape parameter when passed positionally.
AUTOESCAPE_POSITION = {"Environment": 16, "Template": 17}


# Signs that a module renders web pages: HTML file names or markup, or a web framework.
# What shows a file's templates are HTML: markup, an .html template name or text/html in a
# string of the code (comments and docstrings are prose: a license URL ending in .html is
# not a sign), or a web framework imported.
HTML_TEXT = re.compile(r"\.html?$|text/html|<(?:html|div|p|a|span|body|table|script)\b", re.IGNORECASE)
WEB_FRAMEWORKS = frozenset(
    {"flask", "django", "fastapi", "starlette", "aiohttp", "pyramid", "tornado", "bottle", "quart", "sanic", "falcon"}
)


def _html_signs(src: SourceFile) -> bool:
    for node in src.index.of_type(ast.Import, ast.ImportFrom):
        modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]  # type: ignore[attr-defined]
        if any(module.split(".")[0] in WEB_FRAMEWORKS for module in modules):
            return True
    parents = src.index.parents
    for node in src.index.of_type(ast.Constant):
        value = node.value  # type: ignore[attr-defined]
        if not isinstance(value, str) or isinstance(parents.get(node), ast.Expr):
            continue  # a docstring or a bare string statement is prose
        if "://" in value and not value.lstrip().startswith("<"):
            continue  # a URL naming a page, not a template
        if HTML_TEXT.search(value.strip()):
            return True
    return False


# What an environment does without rendering anything: configure it, read a template's
# source through its loader (loader.get_source(env, name)), lex or parse a source.
NON_RENDERING_USES = frozenset({"filters", "globals", "tests", "policies", "loader", "parse", "lex", "preprocess",
                                "add_extension", "extensions", "list_templates"})  # fmt: skip


def _never_renders(call: ast.Call, walk: Walk) -> bool:
    """``env = Environment(...)`` held in a local name that its function (or module) only
    configures and uses to read or parse sources: never get_template, from_string, or handed
    to code this file cannot see."""
    statement = walk.parent(call)
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)):  # fmt: skip
        return False
    held = statement.targets[0].id
    scope = walk.function or walk.src.tree
    reads = [n for n in walk_function(scope)
             if isinstance(n, ast.Name) and n.id == held and isinstance(n.ctx, ast.Load)]  # fmt: skip
    for read in reads:
        user = walk.parent(read)
        if isinstance(user, ast.Attribute) and user.attr in NON_RENDERING_USES:
            continue
        if isinstance(user, ast.Call) and call_tail(user) == "get_source" and user.args[:1] == [read]:
            continue
        return False
    return bool(reads)


class Jinja2AutoescapeOff(CallRule):
    """Jinja2 templates rendered without HTML autoescaping

    What: jinja2.Environment (or SandboxedEnvironment) created without autoescape= or
    with autoescape=False, and jinja2.Template built directly, which escapes nothing
    unless told to. A Template whose text the file spells out (a literal, through names,
    constants, class attributes, strip and dedent) without any markup is not HTML and is
    not reported; one whose text comes from elsewhere (another module, a parameter) in a
    file with no sign of HTML is low. Environments in a module with no sign of HTML (no .html names, markup
    or text/html in the code's strings, no web framework import; comments, docstrings and
    URLs are not signs) are low: text templates (config files, e-mails in plain text,
    names mapped from an identity provider's claims) need no HTML escaping. An
    environment held in a local name that the code only configures, reads sources
    through (loader.get_source) or parses with is low: nothing is rendered through it.
    Why: without autoescaping, a value rendered into an HTML template keeps its <, > and
    quotes, so text from a user can add script to the page (cross-site scripting). This
    is CWE-79 rather than CWE-1336: the template itself is trusted, the defect is output
    that is not neutralised for HTML; CWE-1336 covers input that reaches template syntax.
    Example:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader("templates"))
    Fix: jinja2.Environment(loader=..., autoescape=jinja2.select_autoescape()) (or
    autoescape=True), and load templates from that environment instead of constructing
    jinja2.Template directly; mark vetted HTML with markupsafe.Markup.
    """

    id = "SCR106"
    name = "jinja2-autoescape-off"
    category = Category.INJECTION
    cwe = 79
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    calls = (
        "jinja2.Environment",
        "jinja2.environment.Environment",
        "jinja2.sandbox.SandboxedEnvironment",
        "jinja2.Template",
        "jinja2.environment.Template",
    )
    bandit = ("B701",)
    ruff = ("S701",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if any(kw.arg is None for kw in call.keywords):
            return  # **options may carry autoescape
        is_template = name.endswith("Template")
        value = argument(call, "autoescape", AUTOESCAPE_POSITION["Template" if is_template else "Environment"])
        if value is None:
            problem = "without autoescape"
        elif is_false(value):
            problem = "with autoescape=False"
        else:
            return  # True, select_autoescape(...) or a value chosen at run time
        if is_template:
            spelled = literal_text(argument(call, "source", 0) or call, walk.src)
            if spelled is not None and not is_markup(spelled[0]):
                return  # the file spells the template out and it holds no markup: not HTML
            if spelled is None and not _html_signs(walk.src):
                yield self.finding(call, f"{name} built directly {problem}; its text comes from elsewhere and "
                                   "nothing in the file suggests it is HTML, so escaping may not apply", walk.src,
                                   scope=walk.scope_name, severity=Severity.LOW, confidence=Confidence.LOW)  # fmt: skip
                return
            yield self.finding(
                call,
                f"{name} built directly {problem}, so rendered values are not HTML-escaped",
                walk.src,
                scope=walk.scope_name,
                severity=Severity.MEDIUM,
                confidence=Confidence.LOW,
            )
            return
        if not _html_signs(walk.src):
            yield self.finding(call, f"{name} created {problem}; nothing in the file suggests the templates are "
                               "HTML, so escaping may not apply", walk.src, scope=walk.scope_name,
                               severity=Severity.LOW, confidence=Confidence.LOW)  # fmt: skip
            return
        if _never_renders(call, walk):
            yield self.finding(call, f"{name} created {problem}, but the code only configures it and reads or "
                               "parses template sources with it; nothing is rendered through it here", walk.src,
                               scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
            return
        yield self.finding(
            call,
            f"{name} created {problem}, so rendered values are not HTML-escaped",
            walk.src,
            scope=walk.scope_name,
        )
