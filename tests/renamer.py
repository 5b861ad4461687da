"""A seeded renamer for metamorphic tests: the same program under other names.

``rename(text, seed)`` gives every name the file defines a meaningless new name, and every
string that is free text a meaningless new text, and leaves the file's API alone, so that a
review of the result may differ from a review of the original only in the names it quotes.

What is renamed (one new name per old name, the same everywhere in the file):
- functions, classes, parameters, local and module variables, names bound by for/with/except/
  comprehensions/walrus/match, names declared global or nonlocal;
- attributes assigned on ``self`` or ``cls`` and the file's own methods, where they are read
  through ``self``/``cls`` or an instance of a class the file defines;
- aliases bound by ``import x as y`` and ``from x import y as z`` (the ``y`` and ``z``);
- keyword arguments of calls to the file's own functions and classes.

What is kept, because it is the API and renaming it changes what the program means:
- imported module and object names, attributes of anything else (imported modules, framework
  objects, values the file did not build), keyword arguments of every other call, builtins;
- dunder names; ALL_CAPS names outside functions (settings and configuration keys that
  frameworks read by name: Django settings, Flask config classes); the throwaway ``_``;
- names in a class whose bases come from outside the file, except its private (``_x``) and
  test methods: public methods and class attributes there may override hooks the framework
  calls by name (setUp, get, Meta, fields); the parameters of such methods and of decorated
  functions (frameworks pass them by keyword);
- prefixes that tools read: ``test`` (kept as ``test_``), ``Test`` and leading underscores.

Strings: a docstring's words are renamed. Any other string is renamed only when it is free
text - words of letters (maybe numbered) between spaces, ``_`` and ``-`` - and none of its occurrences is used as an
API value: passed to a call of something the file does not define, compared, used as a key or
index, read as an object (``x.attr``), formatted, returned, assigned to a kept name, or held in
a variable or parameter that is
used in one of those ways. A string with other characters (dots, colons, slashes, ``%``,
``@``) carries its format as evidence (a host name, URL, path, template, dotted import path)
and is never renamed; neither are bytes, f-strings, implicitly concatenated strings and strings
with backslashes. Comments are left as they are.

The edits are made in the source text at the positions ``ast`` gives, so comments, layout and
every statement's line stay as they were; ``rename`` checks that the renamed file parses to the
same node types on the same lines.
"""

from __future__ import annotations

import ast
import builtins
import io
import random
import re
import tokenize
from dataclasses import dataclass, field

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
ALPHABET = "bcfghjkmqvxz"  # consonants that spell no word any rule or observer looks for
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# Free text: words (lower, Capitalized or UPPER case, maybe numbered) between spaces, _ and -.
# Anything else (mixed case inside a word, digits first) may be a token or key.
FREE_TEXT = re.compile(r"^(?:[A-Z]?[a-z]+|[A-Z]+)[0-9]*(?:[ _-]+(?:[A-Z]?[a-z]+|[A-Z]+)[0-9]*)*$")
# The throwaway ``_`` is a convention tools read, not a name with a meaning.
BUILTINS = frozenset(dir(builtins)) | {"self", "cls", "__class__", "_"}
# Decorators that do not hand a function's parameters to anything by name.
PLAIN_DECORATORS = frozenset({"property", "staticmethod", "classmethod", "setter", "getter", "deleter", "wraps"})


@dataclass
class Renamed:
    text: str
    names: dict[str, str] = field(default_factory=dict)  # old name or word -> new


