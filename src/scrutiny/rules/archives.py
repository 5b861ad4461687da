"""Archive rules (8xx): members extracted or joined to paths without a containment check."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import Rule, Walk, argument, exactly, keyword, name_parts, string_value
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
    the file sets TarFile.extraction_filter.
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
        yield self.finding(node, f"{ast.unparse(func)}() with {how} writes members wherever their names point",
                           walk.src, scope=walk.scope_name, confidence=confidence)  # fmt: skip


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


class ArchiveMemberPathJoin(Rule):
    """Archive member name joined to a destination path without a containment check

    What: inside a loop over namelist(), infolist(), getmembers() or getnames() of a zip
    or tar archive, the member name joined to a directory with os.path.join or the
    pathlib / operator, in a function that never resolves or checks the result
    (realpath, abspath, normpath, commonpath, Path.resolve/is_relative_to, a ".." test).
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
        if not joins or _checks_containment(scope):
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
