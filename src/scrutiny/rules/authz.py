"""Authorization rules (93x): handlers that skip the check their siblings make, checks
made after the action, and checks whose target the caller writes.

Per module: a handler is compared with the other handlers of its class (or, for
module-level routes and views, of its module). A check is a call to an authorization
idiom (oslo.policy ``context.can``/``enforce``/``authorize``, Django ``has_perm``, DRF
``check_object_permissions``...), a raise of a forbidden error under a condition, an
authorization decorator (``login_required``, ``permission_required``, the project's own
decorator whose body checks), a FastAPI ``Security``/``Depends`` on an auth dependency,
or a call to a function of the same module or class that makes one of these.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Location, Severity
from scrutiny.rules.base import DEFAULT_CONTEXT, Rule, drop, name_parts, walk_function
from scrutiny.context import ROUTE_DECORATORS
from scrutiny.rules.handlers import FunctionNode, Handler, handlers, id_reads, reads_request_field
from scrutiny.source import SourceFile

CHECK_CALLS = {"can", "enforce", "authorize", "authorise", "has_perm", "has_perms", "has_permission", "has_permissions",
               "has_object_permission", "check_permissions", "check_object_permissions", "check_policy",
               "enforce_policy", "check_permission", "require_permission", "check_access", "is_authorized",
               "require_admin_context", "check_is_admin", "authorize_request", "user_passes_test"}  # fmt: skip
CHECK_NAME = re.compile(
    r"^_?(check|require|ensure|verify|assert|enforce|validate)_\w*(perm|polic|auth|access|admin|owner|role|scope|"
    r"privilege)|(authori[sz]e|_can)$"
)
AUTH_WORDS = {"login", "auth", "authenticated", "authorized", "authorize", "authorization", "permission",
              "permissions", "perm", "perms", "policy", "policies", "admin", "role", "roles", "scope", "scopes",
              "protected", "protect", "owner", "staff", "superuser", "jwt", "token", "passes", "current", "security",
              "authenticate", "access"}  # fmt: skip
EXEMPTION_WORDS = frozenset({"not", "no", "exempt", "skip", "without", "public", "anonymous", "optional"})
NOT_AUTH_DECORATORS = {"require_http_methods", "require_GET", "require_POST", "require_safe", "api_version"}
FORBIDDEN_ERRORS = re.compile(r"(Forbidden|PermissionDenied|NotAuthorized|Unauthorized|AccessDenied|NotAllowed|"
                              r"PolicyNotAuthorized|AuthorizationError|PermissionError)$")  # fmt: skip
MIXINS = re.compile(r"(LoginRequired|PermissionRequired|UserPassesTest|Access|Auth\w*)Mixin$")
ROLE_KEY = re.compile(
    r"^(is_?)?(admin|administrator|superuser|staff|root|privileged)$|^(user_?)?roles?$|^access_?level$|^permissions?$"
)
TARGET_KEYWORDS = ("target", "target_obj", "obj", "object")
CREDENTIAL_KEYWORDS = ("creds", "credentials")
MUTATING_VERBS = {"delete", "destroy", "remove", "update", "save", "create", "set", "put", "patch", "write", "add",
                  "attach", "detach", "reboot", "rebuild", "resize", "migrate", "start", "stop", "commit", "insert",
                  "drop", "revoke", "grant", "reset", "change", "modify", "lock", "unlock", "pause", "unpause",
                  "suspend", "resume", "evacuate", "shelve", "unshelve", "rename", "move", "execute", "purge",
                  "restore", "rescue", "unrescue", "backup", "snapshot", "confirm", "revert", "trigger", "associate",
                  "disassociate", "upload", "transfer", "approve", "cancel", "inject", "evict", "register",
                  "unregister", "enable", "disable", "terminate", "kill", "assign", "unassign", "import"}  # fmt: skip


def _tail(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _shown(node: ast.AST) -> str:
    """How an idiom is named in a message: 'context.can', '@login_required'."""
    func = node.func if isinstance(node, ast.Call) else node
    text = ast.unparse(func)
    return text if len(text) <= 40 else _tail(func)


def _label(node: ast.AST) -> str:
    return _shown(node) if isinstance(node, ast.Call) else "the forbidden check"


def _is_check_call(call: ast.Call) -> bool:
    tail = _tail(call)
    return tail in CHECK_CALLS or bool(CHECK_NAME.search(tail))


def _is_auth_name(name: str) -> bool:
    parts = set(name_parts(name))
    # CSRF decorators (requires_csrf_token, csrf_protect) guard against forged requests,
    # not against who sends them: they decide nothing about access.
    # login_not_required, permission_exempt, skip_auth: an exemption from the check, the
    # opposite of one.
    if parts & EXEMPTION_WORDS:
        return False
    return name not in NOT_AUTH_DECORATORS and "csrf" not in parts and bool(parts & AUTH_WORDS)


# The HTTP statuses of an access denial: 401 Unauthorized and 403 Forbidden.
DENIAL_STATUSES = frozenset({401, 403})


def _answers_with_denial(decorator: ast.expr) -> bool:
    """A decorator given the status it answers with when its requirement fails, 401 or 403
    (Permissions.ADMIN.require(403)): an access check, whatever its name."""
    if not isinstance(decorator, ast.Call):
        return False
    values = [*decorator.args, *(kw.value for kw in decorator.keywords)]
    return any(isinstance(v, ast.Constant) and v.value in DENIAL_STATUSES and not isinstance(v.value, bool) for v in values)


def raises_forbidden(node: ast.AST) -> bool:
    """A raise of a forbidden or unauthorized error, or abort(401/403): an access denial."""
    if isinstance(node, ast.Raise) and node.exc is not None:
        return bool(FORBIDDEN_ERRORS.search(_tail(node.exc)))
    if isinstance(node, ast.Call) and _tail(node) == "abort" and node.args:
        return isinstance(node.args[0], ast.Constant) and node.args[0].value in DENIAL_STATUSES
    return False


@dataclass
class Module:
    """The file's functions by name, for following a handler into its helpers."""

    src: SourceFile
    functions: dict[str, FunctionNode] = field(default_factory=dict)
    methods: dict[tuple[str, str], FunctionNode] = field(default_factory=dict)
    owner: dict[FunctionNode, ast.ClassDef] = field(default_factory=dict)
    checks_of: dict[FunctionNode, list[tuple[ast.AST, str]]] = field(default_factory=dict)
    module_wide: str = ""

    def __post_init__(self) -> None:
        for node in self.src.tree.body:
            if isinstance(node, FunctionNode):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, FunctionNode):
                        self.methods[(node.name, item.name)] = item
                        self.owner[item] = node
        for call in self.src.index.of_type(ast.Call):
            assert isinstance(call, ast.Call)
            if _tail(call) in ("APIRouter", "FastAPI", "Blueprint") and self.src.index.function_of.get(call) is None:
                dependency = next((kw.value for kw in call.keywords if kw.arg == "dependencies"), None)
                if dependency is not None and self._auth_dependency(dependency):
                    self.module_wide = f"{_tail(call)}(dependencies=[...])"

    def callee(self, call: ast.Call, owner: ast.ClassDef | None) -> FunctionNode | None | bool:
        """The local function a call runs; True when it is an inherited method we cannot see."""
        func = call.func
        if isinstance(func, ast.Name):
            return self.functions.get(func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
            if owner is not None:
                found = self.methods.get((owner.name, func.attr))
                if found is not None:
                    return found
                return bool(owner.bases) and not func.attr.startswith("__")
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and _tail(func.value) == "super":
            return True
        return None

    def _auth_dependency(self, node: ast.AST) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and _tail(sub) in ("Security", "Depends"):
                if _tail(sub) == "Security" or any(_is_auth_name(_tail(a)) for a in sub.args):
                    return True
        return False

    def _decorator_checks(self, decorator: ast.expr) -> bool:
        name = _tail(decorator)
        if _is_auth_name(name) or _answers_with_denial(decorator):
            return True
        if name == "method_decorator" and isinstance(decorator, ast.Call):
            return any(_is_auth_name(_tail(a)) for a in decorator.args)  # method_decorator(login_required, ...)
        local = self.functions.get(name)
        return local is not None and bool(self.checks(local, set()))

    def checks(self, function: FunctionNode, seen: set[FunctionNode]) -> list[tuple[ast.AST, str]]:
        """Where ``function`` checks authorization, directly or through a local helper."""
        if function in self.checks_of:
            return self.checks_of[function]
        if function in seen:
            return []
        seen.add(function)
        owner = self.owner.get(function)
        found: list[tuple[ast.AST, str]] = []
        for decorator in function.decorator_list:
            if self._decorator_checks(decorator):
                found.append((decorator, f"@{_shown(decorator)}"))
            elif isinstance(decorator, ast.Call) and self._auth_dependency(
                ast.List([kw.value for kw in decorator.keywords if kw.arg == "dependencies"])
            ):
                found.append((decorator, "a route dependency (dependencies=[...])"))
        defaults = [*function.args.defaults, *(d for d in function.args.kw_defaults if d is not None)]
        for default in defaults:
            if self._auth_dependency(default):
                found.append((default, _shown(default)))
        for node in walk_function(function):
            if isinstance(node, ast.Call) and _is_check_call(node):
                found.append((node, _shown(node)))
            elif raises_forbidden(node) and not self._in_except(node):
                raised = _tail(node.exc) if isinstance(node, ast.Raise) and node.exc is not None else "abort(403)"
                found.append((node, f"a conditional {raised}"))
            elif isinstance(node, ast.Call):
                callee = self.callee(node, owner)
                if isinstance(callee, FunctionNode) and callee is not function and self.checks(callee, seen):
                    found.append((node, self.checks(callee, seen)[0][1]))
        self.checks_of[function] = found
        return found

    def _in_except(self, node: ast.AST) -> bool:
        parent = self.src.index.parents.get(node)
        while parent is not None and not isinstance(parent, FunctionNode):
            if isinstance(parent, ast.ExceptHandler):
                return True
            parent = self.src.index.parents.get(parent)
        return False

    def class_checks(self, owner: ast.ClassDef | None) -> str:
        """An authorization idiom applied to the whole class, if any."""
        if owner is None:
            return self.module_wide
        for base in owner.bases:
            if MIXINS.search(_tail(base)):
                return _tail(base)
        for decorator in owner.decorator_list:
            if self._decorator_checks(decorator):
                return f"@{_shown(decorator)}"
        for item in owner.body:
            if isinstance(item, ast.Assign) and any(getattr(t, "id", "") == "permission_classes" for t in item.targets):
                if "AllowAny" not in ast.unparse(item.value):
                    return "permission_classes"
        return self.module_wide

    def delegates(self, function: FunctionNode) -> bool:
        """Calls a method we cannot see (inherited, super()): it may check there."""
        owner = self.owner.get(function)
        return any(self.callee(n, owner) is True for n in walk_function(function) if isinstance(n, ast.Call))


_LAST: list[Module] = []


def module_of(src: SourceFile) -> Module:
    """The file's Module, shared by the three rules and the observer that ask in turn."""
    if not (_LAST and _LAST[0].src is src):
        _LAST[:] = [Module(src)]
    return _LAST[0]


# Template loaders of Django and Flask, with the position and keyword of the template
# name they take. A template name picks how a response is drawn, not whose data it shows.
# (render_template_string is not here: it takes template source, not a name.)
TEMPLATE_LOADERS = {
    "django.template.response.TemplateResponse": (1, "template"),
    "django.template.response.SimpleTemplateResponse": (0, "template"),
    "django.shortcuts.render": (1, "template_name"),
    "django.shortcuts.render_to_response": (0, "template_name"),
    "django.template.loader.get_template": (0, "template_name"),
    "django.template.loader.select_template": (0, "template_name_list"),
    "django.template.loader.render_to_string": (0, "template_name"),
    "flask.render_template": (0, "template_name_or_list"),
    "flask.templating.render_template": (0, "template_name_or_list"),
}


def _template_argument(call: ast.Call, src: SourceFile) -> ast.expr | None:
    """The template name ``call`` loads, when it is a template loader."""
    place = TEMPLATE_LOADERS.get(src.qualname(call.func) or "")
    if place is None:
        return None
    position, name = place
    if len(call.args) > position:
        return call.args[position]
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _template_names(handler: Handler, src: SourceFile) -> set[str]:
    """Parameters of the handler whose every use picks a template: given as the template
    name to a template loader, or appended to (inserted in) a local list of candidate
    names that is given as one. Such a parameter is a view option (a URLconf kwarg with a
    default), and a template name is not a resource someone can be denied."""
    loaded: set[str] = set()
    calls = [n for n in walk_function(handler.function) if isinstance(n, ast.Call)]
    for call in calls:
        argument = _template_argument(call, src)
        if isinstance(argument, ast.Name):
            loaded.add(argument.id)
    picked: set[str] = set()
    for name in handler.path_params:
        uses = [n for n in walk_function(handler.function)
                if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]  # fmt: skip
        if not uses:
            continue
        fine = True
        for use in uses:
            if name in loaded and any(_template_argument(c, src) is use for c in calls):
                continue
            holder = next((c for c in calls if use in c.args), None)
            func = holder.func if holder is not None else None
            if (
                isinstance(func, ast.Attribute) and func.attr in ("append", "insert")
                and isinstance(func.value, ast.Name) and func.value.id in loaded
            ):  # fmt: skip
                continue
            fine = False
            break
        if fine:
            picked.add(name)
    return picked


def resource_inputs(handler: Handler, src: SourceFile | None = None) -> list[ast.AST]:
    """Uses of request input that names a resource, as arguments of calls (with ``src``,
    not the parameters that only pick a template)."""
    names = set(handler.path_params)
    if src is not None:
        names -= _template_names(handler, src)
    found: list[ast.AST] = []
    for node in walk_function(handler.function):
        if isinstance(node, ast.Call) and _tail(node) not in ("_", "str", "int", "len", "isinstance"):
            for argument in [*node.args, *(kw.value for kw in node.keywords)]:
                if isinstance(argument, ast.Name) and argument.id in names:
                    found.append(argument)
    return found + id_reads(handler)


def authorization_checks(src: SourceFile) -> list[tuple[Handler, list[tuple[ast.AST, str]]]]:
    """Each request handler with where it checks authorization (empty when it does not)."""
    found = handlers(src)
    if not found:
        return []
    module = module_of(src)
    return [(h, module.checks(h.function, set()) or _class_check(module, h)) for h in found]


def _class_check(module: Module, handler: Handler) -> list[tuple[ast.AST, str]]:
    label = module.class_checks(handler.owner)
    return [(handler.owner or handler.function, label)] if label else []


def _most_common(labels: list[str]) -> str:
    return max(sorted(set(labels)), key=labels.count)


class MissingAuthorization(Rule):
    """Request handler acts on a resource with no authorization check, unlike its siblings

    What: a route, view or API controller method that passes a path parameter or an id
    read from the body or query to a call, with no authorization check on any path
    through it (directly, in a decorator, a FastAPI dependency, a class mixin or a
    helper of the same module; a decorator given the status it answers with on failure,
    401 or 403, such as Permissions.ADMIN.require(403), is a check), while most other
    handlers of the same class or module do check. Handlers of public endpoints, whose siblings do not check either, are not
    reported; nor are handlers that hand the work to an inherited method. A module-level
    function of a Django module that takes the request first is a view only when it makes
    a response (a helper views call, flows.disconnect(request, account), is not), and the
    objects whose attributes it reads are not URL captures. Decorators that exempt a view
    (login_not_required, csrf decorators such as requires_csrf_token) are not checks, so
    a sibling without them is not held to them. A parameter whose every use is the template
    name given to a template loader (Django's TemplateResponse, render, get_template;
    Flask's render_template), directly or through a list of candidate names, is not a
    resource: it is a view option that picks how the response is drawn.
    The finding is low, with the reason, when the check may be made where this file cannot
    see it or the route is public by declaration: a GET route that declares whom it admits
    (router.get(..., auth=[...])), an id looked up in a set built from the request
    (get_object_or_404(visible_to(request), pk=id)), or the resource passed with the
    requesting user (request.user) to code the file does not define (an action object that
    checks the user's permission when it runs; not an ORM manager call), the handler is
    wrapped by a decorator imported from the project's own code (a relative import or a
    module of a package this file sits in; not a route, HTTP-method, CSRF or exemption
    decorator), which runs before the body and can make the check where this file cannot
    see it, or a module-level function found as a view is called in this file only by
    functions that check first (a helper of those views; it may still be routed elsewhere).
    Why: the caller chooses the id; without a check, anyone who can reach the endpoint
    reads or changes other users' or projects' resources by naming them (an insecure
    direct object reference).
    Example:
        @wsgi.expected_errors(404)
        def show(self, req, id):
            context = req.environ["nova.context"]
            return self.api.get(context, id)
    Fix: make the check the sibling handlers make (the finding names it), against the
    loaded resource, before reading or changing it:
    context.can(policy.SHOW, target={"project_id": server.project_id}).
    """

    id = "SCR930"
    name = "missing-authorization"
    category = Category.INPUT_VALIDATION
    cwe = 862
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    context = {**DEFAULT_CONTEXT, FileKind.TEST: drop("handlers in tests are fakes for the code under test")}

    def check_file(self, src: SourceFile) -> Iterator[Finding]:
        found = handlers(src)
        if len(found) < 2:
            return
        module = module_of(src)
        groups: dict[int, list[Handler]] = {}
        for handler in found:
            groups.setdefault(id(handler.owner), []).append(handler)
        for group in groups.values():
            if module.class_checks(group[0].owner):
                continue
            checked = {h.function: module.checks(h.function, set()) for h in group}
            inputs_of = {h.function: resource_inputs(h, src) for h in group}
            for handler in group:
                if checked[handler.function] or module.delegates(handler.function):
                    continue
                inputs = inputs_of[handler.function]
                siblings = [h for h in group if h is not handler and inputs_of[h.function]]
                checking = [h for h in siblings if checked[h.function]]
                if not inputs or not checking or 2 * len(checking) < len(siblings):
                    continue
                idiom = _most_common([checked[h.function][0][1] for h in checking])
                example = next(h for h in checking if checked[h.function][0][1] == idiom)
                line = getattr(checked[example.function][0][0], "lineno", example.function.lineno)
                named = ast.unparse(inputs[0])
                message = (
                    f"{handler.name} uses {named} from the request with no authorization check, while "
                    f"{len(checking)} of {len(siblings)} sibling handlers check with {idiom}"
                )
                settled = _settled_elsewhere(handler, module, src)
                yield self.finding(
                    handler.function,
                    f"{message}; {settled}" if settled else message,
                    src,
                    scope=handler.name,
                    severity=Severity.LOW if settled else None,
                    fix=f"check with {idiom} before touching the resource, as {example.name} does at line {line}",
                )

    def finding(self, node: ast.AST | Location, message: str, src: SourceFile, **kwargs: object) -> Finding:
        if isinstance(node, FunctionNode):  # point at the def line, not the decorators or the body
            node = Location(src.path, node.lineno, node.col_offset, node.lineno, node.col_offset)
        return super().finding(node, message, src, **kwargs)  # type: ignore[arg-type]


READ_ROUTES = frozenset({"get", "head", "options"})


def _route_call(handler: Handler, src: SourceFile) -> ast.Call | None:
    """The route decorator of a handler (router.get("/x/{id}", auth=...))."""
    for decorator in handler.function.decorator_list:
        if isinstance(decorator, ast.Call) and _tail(decorator) in ROUTE_DECORATORS:
            return decorator
    return None


def _requester(node: ast.AST, request: str) -> bool:
    """``request.user``: the identity of whoever sent the request."""
    return (
        isinstance(node, ast.Attribute) and node.attr == "user" and isinstance(node.value, ast.Name)
        and node.value.id == request
    )  # fmt: skip


def _settled_elsewhere(handler: Handler, module: Module, src: SourceFile) -> str:
    """Why the missing check may be made where this file cannot see it, or be a declared
    choice ('' when nothing says so): the route declares its own authentication for a read,
    the id is looked up in a set built from the request, or the resource and the
    requesting user go together to code of another file that acts on it."""
    request = handler.request or "request"
    route = _route_call(handler, src)
    if route is not None and _tail(route) in READ_ROUTES and any(kw.arg == "auth" for kw in route.keywords):
        return "the route declares whom it admits (auth=...) for this read, a deliberate choice"
    wrapper = _project_decorator(handler, src)
    if wrapper:
        return (
            f"it is wrapped by @{wrapper}, which another module of this project defines and which can make "
            "the check before the body runs: verify that it does"
        )
    callers = _checking_callers(handler, module, src)
    if callers:
        return (
            f"this file calls it only from {callers}, which check first: it serves them as a helper "
            "(verify that no route reaches it directly)"
        )
    derived = _derived_names(handler)
    for node in walk_function(handler.function):
        if not isinstance(node, ast.Call):
            continue
        arguments = [*node.args, *(kw.value for kw in node.keywords)]
        if not any(isinstance(a, ast.Name) and a.id in derived for a in arguments):
            continue
        for argument in arguments:
            if isinstance(argument, ast.Call) and any(
                (isinstance(a, ast.Name) and a.id == request) or _requester(a, request)
                for a in [*argument.args, *(kw.value for kw in argument.keywords)]
            ):
                return f"it is looked up in {ast.unparse(argument)[:60]}, a set built for this request"
        callee = module.callee(node, handler.owner)
        if callee is None and "objects" not in ast.unparse(node.func) and any(_requester(a, request) for a in arguments):
            return (
                f"it goes with the requesting user ({request}.user) to {_shown(node)}, which this file does not "
                "define and which can make the check: verify that it does"
            )
    return ""


def _project_decorator(handler: Handler, src: SourceFile) -> str:
    """A decorator of the handler imported from the project's own code (a relative import,
    or a module of a package this file sits in), other than a route, method or exemption
    decorator: it wraps the view in code this file cannot see, where a check may be made."""
    if not src.in_package:
        return ""
    directories = set(src.path.replace("\\", "/").split("/")[:-1])
    for decorator in handler.function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = src.qualname(target) or ""
        tail = _tail(decorator)
        parts = set(name_parts(tail))
        if (
            not name or tail in NOT_AUTH_DECORATORS or tail in ROUTE_DECORATORS
            or parts & EXEMPTION_WORDS or "csrf" in parts or name == tail
        ):
            continue
        if name.startswith(".") or ("." in name and name.split(".", 1)[0] in directories):
            return _shown(decorator)
    return ""


def _checking_callers(handler: Handler, module: Module, src: SourceFile) -> str:
    """The functions of the file that call this module-level function by name, when there
    are some and every one of them checks authorization ('' otherwise)."""
    if handler.owner is not None:
        return ""
    callers: list[FunctionNode] = []
    for call in src.index.of_type(ast.Call):
        assert isinstance(call, ast.Call)
        if not (isinstance(call.func, ast.Name) and call.func.id == handler.name):
            continue
        caller = src.index.function_of.get(call)
        while caller is not None and src.index.function_of.get(caller) is not None:
            caller = src.index.function_of.get(caller)
        if caller is None or caller is handler.function or not module.checks(caller, set()):
            return ""
        callers.append(caller)
    names = sorted({c.name for c in callers})
    return ", ".join(names[:3]) + (" and others" if len(names) > 3 else "")


def _calls_in_order(function: FunctionNode) -> list[ast.Call]:
    nodes = [n for n in walk_function(function) if isinstance(n, ast.Call)]
    return sorted(nodes, key=lambda n: (n.lineno, n.col_offset))


def _is_mutating(call: ast.Call) -> bool:
    parts = name_parts(_tail(call))
    return bool(parts) and parts[0] in MUTATING_VERBS


def _derived_names(handler: Handler) -> set[str]:
    """Path parameters and names assigned, in order, from them or from request ids."""
    names = set(handler.path_params)
    ids = {id(n) for n in id_reads(handler)}
    assigns = sorted((n for n in walk_function(handler.function) if isinstance(n, ast.Assign)), key=lambda n: n.lineno)
    for assign in assigns:
        used = {n.id for n in ast.walk(assign.value) if isinstance(n, ast.Name)}
        if used & names or any(id(n) in ids for n in ast.walk(assign.value)):
            names.update(t.id for t in assign.targets if isinstance(t, ast.Name))
    return names


class AuthorizationAfterAction(Rule):
    """Authorization checked only after the handler has changed the resource

    What: in a request handler, the first authorization check (see SCR930 for what
    counts) comes after a call that changes a resource named by the request (a call
    named delete, update, save, create, attach, reboot... taking a path parameter, a
    request id or a value loaded from them).
    Why: a failed check then only stops the response: the change has already been
    made, so a caller without the right deletes or modifies the resource and sees an
    error afterwards.
    Example:
        def delete(self, req, id):
            self.api.delete(context, id)
            context.can(policy.DELETE, target={"project_id": context.project_id})
    Fix: move the check before the first call that changes anything; load the
    resource first if the check needs its owner.
    """

    id = "SCR931"
    name = "authorization-after-action"
    category = Category.INPUT_VALIDATION
    cwe = 696
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    context = {**DEFAULT_CONTEXT, FileKind.TEST: drop("handlers in tests are fakes for the code under test")}

    def check_file(self, src: SourceFile) -> Iterator[Finding]:
        found = handlers(src)
        if not found:
            return
        module = module_of(src)
        for handler in found:
            checks = [n for n, _ in module.checks(handler.function, set())]
            body_start = handler.function.body[0].lineno
            if not checks or any(getattr(n, "lineno", 0) < body_start for n in checks):
                continue  # a decorator or a dependency checks before the body runs
            first = min(checks, key=_position)
            names = _derived_names(handler)
            owner = module.owner.get(handler.function)
            for call in _calls_in_order(handler.function):
                if _position(call) >= _position(first):
                    break
                if not _is_mutating(call) or isinstance(module.callee(call, owner), FunctionNode):
                    continue
                arguments = [*call.args, *(kw.value for kw in call.keywords)]
                if isinstance(call.func, ast.Attribute):
                    arguments.append(call.func.value)  # post.save() changes post
                if any(isinstance(n, ast.Name) and n.id in names for a in arguments for n in ast.walk(a)):
                    yield self.finding(
                        first,
                        f"{_label(first)} at line {_position(first)[0]} runs after {_shown(call)} "
                        f"(line {call.lineno}) has already changed the resource",
                        src,
                        scope=handler.name,
                    )
                    break


def _position(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def _target_argument(call: ast.Call) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg in TARGET_KEYWORDS:
            return kw.value
    if _tail(call) in ("can", "enforce", "authorize", "has_perm", "has_perms") and len(call.args) > 1:
        return call.args[1]
    return None


def _request_names(handler: Handler) -> dict[str, ast.AST]:
    """Names assigned from the body or a request container, with the assignment."""
    found: dict[str, ast.AST] = {}
    for node in walk_function(handler.function):
        if isinstance(node, ast.Assign) and reads_request_field(node.value, handler):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node
    return found


class AuthorizationTargetFromRequest(Rule):
    """Authorization target or credentials taken from the request the caller writes

    What: an authorization call (context.can, enforce, authorize, has_perm) whose
    target or credentials argument reads the request body or query (body["project_id"],
    req.GET["user_id"], request.json["owner"]), directly or through a variable, when the
    handler does not act on that same value; and a handler that branches on a role the
    request states (body["is_admin"], request.headers["X-Role"], role = ...), unless
    the stated role is only the argument of a check of the signed-in user
    (has_permissions(*requested)), which the server decides.
    Why: the policy then checks a resource the caller describes, not the one the
    handler acts on: a caller names their own project in the body and reads or changes
    another project's server (policy bypass).
    Example:
        context.can(policy.UPDATE, target={"project_id": body["project_id"]})
        self.api.update(context, id, body)
    Fix: build the target from the resource as stored: load it by its id, then
    context.can(policy.UPDATE, target={"project_id": server.project_id}); take
    credentials only from the authenticated context.
    """

    id = "SCR932"
    name = "authorization-target-from-request"
    category = Category.INPUT_VALIDATION
    cwe = 639
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    context = {**DEFAULT_CONTEXT, FileKind.TEST: drop("handlers in tests are fakes for the code under test")}

    def check_file(self, src: SourceFile) -> Iterator[Finding]:
        for handler in handlers(src):
            assigned = _request_names(handler)
            calls = [n for n in walk_function(handler.function) if isinstance(n, ast.Call)]
            checks = [c for c in calls if _is_check_call(c)]
            inside = {id(n) for c in checks for n in ast.walk(c)}
            actions = [c for c in calls if id(c) not in inside]
            for call in checks:
                credentials = next((kw.value for kw in call.keywords if kw.arg in CREDENTIAL_KEYWORDS), None)
                if credentials is not None and (reads_request_field(credentials, handler) or
                                                 set(_names(credentials)) & set(assigned)):  # fmt: skip
                    yield self.finding(call, f"{_shown(call)} decides with credentials taken from the request", src,
                                       scope=handler.name)  # fmt: skip
                    continue
                target = _target_argument(call)
                if target is None:
                    continue
                inline = reads_request_field(target, handler)
                via = [n for n in _names(target) if n in assigned]
                if not inline and not via:
                    continue
                inner = {id(s.value) for s in ast.walk(target) if isinstance(s, ast.Subscript)}
                used = {ast.unparse(s) for s in ast.walk(target) if isinstance(s, ast.Subscript) and id(s) not in inner}
                used |= set(via)
                if any(_uses(other, used) for other in actions):
                    continue  # the handler acts on the very value it checked
                where = "the request body or query" if inline else f"{via[0]} (line {_position(assigned[via[0]])[0]})"
                yield self.finding(call, f"{_shown(call)} checks a target built from {where}, which the caller "
                                   "controls", src, scope=handler.name)  # fmt: skip
            yield from self._role_decisions(handler, assigned, src)

    def _role_decisions(self, handler: Handler, assigned: dict[str, ast.AST], src: SourceFile) -> Iterator[Finding]:
        """if body.get("is_admin"): / if request.headers["X-Role"] == "admin": the caller says who they are."""
        for node in walk_function(handler.function):
            if not isinstance(node, ast.If | ast.IfExp):
                continue
            test = node.test
            # A role the request names but a check call verifies against the signed-in user
            # (has_permissions(*requested)) is decided by the server, not by the caller.
            verified = {id(n) for c in ast.walk(test) if isinstance(c, ast.Call) and _is_check_call(c)
                        for n in ast.walk(c)}  # fmt: skip
            via = [n.id for n in ast.walk(test) if isinstance(n, ast.Name) and id(n) not in verified
                   and n.id in assigned and ROLE_KEY.match(_normal(n.id))]  # fmt: skip
            keys = [k for k in _read_keys(test) if ROLE_KEY.match(_normal(k))]
            if (keys and reads_request_field(test, handler)) or via:
                what = f"'{keys[0]}'" if keys else f"{via[0]} (line {_position(assigned[via[0]])[0]})"
                yield self.finding(node, f"the handler decides on the caller's role from {what}, a request field "
                                   "the caller writes", src, scope=handler.name)  # fmt: skip


def _normal(key: str) -> str:
    key = key.lower().replace("-", "_")
    return key[2:] if key.startswith("x_") else key


def _read_keys(node: ast.AST) -> list[str]:
    """String keys read in ``node``: body["is_admin"], headers.get("X-Role")."""
    keys: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Subscript) and isinstance(key := sub.slice, ast.Constant) and isinstance(key.value, str):
            keys.append(key.value)
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "get" and sub.args:
            if isinstance(first := sub.args[0], ast.Constant) and isinstance(first.value, str):
                keys.append(first.value)
    return keys


def _names(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def _uses(call: ast.Call, values: set[str]) -> bool:
    for argument in [*call.args, *(kw.value for kw in call.keywords)]:
        for sub in ast.walk(argument):
            if (isinstance(sub, ast.Name) and sub.id in values) or (
                isinstance(sub, ast.Subscript | ast.Call) and ast.unparse(sub) in values
            ):
                return True
    return False
