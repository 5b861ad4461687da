"""Archive rules (8xx): members extracted or joined to paths without a containment check."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    Rule,
    Walk,
    argument,
    exactly,
    keyword,
    name_parts,
    names_in,
    string_value,
    values_bound,
    walk_function,
)
from scrutiny.rules.containment import Reader, derived
from scrutiny.source import SourceFile

TAR_FACTORIES = frozenset(
    {"tarfile.open", "tarfile.TarFile", "tarfile.TarFile.open", "tarfile.TarFile.gzopen", "tarfile.TarFile.bz2open",
     "tarfile.TarFile.xzopen", "tarfile.TarFile.taropen"}
)  # fmt: skip
TAR_WORDS = frozenset({"tar", "tarball", "tarfile", "tgz"})


def _tar_receiver(receiver: ast.expr, call: ast.Call, src: SourceFile) -> Confidence | None:
    """How sure we are that ``receiver`` is a TarFile: HIGH when opened in sight, MEDIUM by name."""
    if isinstance(receiver, ast.Call) and src.qualname(receiver.func) in TAR_FACTORIES:
        return Confidence.HIGH
    if isinstance(receiver, ast.Name):
        scope = src.index.function_of.get(call) or src.tree
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                bound = any(isinstance(t, ast.Name) and t.id == receiver.id for t in node.targets)
                if bound and src.qualname(node.value.func) in TAR_FACTORIES:
                    return Confidence.HIGH
            elif isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
                if node.optional_vars.id == receiver.id and isinstance(node.context_expr, ast.Call):
                    if src.qualname(node.context_expr.func) in TAR_FACTORIES:
                        return Confidence.HIGH
    last = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    return Confidence.MEDIUM if set(name_parts(last)) & TAR_WORDS else None


def _sets_default_filter(src: SourceFile) -> bool:
    """TarFile.extraction_filter (class or instance) sets the filter for every extraction."""
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Attribute) and t.attr == "extraction_filter" for t in node.targets)
        for node in src.index.by_type.get(ast.Assign, ())
    )


class TarExtractWithoutFilter(Rule):
    """Tar archive extracted without an extraction filter

    What: extractall() or extract() on a tarfile.TarFile (opened in the same function,
    or named tar/tarball) without filter= ("data" or "tar"), or with
    filter="fully_trusted", unless members= passes a selection function's result or
    the file sets TarFile.extraction_filter. Members checked to stay under the
    destination are not reported: each member's path resolved (realpath, abspath,
    Path.resolve) and tested against the base (startswith, commonpath, is_relative_to),
    inline or by a function of the file whose body does so, with a failed check raising
    or returning (or skipping the member when one is extracted at a time), or the filter
    of a members= comprehension. When only names are checked, not link targets, the
    finding is low; a check by a function of another module, which scrutiny cannot read,
    lowers the confidence and the message names it.
    Why: before Python 3.14 tarfile writes members wherever their names point:
    "../../etc/cron.d/x", absolute paths, and symlinks or hard links to files outside
    the destination, so an archive from elsewhere can overwrite any file the process
    can write.
    Example:
        with tarfile.open(upload) as tar:
            tar.extractall(dest)
    Fix: tar.extractall(dest, filter="data") (Python 3.12+, backported to 3.8.17+);
    on older versions check each member's resolved path stays under dest first.
    """

    id = "SCR802"
    name = "tar-extract-without-filter"
    category = Category.FILESYSTEM
    cwe = 22
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    node_types = (ast.Call,)
    call_filter = exactly("extractall", "extract")
    bandit = ("B202",)
    ruff = ("S202",)

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr not in ("extractall", "extract"):
            return
        confidence = _tar_receiver(func.value, node, walk.src)
        if confidence is None:
            return
        given = keyword(node, "filter")
        if given is not None and string_value(given) != "fully_trusted":
            return
        members = argument(node, "members", 1) if func.attr == "extractall" else None
        if isinstance(members, ast.Call) and not (
            isinstance(members.func, ast.Attribute) and members.func.attr == "getmembers"
        ):
            return  # a selection function decides which members are written
        if _sets_default_filter(walk.src):
            return
        how = 'filter="fully_trusted"' if given is not None else "no filter"
        shown = f"{ast.unparse(func)}() with {how}"
        checked = member_check(node, walk)
        if checked is None:
            yield self.finding(node, f"{shown} writes members wherever their names point",
                               walk.src, scope=walk.scope_name, confidence=confidence)  # fmt: skip
        elif checked.unread:
            # The check may be exactly the containment test needed: say so, and claim less.
            yield self.finding(node, f"{shown}; each member's path passes {checked.how} at line {checked.line}, "
                               "a check scrutiny cannot read (in another module)", walk.src, scope=walk.scope_name,
                               confidence=Confidence(max(confidence - 1, Confidence.LOW)))  # fmt: skip
        elif not checked.links:
            yield self.finding(node, f"{shown}; member names are checked by {checked.how} at line {checked.line}, "
                               "but not link targets: a symlink member can still point outside", walk.src,
                               scope=walk.scope_name, severity=Severity.LOW, confidence=confidence)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MemberCheck:
    """How the members reaching an extraction were checked to stay under the destination."""

    how: str  # the helper or test that checks them, or the call that cannot be read
    line: int
    links: bool  # link targets are checked too, or links are refused
    unread: bool = False


LEAVES_LOOP = (ast.Raise, ast.Return, ast.Continue)
ABORTS = (ast.Raise, ast.Return)
# Reads of a member that show its link target is checked or links are kept out.
LINK_READS = frozenset({"linkname", "issym", "islnk", "isreg", "isfile", "islink"})


def member_check(call: ast.Call, walk: Walk) -> MemberCheck | None:
    """The containment check every member reaching ``call`` passed, if there is one: in the
    loop that extracts one member at a time (a failed check raises, returns or skips the
    member), in a loop over the members before extractall (a failed check raises or
    returns), or in the filter of a members= comprehension."""
    func = call.func
    assert isinstance(func, ast.Attribute)
    reader = Reader(walk.src)
    if func.attr == "extract":
        member = argument(call, "member", 0)
        loop = _loop_over(call, names_in(member) if member is not None else set(), walk)
        if loop is None:
            return None
        return _checked_in(loop.target.id, loop.body, call.lineno, LEAVES_LOOP, reader)  # type: ignore[union-attr]
    members = argument(call, "members", 1)
    function = walk.function
    scope = walk_function(function) if function is not None else tuple(ast.walk(walk.src.tree))
    if isinstance(members, ast.Name):
        bound = values_bound(members.id, scope)
        members = bound[-1] if bound else members
    if isinstance(members, ast.ListComp | ast.GeneratorExp) and isinstance(members.generators[0].target, ast.Name):
        generator = members.generators[0]
        assert isinstance(generator.target, ast.Name)
        tests = [ast.If(test, [ast.Continue()], []) for test in generator.ifs]
        for test in tests:
            ast.copy_location(test, members)
        return _checked_in(generator.target.id, tests, call.lineno + 1, LEAVES_LOOP, reader)
    receiver = names_in(func.value)
    for loop in scope:
        if (
            isinstance(loop, ast.For)
            and loop.lineno < call.lineno
            and isinstance(loop.target, ast.Name)
            and names_in(loop.iter) & receiver
        ):
            found = _checked_in(loop.target.id, loop.body, call.lineno, ABORTS, reader)
            if found is not None:
                return found
    return None


def _loop_over(call: ast.Call, members: set[str], walk: Walk) -> ast.For | None:
    """The loop around ``call`` whose variable is the member it extracts."""
    node: ast.AST | None = walk.parent(call)
    while node is not None and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id in members:
            return node
        node = walk.parent(node)
    return None


def _checked_in(
    variable: str, body: list[ast.stmt], before: int, exits: tuple[type[ast.stmt], ...], reader: Reader
) -> MemberCheck | None:
    """A containment check of ``variable`` in ``body`` (above line ``before``) that leaves
    with one of ``exits`` when it fails, or a validator of the file called on it."""
    region = [n for stmt in body for n in ast.walk(stmt) if getattr(n, "lineno", before) < before]
    paths = derived({variable}, region)
    resolved = reader.resolved_names(paths, region)
    links = any(
        (isinstance(n, ast.Attribute) and n.attr in LINK_READS and names_in(n.value) & {variable})
        or (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "getattr"
            and bool(n.args) and names_in(n.args[0]) & {variable})
        for n in region
    )  # fmt: skip
    # A continue inside a loop nested in the member loop skips that loop's item, not the member.
    inner = {n for loop in region if isinstance(loop, ast.For | ast.While) for n in ast.walk(loop) if n is not loop}
    unread: MemberCheck | None = None
    for node in region:
        leaves = exits if node not in inner else tuple(e for e in exits if e is not ast.Continue)
        if isinstance(node, ast.If) and any(
            isinstance(n, leaves) for s in node.body + node.orelse for n in ast.walk(s)
        ):
            how = reader.checks(node.test, paths, resolved)
            if how:
                return MemberCheck(how, node.lineno, links)
            callee = _unread_check(node.test, paths, reader.src)
            if callee and unread is None:
                unread = MemberCheck(f"{callee}()", node.lineno, links, unread=True)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            function = reader.function_of_file(node.value)
            validates = function is not None and any(isinstance(n, ast.Raise) for n in walk_function(function))
            how = reader.checks(node.value, paths, resolved) if validates else ""
            if how:
                return MemberCheck(how, node.lineno, links)
    return unread


def _unread_check(test: ast.expr, paths: set[str], src: SourceFile) -> str:
    """A function imported from outside the standard library, given the member's path in
    the test: it may be a containment check, but its body is in another file."""
    for node in ast.walk(test):
        if isinstance(node, ast.Call) and any(names_in(a) & paths for a in node.args):
            name = src.qualname(node.func) or ""
            root = node.func.id if isinstance(node.func, ast.Name) else ""
            if root in src.aliases and name.split(".", 1)[0].lstrip(".") not in sys.stdlib_module_names:
                return name
    return ""


# SCR803 ---------------------------------------------------------------------------

MEMBER_LISTS = {"namelist": "", "infolist": "filename", "getmembers": "name", "getnames": ""}
# Calls that show the code checks where a joined path ends up.
CONTAINMENT_CALLS = frozenset(
    {"realpath", "abspath", "commonpath", "commonprefix", "is_relative_to", "relative_to", "normpath", "resolve",
     "safe_join", "secure_filename"}
)  # fmt: skip


def _member_names(loop: ast.For) -> tuple[str, str] | None:
    """(loop variable, attribute holding the member name or '') for a loop over members."""
    it = loop.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in MEMBER_LISTS):
        return None
    if not isinstance(loop.target, ast.Name):
        return None
    return loop.target.id, MEMBER_LISTS[it.func.attr]


def _is_member(node: ast.AST, variable: str, attr: str) -> bool:
    if attr:
        return (
            isinstance(node, ast.Attribute)
            and node.attr in ("filename", "name", "path")
            and isinstance(node.value, ast.Name)
            and node.value.id == variable
        )
    return isinstance(node, ast.Name) and node.id == variable


def _checks_containment(scope: ast.AST) -> bool:
    for node in ast.walk(scope):
        if isinstance(node, ast.Call):
            func = node.func
            tail = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if tail in CONTAINMENT_CALLS:
                return True
        elif isinstance(node, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            if string_value(node.left) == "..":
                return True
    return False


def _calls_containment_helper(scope: ast.AST, src: SourceFile) -> bool:
    """The function calls a helper of the file whose body checks a path's containment."""
    reader = Reader(src)
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and (function := reader.function_of_file(node)) is not None:
            if reader.helper(function):
                return True
    return False