def rename(text: str, seed: int) -> Renamed:
    tree = ast.parse(text)
    plan = _Plan(tree, seed)
    edits = plan.edits(text)
    if plan.unstable:  # names the parser normalised (NFKC): their spellings differ, so keep them
        plan = _Plan(tree, seed, keep=plan.unstable)
        edits = plan.edits(text)
    renamed = _apply(text, edits)
    _check_lines(tree, ast.parse(renamed))
    return Renamed(renamed, dict(plan.new))


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _root(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


class _Plan:
    """Which names and strings of one file are renamed, and to what."""

    def __init__(self, tree: ast.Module, seed: int, keep: frozenset[str] | set[str] = frozenset()) -> None:
        self.tree = tree
        self.random = random.Random(seed)  # noqa: S311 - reproducible names, not secrets
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.imported: set[str] = set()  # names bound by imports without an alias: the API
        self.aliases: set[str] = set()
        self.classes: dict[str, ast.ClassDef] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    if alias.asname:
                        self.aliases.add(alias.asname)
                    else:
                        self.imported.add(alias.name.split(".")[0])
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node
        self.external_classes = {c for c in self.classes.values() if self._has_external_base(c, set())}
        self.defined: set[str] = set(self.aliases)
        self.kept: set[str] = set(self.imported) | BUILTINS | set(keep)
        self.unstable: set[str] = set()
        self.attributes: set[str] = set()  # attribute names the file defines (self.x, methods, class attrs)
        self._collect()
        names = sorted(n for n in self.defined - self.kept if not _is_dunder(n))
        self.taken: set[str] = set()
        self.new: dict[str, str] = {name: self._fresh(name) for name in names}
        self.words: dict[str, str] = {}

    # What the file defines ------------------------------------------------------------

    def _has_external_base(self, node: ast.ClassDef, seen: set[str]) -> bool:
        for base in node.bases:
            if isinstance(base, ast.Name) and base.id in self.classes and base.id not in seen:
                if self._has_external_base(self.classes[base.id], seen | {node.name}):
                    return True
            elif not (isinstance(base, ast.Name) and base.id == "object"):
                return True
        return any(k.arg == "metaclass" for k in node.keywords)

    def _owner_class(self, node: ast.AST) -> ast.ClassDef | None:
        parent = self.parents.get(node)
        return parent if isinstance(parent, ast.ClassDef) else None

    def _framework_member(self, node: ast.AST, name: str) -> bool:
        """A method or class attribute that may override one the framework looks up by name."""
        owner = self._owner_class(node)
        if owner is None or owner not in self.external_classes:
            return False
        if isinstance(node, FunctionNode) and name.startswith("test"):
            return False
        return not (name.startswith("_") and not _is_dunder(name))

    def _collect(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, FunctionNode):
                self._collect_function(node)
            elif isinstance(node, ast.ClassDef):
                owner = self._owner_class(node)
                nested_in_framework = owner is not None and owner in self.external_classes
                (self.kept if nested_in_framework else self.defined).add(node.name)
                self.attributes.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
                self._collect_binding(node, node.id)
            elif isinstance(node, ast.Global | ast.Nonlocal):
                self.defined.update(node.names)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                self.defined.add(node.name)
            elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
                self.defined.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                self.defined.add(node.rest)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    self.defined.add(node.attr)
                    self.attributes.add(node.attr)

    def _collect_function(self, node: FunctionNode) -> None:
        framework = self._framework_member(node, node.name)
        (self.kept if framework or _is_dunder(node.name) else self.defined).add(node.name)
        if self._owner_class(node) is not None:
            self.attributes.add(node.name)
        decorated = any(self._decorator_name(d) not in PLAIN_DECORATORS for d in node.decorator_list)
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        params += [a for a in (args.vararg, args.kwarg) if a is not None]
        for param in params:
            (self.kept if framework or decorated else self.defined).add(param.arg)

    @staticmethod
    def _decorator_name(node: ast.expr) -> str:
        if isinstance(node, ast.Call):
            node = node.func
        if isinstance(node, ast.Attribute):
            return node.attr
        return node.id if isinstance(node, ast.Name) else ""

    def _collect_binding(self, node: ast.Name, name: str) -> None:
        scope = self.parents.get(node)
        while scope is not None and not isinstance(scope, FunctionNode | ast.ClassDef | ast.Module):
            scope = self.parents.get(scope)
        if isinstance(scope, ast.Module | ast.ClassDef) and name.isupper():
            self.kept.add(name)  # a setting or configuration key (DB_HOST, Config.SECRET_KEY)
        elif isinstance(scope, ast.ClassDef):
            if scope in self.external_classes:
                self.kept.add(name)
            else:
                self.defined.add(name)
                self.attributes.add(name)
        else:
            self.defined.add(name)

    # New names ------------------------------------------------------------------------

    def _fresh(self, name: str) -> str:
        stem = name.lstrip("_")
        lead = name[: len(name) - len(stem)]
        trail = stem[len(stem.rstrip("_")) :]
        prefix = ""
        if stem.startswith("test"):
            prefix = "test_"
        elif stem.startswith("Test"):
            prefix = "Test"
        word = self._word()
        if stem.isupper():
            word = word.upper()
        elif stem[:1].isupper():
            word = word.capitalize()
        return f"{lead}{prefix}{word}{trail}"

    def _word(self) -> str:
        while True:
            word = "".join(self.random.choice(ALPHABET) for _ in range(7))
            if word not in self.taken:
                self.taken.add(word)
                return word

    def _new_word(self, word: str) -> str:
        if word not in self.words:
            digits = word[len(word.rstrip("0123456789")) :]
            fresh = self._word() + digits
            if word.isupper():
                fresh = fresh.upper()
            elif word[:1].isupper():
                fresh = fresh.capitalize()
            self.words[word] = fresh
        return self.words[word]

    # Edits ----------------------------------------------------------------------------

    def _renamable_attribute(self, node: ast.Attribute) -> bool:
        if node.attr not in self.new or node.attr not in self.attributes:
            return False
        receiver = node.value
        if isinstance(receiver, ast.Name):
            return receiver.id in ("self", "cls") or receiver.id in self.classes or receiver.id in self._instances
        if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name):
            return receiver.func.id == "super" or receiver.func.id in self.classes
        return False

    @property
    def _instances(self) -> set[str]:
        if not hasattr(self, "_instance_names"):
            found = set()
            for node in ast.walk(self.tree):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                    func = node.value.func
                    if isinstance(func, ast.Name) and func.id in self.classes:
                        found.update(t.id for t in node.targets if isinstance(t, ast.Name))
            self._instance_names = found
        return self._instance_names

    def _local_callee(self, call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Name):
            # A class built on a framework's base is constructed by the framework's __init__.
            if func.id in self.aliases:
                return False  # an imported object under another name
            return func.id in self.new and self.classes.get(func.id) not in self.external_classes
        return isinstance(func, ast.Attribute) and self._renamable_attribute(func)

    def edits(self, text: str) -> list[tuple[int, int, int, str, str]]:
        """(line, start byte, end byte, old text, new text) for every rename."""
        lines = text.splitlines(keepends=True)
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        found: list[tuple[int, int, int, str, str]] = []

        def at(line: int, start: int, old: str) -> None:
            if lines[line - 1].encode()[start : start + len(old.encode())] != old.encode():
                self.unstable.add(old)
                return
            found.append((line, start, start + len(old.encode()), old, self.new[old]))

        def named_token(after: tuple[int, int], name: str) -> None:
            row, col = after
            for token in tokens:
                if token.type == tokenize.NAME and token.string == name and token.start >= (row, 0):
                    if (token.start[0], _byte_col(lines, *token.start)) >= (row, col):
                        at(token.start[0], _byte_col(lines, *token.start), name)
                        return
            raise AssertionError(f"no token {name} after {after}")

        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name) and node.id in self.new:
                at(node.lineno, node.col_offset, node.id)
            elif isinstance(node, ast.arg) and node.arg in self.new:
                at(node.lineno, node.col_offset, node.arg)
            elif isinstance(node, FunctionNode | ast.ClassDef) and node.name in self.new:
                named_token((node.lineno, node.col_offset), node.name)
            elif isinstance(node, ast.Attribute) and self._renamable_attribute(node):
                assert node.end_lineno is not None and node.end_col_offset is not None
                at(node.end_lineno, node.end_col_offset - len(node.attr.encode()), node.attr)
            elif isinstance(node, ast.Call) and self._local_callee(node):
                for keyword in node.keywords:
                    if keyword.arg in self.new:
                        at(keyword.lineno, keyword.col_offset, keyword.arg)
            elif isinstance(node, ast.alias) and node.asname in self.new:
                assert node.end_lineno is not None and node.end_col_offset is not None
                at(node.end_lineno, node.end_col_offset - len(node.asname.encode()), node.asname)
            elif isinstance(node, ast.ExceptHandler) and node.name in self.new:
                named_token((node.lineno, node.col_offset), node.name)
            elif isinstance(node, ast.Global | ast.Nonlocal):
                for name in node.names:
                    if name in self.new:
                        named_token((node.lineno, node.col_offset), name)
            elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name in self.new:
                assert node.end_lineno is not None and node.end_col_offset is not None
                at(node.end_lineno, node.end_col_offset - len(node.name.encode()), node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest in self.new:
                named_token((node.lineno, node.col_offset), node.rest)
        found.extend(self._string_edits(lines))
        return found

    # Strings --------------------------------------------------------------------------

    def _docstrings(self) -> set[ast.Constant]:
        found = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Module | ast.ClassDef | FunctionNode) and node.body:
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    if isinstance(first.value.value, str):
                        found.add(first.value)
        return found

    def _api_position(self, node: ast.expr) -> bool:
        """Whether the value of ``node`` is used as API data where it stands."""
        child, parent = node, self.parents.get(node)
        while isinstance(parent, ast.List | ast.Tuple | ast.Set | ast.Starred):
            child, parent = parent, self.parents.get(parent)
        if isinstance(parent, ast.Dict):
            return any(k is child for k in parent.keys) or self._api_position(parent)
        if isinstance(parent, ast.keyword):
            call = self.parents.get(parent)
            return not (isinstance(call, ast.Call) and self._local_callee(call) and parent.arg in self.new)
        if isinstance(parent, ast.Call):
            return parent.func is child or not self._local_callee(parent)
        if isinstance(parent, ast.Subscript):
            return parent.slice is child or self._api_position(parent)
        if isinstance(parent, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            return not all(isinstance(t, ast.Name) and t.id in self.new for t in targets)
        if isinstance(parent, ast.arguments):
            return False  # the parameter's uses decide (see _held_in_api)
        if isinstance(parent, ast.Expr):
            return False
        # Compared, formatted, returned, yielded, tested, awaited, a decorator...
        return True

    def _holders(self, node: ast.Constant) -> list[str]:
        """Variables and parameters the literal is stored in, directly."""
        child, parent = node, self.parents.get(node)
        while isinstance(parent, ast.List | ast.Tuple | ast.Set | ast.Dict):
            child, parent = parent, self.parents.get(parent)
        names: list[str] = []
        if isinstance(parent, ast.Assign | ast.AnnAssign | ast.NamedExpr):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
        elif isinstance(parent, ast.arguments):
            for params, defaults in ((parent.args[-len(parent.defaults) :] if parent.defaults else [], parent.defaults),
                                     (parent.kwonlyargs, parent.kw_defaults)):  # fmt: skip
                names += [p.arg for p, d in zip(params, defaults, strict=False) if d is child]
        elif isinstance(parent, ast.Call) and self._local_callee(parent):
            names += self._parameters_receiving(parent, child)
        elif isinstance(parent, ast.keyword) and parent.arg:
            names.append(parent.arg)
        return names

    def _parameters_receiving(self, call: ast.Call, argument: ast.expr) -> list[str]:
        func = call.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        for node in ast.walk(self.tree):
            if isinstance(node, FunctionNode) and node.name == name:
                params = [p.arg for p in node.args.posonlyargs + node.args.args]
                if params and params[0] in ("self", "cls") and isinstance(func, ast.Attribute):
                    params = params[1:]
                index = next((i for i, a in enumerate(call.args) if a is argument), None)
                if index is not None and index < len(params):
                    return [params[index]]
                return [node.args.vararg.arg] if node.args.vararg else []
        return []

    def _api_names(self) -> set[str]:
        """Names loaded somewhere in an API position: what they hold is API data."""
        if not hasattr(self, "_api_name_set"):
            self._api_name_set = {
                n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                and self._api_position(n)
            }  # fmt: skip
        return self._api_name_set

    def _string_edits(self, lines: list[str]) -> list[tuple[int, int, int, str, str]]:
        docstrings = self._docstrings()
        occurrences: dict[str, list[ast.Constant]] = {}
        joined = {id(v) for n in ast.walk(self.tree) if isinstance(n, ast.JoinedStr) for v in ast.walk(n)}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in joined:
                occurrences.setdefault(node.value, []).append(node)
        api_names = self._api_names()
        edits = []
        for value, nodes in sorted(occurrences.items()):
            free = [n for n in nodes if n not in docstrings]
            if free:
                if not FREE_TEXT.match(value):
                    continue
                if any(self._api_position(n) or set(self._holders(n)) & (api_names | self.kept) for n in free):
                    continue
            for node in nodes:
                edit = self._string_edit(lines, node)
                if edit is not None:
                    edits.append(edit)
        return edits

    def _string_edit(self, lines: list[str], node: ast.Constant) -> tuple[int, int, int, str, str] | None:
        assert node.end_lineno is not None and node.end_col_offset is not None
        first = lines[node.lineno - 1].encode()
        if node.lineno == node.end_lineno:
            old = first[node.col_offset : node.end_col_offset].decode()
        else:
            middle = "".join(lines[node.lineno : node.end_lineno - 1])
            last = lines[node.end_lineno - 1].encode()[: node.end_col_offset].decode()
            old = first[node.col_offset :].decode() + middle + last
        if "\\" in old or old[:1] not in "'\"":
            return None  # escapes or a prefix (b, r, u, f)
        quote = old[:3] if old[:3] in ('"""', "'''") else old[0]
        if not old.endswith(quote) or len(old) < 2 * len(quote):
            return None
        body = old[len(quote) : len(old) - len(quote)]
        if quote in body or ast.literal_eval(old) != node.value:
            return None  # implicitly concatenated pieces
        new_body = WORD.sub(lambda m: self._new_word(m.group()), body)
        return node.lineno, node.col_offset, node.col_offset + len(old.encode()), old, quote + new_body + quote


def _byte_col(lines: list[str], row: int, col: int) -> int:
    return len(lines[row - 1][:col].encode())


def _apply(text: str, edits: list[tuple[int, int, int, str, str]]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode()))
    data = text.encode()
    spans: dict[int, tuple[int, str, str]] = {}
    for line, start, _end, old, new in edits:
        begin = starts[line - 1] + start
        spans[begin] = (begin + len(old.encode()), old, new)
    out = bytearray()
    position = 0
    for begin in sorted(spans):
        end, old, new = spans[begin]
        assert begin >= position, "overlapping edits"
        assert data[begin:end].decode() == old, (data[begin:end], old)
        out += data[position:begin] + new.encode()
        position = end
    out += data[position:]
    return out.decode()


def _check_lines(before: ast.Module, after: ast.Module) -> None:
    def shape(tree: ast.Module) -> list[tuple[str, int, int]]:
        return [(type(n).__name__, getattr(n, "lineno", 0), getattr(n, "end_lineno", 0) or 0) for n in ast.walk(tree)]

    assert shape(before) == shape(after), "renaming moved a node to another line"