class ArchiveMemberPathJoin(Rule):
    """Archive member name joined to a destination path without a containment check

    What: inside a loop over namelist(), infolist(), getmembers() or getnames() of a zip
    or tar archive, the member name joined to a directory with os.path.join or the
    pathlib / operator, in a function that never resolves or checks the result
    (realpath, abspath, normpath, commonpath, Path.resolve/is_relative_to, a ".." test)
    and calls no function of the file whose body makes such a containment check.
    ZipFile.extract/extractall are not reported: they strip ".." and absolute paths.
    Why: member names are chosen by whoever made the archive; "../../home/app/.ssh/
    authorized_keys" joined to the destination points outside it (zip slip), so writing
    the member overwrites an arbitrary file.
    Example:
        for name in zf.namelist():
            with open(os.path.join(dest, name), "wb") as out:
                out.write(zf.read(name))
    Fix: resolve the target and refuse members that leave the destination:
    target = os.path.realpath(os.path.join(dest, name)); if os.path.commonpath([target,
    os.path.realpath(dest)]) != os.path.realpath(dest): raise ValueError(name); or use
    zf.extract(name, dest), which sanitises the name.
    """

    id = "SCR803"
    name = "archive-member-path-join"
    category = Category.FILESYSTEM
    cwe = 22
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    node_types = (ast.For,)

    def check(self, node: ast.AST, walk: Walk) -> Iterator[Finding]:
        assert isinstance(node, ast.For)
        member = _member_names(node)
        if member is None:
            return
        variable, attr = member
        scope = walk.src.index.function_of.get(node) or walk.src.tree
        joins = [n for stmt in node.body for n in ast.walk(stmt) if self._joins_member(n, variable, attr, walk.src)]
        if not joins or _checks_containment(scope) or _calls_containment_helper(scope, walk.src):
            return
        shown = f"{variable}.{attr}" if attr else variable
        for join in joins:
            yield self.finding(join, f"archive member name {shown} joined to a path without a containment check",
                               walk.src, scope=walk.scope_name)  # fmt: skip

    def _joins_member(self, node: ast.AST, variable: str, attr: str, src: SourceFile) -> bool:
        if isinstance(node, ast.Call) and src.qualname(node.func) in ("os.path.join", "posixpath.join"):
            return any(_is_member(arg, variable, attr) for arg in node.args[1:])
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return _is_member(node.right, variable, attr) and not isinstance(node.left, ast.Constant)
        return False
