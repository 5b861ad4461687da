"""Taint models: sources, sinks, sanitizers, propagators, guards and exits, read from TOML.

Every file under ``taint/models/`` describes one library or framework. The engine holds
no library names of its own; it only reads these tables.

Schema (unknown keys and unknown kinds are errors, so a typo never disables a model)::

    description = "what the file models"          # optional

    [[source]]          # where untrusted data enters
    kind = "remote"     # remote (network, request) or local (argv, environment, console)
    label = "HTTP query string"
    call = "input"      # the result of this call is tainted, or
    method = "recv"     # the result of this method on any receiver, or
    attr = "flask.request.args"   # reading this name (or anything under it) is tainted
    within = "django-request"     # an attr on a bare name (request.GET, self.path): only where that
                                  # name is this object (an [[object]] of this file or one read before)
    keys = "HTTP_.*|QUERY_STRING" # attr mappings: literal keys that hold outside data (others are clean)
    marks = ["structured"]        # markers the data carries from the start (a parsed JSON body)

    [[sink]]            # where tainted data must not arrive
    kind = "shell"      # see SINK_KINDS
    call = "os.system"  # a fully qualified function (or a list of them, one sink each), or
    method = "execute"  # a method name on any receiver, or on these receivers only:
    on = ["werkzeug.datastructures.Headers()", "flask.Response().headers"]   # (each: call = on.method)
    safe_on = ["jinja2.sandbox.SandboxedEnvironment()"]   # a method sink on any receiver but an
                                 # object made by one of these (directly, through a variable,
                                 # or by a function of the file that returns one)
    args = [0, "command"]        # positions or keywords that count ("self": the object a method is
                                 # called on); empty: every argument
    requires_keyword = "shell"   # only when this keyword is literally True
    list_first = true   # a list or tuple literal counts by its first element (the program)
    fixed_host_safe = true       # a string that starts with a literal "scheme://host/" is safe
    format_args = true  # the args after the message fill its %-placeholders: %s/%a ones count
    safe_keyword = "Loader"      # not a sink when this keyword names one of safe_values
    safe_values = ["yaml.SafeLoader"]
    mapping_keys = true # a dict literal counts by its keys, a list of pairs by each pair's first
                        # item (header names: werkzeug rejects CR/LF in values, not in names)
    script_keys = ["$where"]     # in a dict literal, the value under these keys is run as code:
                                 # it counts even without the marker its kind requires (below)
    # call = "pkg.Class().attr.__setitem__" is also a store ``obj.attr[key] = value``;
    # args 0 is the key, 1 the value.
    item = "content"    # the argument is a list of dict literals (chat messages): only the value
                        # of this key in each dict counts, and the finding points at it
    when_key = "role"   # the literal under this key of the same dict (with item) or this keyword
                        # (keywords: "content_type,mimetype" names either; a media type is
                        # compared without its parameters, "text/plain; charset=utf-8")
                        # of the call (without) decides whether the value counts:
    when_values = ["system"]     # only when it is one of these (anything unknown does not count), or
    unless_values = ["system"]   # unless it is one of these (anything unknown counts)

    [[sanitizer]]       # the result no longer carries taint of the cleared kinds
    call = "shlex.quote"          # or method = "...", or attribute = "environ", or decorator
    clears = ["shell"]  # sink kinds, or "all"
    marks = ["realpath"]          # markers that guards can require
    removes = "\n"      # only when the call surely takes this text out (str.replace, str.translate)
    requires = "path-object"      # attribute sanitizers: only for flows that carry this marker
    decorator = "validation.schema"   # a function so decorated gets these parameters validated
    params = ["body"]   # (the decorator's name matches the end of its qualified name)

    [[propagator]]      # taint passes through a call the engine cannot see into
    call = "json.loads"           # or method = "..."
    from = ["receiver", 0]        # default: the receiver and every argument
    into = "result"     # or "receiver" (list.append, dict.update)
    marks = ["structured"]        # the result carries these markers (json.loads: a structure)

    [[guard]]           # a check that clears taint on the branch where it holds
    method = "isdigit"            # applies to the receiver, or call = "re.fullmatch" + arg,
    arg = 1
    keyword = "pattern"           # the checked argument when passed by name
    clears = ["all"]
    requires = "realpath"         # only for flows that carry this marker
    membership = true   # applies when the call's result (or its attribute) is tested with ``in``
    anchored = true     # only with a literal pattern anchored at both ends (re.match('^..$', v))
    raises = true       # a call that raises unless the check holds: clean after the call

    [[exit]]            # calls that never return (abort, sys.exit)
    call = "flask.abort"

    [[object]]          # what shows that a bare name is one framework's object, for sources
    name = "django-request"       # written on the name (attr = "request.GET", within = this name)
    classes = ["django.http.HttpRequest"]   # the name's annotation or constructor is one of these
                        # (for self: its class derives from one); another type rules it out
    entries = ["view"]  # the name is a parameter of an entry point of these kinds (self: the
                        # method is one)
    modules = ["django"]          # weaker: the file imports one of these packages

    [[lookup]]          # a result selected by the arguments, not made of them (dict.get on a
    method = "get"      # constant table, a cache or ORM lookup): when nothing else models the
                        # call and its receiver is not tainted, tainted arguments do not pass

A call no model names passes the taint of its arguments on to its result: only a sanitizer,
a conversion (int) or a lookup model stops it.

Project model files (``taint-models`` in the configuration) follow the same schema and
are read after the package's own, so they add to them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

SINK_KINDS = frozenset(
    {
        "shell",
        "code",
        "sql",
        "path",
        "deserialize",
        "ssrf",
        "redirect",
        "xss",
        "template",
        "log",
        "header",
        "regex",
        "ldap",
        "xpath",
        "trust",
        "nosql",
        "prompt",
        "user_prompt",
    }
)
SOURCE_KINDS = frozenset({"remote", "local"})
ALL = "all"
# Sink kinds that only data carrying a marker can exploit: a NoSQL query takes operators
# ($ne, $where) only from a structure the sender shaped (parsed JSON), not from a string.
REQUIRED_MARKS = {"nosql": "structured"}
# The kinds of entry point context.py finds (an [[object]]'s entries name some of them).
ENTRY_KINDS = frozenset({"route", "view", "api-controller", "rpc-handler", "cli-main", "http-handler"})


class ModelError(ValueError):
    """A model file that does not follow the schema."""


@dataclass(frozen=True, slots=True)
class Source:
    kind: str
    label: str
    call: str = ""
    attr: str = ""
    method: str = ""
    within: str = ""
    # For a mapping source: the literal keys that hold outside data; any other literal
    # key (request.META["CSRF_COOKIE"], set by the framework itself) reads clean data.
    keys: re.Pattern[str] | None = None
    marks: frozenset[str] = frozenset()

    def reads_outside_data(self, key: str) -> bool:
        return self.keys is None or self.keys.fullmatch(key) is not None


@dataclass(frozen=True, slots=True)
class ObjectModel:
    """What shows that a bare name (request, req, self) is one framework's object: a source
    written on the name counts only with one of these, and never when the name's annotation
    or constructor is another class."""

    name: str
    classes: frozenset[str] = frozenset()
    entries: frozenset[str] = frozenset()
    modules: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Sink:
    kind: str
    call: str = ""
    method: str = ""
    args: tuple[int | str, ...] = ()
    requires_keyword: str = ""
    list_first: bool = False
    fixed_host_safe: bool = False
    safe_keyword: str = ""
    safe_values: frozenset[str] = frozenset()
    mapping_keys: bool = False
    script_keys: frozenset[str] = frozenset()
    item: str = ""
    when_key: str = ""
    when_values: frozenset[str] = frozenset()
    unless_values: frozenset[str] = frozenset()
    # The arguments after the message fill its %-placeholders (logging's lazy formatting):
    # each counts unless its placeholder converts it (%r, %d, %f ...).
    format_args: bool = False
    # A method sink that does not hold on objects these calls made (a sandboxed template
    # environment's from_string).
    safe_on: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.call or f".{self.method}()"


@dataclass(frozen=True, slots=True)
class Sanitizer:
    clears: frozenset[str]
    call: str = ""
    method: str = ""
    attribute: str = ""
    marks: frozenset[str] = frozenset()
    decorator: str = ""
    params: tuple[str, ...] = ()
    # Only when the call takes this text out: str.replace(removes, <text without it>), or
    # str.translate(<a constant table mapping it to text without it>).
    removes: str = ""
    # An attribute sanitizer only for flows that carry this marker (a pathlib path's .name).
    requires: str = ""


@dataclass(frozen=True, slots=True)
class Propagator:
    call: str = ""
    method: str = ""
    sources: tuple[int | str, ...] = ()  # "receiver", positions, keywords; empty: all
    into: str = "result"
    marks: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Guard:
    clears: frozenset[str]
    call: str = ""
    method: str = ""
    arg: int = 0
    requires: str = ""
    membership: bool = False
    raises: bool = False
    keyword: str = ""  # the same argument passed by name
    # Only when the pattern (the first argument) is a literal anchored at both ends, so a
    # match or search tests the whole value ('^[a-z0-9_-]+$').
    anchored: bool = False


TABLE_KEYS: dict[str, frozenset[str]] = {
    "object": frozenset({"name", "classes", "entries", "modules"}),  # first: sources name them
    "source": frozenset({"kind", "label", "call", "attr", "method", "within", "keys", "marks"}),
    "sink": frozenset(
        {
            "kind",
            "call",
            "method",
            "args",
            "requires_keyword",
            "list_first",
            "fixed_host_safe",
            "safe_keyword",
            "safe_values",
            "mapping_keys",
            "script_keys",
            "on",
            "safe_on",
            "format_args",
            "item",
            "when_key",
            "when_values",
            "unless_values",
        }
    ),
    "sanitizer": frozenset(
        {"call", "method", "attribute", "decorator", "params", "clears", "marks", "removes", "requires"}
    ),
    "propagator": frozenset({"call", "method", "from", "into", "marks"}),
    "guard": frozenset({"call", "method", "arg", "keyword", "clears", "requires", "membership", "raises", "anchored"}),
    "exit": frozenset({"call"}),
    "lookup": frozenset({"call", "method"}),
}
TOP_KEYS = frozenset({"description", *TABLE_KEYS})


@dataclass
class Models:
    """Every model, indexed the way the engine looks them up."""

    source_calls: dict[str, Source] = field(default_factory=dict)
    source_attrs: dict[str, Source] = field(default_factory=dict)
    source_methods: dict[str, Source] = field(default_factory=dict)
    # Sources on a bare name, by attribute: each counts only where its object (``within``)
    # has evidence; several frameworks may read the same spelling (request.headers).
    object_attrs: dict[str, list[Source]] = field(default_factory=dict)
    objects: dict[str, ObjectModel] = field(default_factory=dict)
    # The same sources by object, then by the attribute read on the name (GET of request.GET).
    object_members: dict[str, dict[str, Source]] = field(default_factory=dict)
    sink_calls: dict[str, list[Sink]] = field(default_factory=dict)
    sink_methods: dict[str, list[Sink]] = field(default_factory=dict)
    sanitizer_calls: dict[str, Sanitizer] = field(default_factory=dict)
    sanitizer_methods: dict[str, Sanitizer] = field(default_factory=dict)
    sanitizer_attributes: dict[str, Sanitizer] = field(default_factory=dict)
    sanitizer_decorators: dict[str, Sanitizer] = field(default_factory=dict)
    propagator_calls: dict[str, Propagator] = field(default_factory=dict)
    propagator_methods: dict[str, Propagator] = field(default_factory=dict)
    guard_calls: dict[str, Guard] = field(default_factory=dict)
    guard_methods: dict[str, Guard] = field(default_factory=dict)
    exits: set[str] = field(default_factory=set)
    lookup_calls: set[str] = field(default_factory=set)
    lookup_methods: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)
    # (call name, method) -> values.CallModels, filled by the files' analyses: the models of
    # a call depend on nothing else, and files call the same library names again and again.
    call_memo: dict[tuple[str, str], Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def attr_tails(self) -> frozenset[str]:
        """Last segments of source attributes: only names ending so are resolved."""
        return frozenset(name.rsplit(".", 1)[-1] for name in [*self.source_attrs, *self.object_attrs])

    @property
    def modelled_calls(self) -> frozenset[str]:
        return frozenset(
            [*self.source_calls, *self.sink_calls, *self.sanitizer_calls, *self.propagator_calls, *self.guard_calls]
        )


def _pattern(where: str, table: dict[str, object], key: str) -> re.Pattern[str] | None:
    text = _str(where, table, key)
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise ModelError(f"{where}: {key} is not a regular expression ({exc})") from None


def _check_keys(where: str, table: dict[str, object], allowed: frozenset[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ModelError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")


def _str(where: str, table: dict[str, object], key: str, default: str = "") -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ModelError(f"{where}: {key} must be a string")
    return value


def _positions(where: str, table: dict[str, object], key: str) -> tuple[int | str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, int | str) and not isinstance(v, bool) for v in value):
        raise ModelError(f"{where}: {key} must be a list of positions and keywords")
    return tuple(value)


def _kinds(where: str, table: dict[str, object], key: str, required: bool = True) -> frozenset[str]:
    value = table.get(key, [] if not required else None)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ModelError(f"{where}: {key} must be a list of sink kinds or 'all'")
    unknown = sorted(set(value) - SINK_KINDS - {ALL})
    if unknown:
        raise ModelError(f"{where}: unknown sink kind(s) {', '.join(unknown)}")
    return frozenset(value)


def _one_of(where: str, table: dict[str, object], *keys: str) -> None:
    given = [k for k in keys if table.get(k)]
    if len(given) != 1:
        raise ModelError(f"{where}: give exactly one of {', '.join(keys)}")


def parse_model(text: str, name: str, into: Models | None = None) -> Models:
    """Read one model file's text into ``into`` (a new Models if None)."""
    models = into if into is not None else Models()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{name}: not valid TOML: {exc}") from None
    _check_keys(name, data, TOP_KEYS)
    for table_name in TABLE_KEYS:
        entries = data.get(table_name, [])
        if not isinstance(entries, list):
            raise ModelError(f"{name}: {table_name} must be an array of tables ([[{table_name}]])")
        for number, entry in enumerate(entries, start=1):
            where = f"{name}: {table_name} #{number}"
            if not isinstance(entry, dict):
                raise ModelError(f"{where}: must be a table")
            _check_keys(where, entry, TABLE_KEYS[table_name])
            _add(models, table_name, where, entry)
    models.files.append(name)
    return models


def _add(models: Models, table_name: str, where: str, entry: dict[str, object]) -> None:
    if table_name == "source":
        _one_of(where, entry, "call", "attr", "method")
        kind = _str(where, entry, "kind")
        if kind not in SOURCE_KINDS:
            raise ModelError(f"{where}: source kind must be one of {', '.join(sorted(SOURCE_KINDS))}")
        label = _str(where, entry, "label") or "untrusted data"
        source = Source(
            kind,
            label,
            _str(where, entry, "call"),
            _str(where, entry, "attr"),
            _str(where, entry, "method"),
            _str(where, entry, "within"),
            _pattern(where, entry, "keys"),
            _kinds_free(where, entry, "marks"),
        )
        if source.within and not source.attr:
            raise ModelError(f"{where}: within applies to attr sources only")
        if source.within and source.within not in models.objects:
            raise ModelError(f"{where}: within names no [[object]] of this file or one read before ({source.within})")
        if source.keys is not None and not source.attr:
            raise ModelError(f"{where}: keys applies to attr sources only")
        if source.call:
            models.source_calls[source.call] = source
        elif source.method:
            models.source_methods[source.method] = source
        elif source.within:
            models.object_attrs.setdefault(source.attr, []).append(source)
            models.object_members.setdefault(source.within, {})[source.attr.partition(".")[2]] = source
        else:
            models.source_attrs[source.attr] = source
    elif table_name == "sink":
        _one_of(where, entry, "call", "method")
        kind = _str(where, entry, "kind")
        if kind not in SINK_KINDS:
            raise ModelError(f"{where}: unknown sink kind {kind!r}")
        list_first = entry.get("list_first", False)
        fixed_host = entry.get("fixed_host_safe", False)
        mapping_keys = entry.get("mapping_keys", False)
        if not all(isinstance(flag, bool) for flag in (list_first, fixed_host, mapping_keys)):
            raise ModelError(f"{where}: list_first, fixed_host_safe and mapping_keys must be true or false")
        calls = entry.get("call", "")
        if isinstance(calls, list):  # one sink per name: the same API on several clients
            if not calls or not all(isinstance(c, str) and c for c in calls):
                raise ModelError(f"{where}: call must be a name or a list of names")
        else:
            calls = [_str(where, entry, "call")]
        receivers = _kinds_free(where, entry, "on")
        for call in calls:
            sink = Sink(
                kind,
                call,
                _str(where, entry, "method"),
                _positions(where, entry, "args"),
                _str(where, entry, "requires_keyword"),
                list_first,
                fixed_host,
                _str(where, entry, "safe_keyword"),
                _kinds_free(where, entry, "safe_values"),
                mapping_keys,
                _kinds_free(where, entry, "script_keys"),
                _str(where, entry, "item"),
                _str(where, entry, "when_key"),
                _kinds_free(where, entry, "when_values"),
                _kinds_free(where, entry, "unless_values"),
                entry.get("format_args", False) is True,
                _kinds_free(where, entry, "safe_on"),
            )
            _check_sink(where, sink)
            if sink.script_keys and kind not in REQUIRED_MARKS:
                marked = ", ".join(REQUIRED_MARKS)
                raise ModelError(f"{where}: script_keys applies to kinds that require a marker ({marked})")
            if mapping_keys and (list_first or sink.item):
                raise ModelError(f"{where}: give at most one of mapping_keys, list_first and item")
            if receivers and not sink.method:
                raise ModelError(f"{where}: on applies to method sinks")
            if sink.safe_on and not sink.method:
                raise ModelError(f"{where}: safe_on applies to method sinks")
            if receivers and sink.safe_on:
                raise ModelError(f"{where}: give at most one of on and safe_on")
            for receiver in sorted(receivers):
                on_call = f"{receiver}.{sink.method}"
                models.sink_calls.setdefault(on_call, []).append(replace(sink, call=on_call, method=""))
            if receivers:
                continue
            table = models.sink_calls if sink.call else models.sink_methods
            table.setdefault(sink.call or sink.method, []).append(sink)
    elif table_name == "sanitizer":
        _one_of(where, entry, "call", "method", "attribute", "decorator")
        sanitizer = Sanitizer(
            _kinds(where, entry, "clears"),
            _str(where, entry, "call"),
            _str(where, entry, "method"),
            _str(where, entry, "attribute"),
            _kinds_free(where, entry, "marks"),
            _str(where, entry, "decorator"),
            tuple(sorted(_kinds_free(where, entry, "params"))),
            _str(where, entry, "removes"),
            _str(where, entry, "requires"),
        )
        if sanitizer.removes and not sanitizer.method:
            raise ModelError(f"{where}: removes applies to method sanitizers (str.replace, str.translate)")
        if sanitizer.requires and not sanitizer.attribute:
            raise ModelError(f"{where}: requires applies to attribute sanitizers")
        if bool(sanitizer.decorator) != bool(sanitizer.params):
            raise ModelError(f"{where}: decorator and params go together")
        if sanitizer.decorator:
            models.sanitizer_decorators[sanitizer.decorator] = sanitizer
        elif sanitizer.call:
            models.sanitizer_calls[sanitizer.call] = sanitizer
        elif sanitizer.method:
            models.sanitizer_methods[sanitizer.method] = sanitizer
        else:
            models.sanitizer_attributes[sanitizer.attribute] = sanitizer
    elif table_name == "propagator":
        _one_of(where, entry, "call", "method")
        into = _str(where, entry, "into", "result")
        if into not in ("result", "receiver"):
            raise ModelError(f"{where}: into must be 'result' or 'receiver'")
        propagator = Propagator(
            _str(where, entry, "call"),
            _str(where, entry, "method"),
            _positions(where, entry, "from"),
            into,
            _kinds_free(where, entry, "marks"),
        )
        if propagator.call:
            models.propagator_calls[propagator.call] = propagator
        else:
            models.propagator_methods[propagator.method] = propagator
    elif table_name == "guard":
        _one_of(where, entry, "call", "method")
        arg = entry.get("arg", 0)
        membership = entry.get("membership", False)
        raises = entry.get("raises", False)
        if not isinstance(arg, int) or isinstance(arg, bool) or not isinstance(membership, bool):
            raise ModelError(f"{where}: arg must be a position and membership true or false")
        if not isinstance(raises, bool) or (raises and (membership or not entry.get("call"))):
            raise ModelError(f"{where}: raises is true or false, and only for a call that is not a membership test")
        guard = Guard(
            _kinds(where, entry, "clears"),
            _str(where, entry, "call"),
            _str(where, entry, "method"),
            arg,
            _str(where, entry, "requires"),
            membership,
            raises,
            _str(where, entry, "keyword"),
            entry.get("anchored", False) is True,
        )
        if guard.call:
            models.guard_calls[guard.call] = guard
        else:
            models.guard_methods[guard.method] = guard
    elif table_name == "object":
        name = _str(where, entry, "name")
        if not name:
            raise ModelError(f"{where}: an object needs a name")
        found = ObjectModel(
            name,
            _kinds_free(where, entry, "classes"),
            _kinds_free(where, entry, "entries"),
            _kinds_free(where, entry, "modules"),
        )
        unknown = sorted(found.entries - ENTRY_KINDS)
        if unknown:
            raise ModelError(f"{where}: unknown entry kind(s) {', '.join(unknown)}")
        if not (found.classes or found.entries or found.modules):
            raise ModelError(f"{where}: an object needs classes, entries or modules")
        models.objects[name] = found
    elif table_name == "lookup":
        _one_of(where, entry, "call", "method")
        if entry.get("call"):
            models.lookup_calls.add(_str(where, entry, "call"))
        else:
            models.lookup_methods.add(_str(where, entry, "method"))
    else:
        _one_of(where, entry, "call")
        models.exits.add(_str(where, entry, "call"))


def _check_sink(where: str, sink: Sink) -> None:
    if bool(sink.safe_keyword) != bool(sink.safe_values):
        raise ModelError(f"{where}: safe_keyword and safe_values go together")
    if bool(sink.when_key) != (bool(sink.when_values) != bool(sink.unless_values)):
        raise ModelError(f"{where}: when_key goes with exactly one of when_values and unless_values")
    if sink.item and not sink.args:
        raise ModelError(f"{where}: item needs args (the arguments that hold the list)")
    if sink.item and sink.list_first:
        raise ModelError(f"{where}: item and list_first exclude each other")


def _kinds_free(where: str, table: dict[str, object], key: str) -> frozenset[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ModelError(f"{where}: {key} must be a list of strings")
    return frozenset(value)


def model_files() -> list[Path]:
    folder = resources.files("scrutiny.taint").joinpath("models")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml"))


# The configured project model files as (name, text); set once per process by the review.
_EXTRA: tuple[tuple[str, str], ...] = ()


def use_extra(paths: tuple[Path, ...]) -> None:
    """Read these model files too in every later ``load()`` of this process."""
    global _EXTRA
    _EXTRA = _read(paths)


def _read(paths: tuple[Path, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((str(path), path.read_text(encoding="utf-8")) for path in paths)


def load(extra: tuple[Path, ...] | None = None) -> Models:
    """The package's models plus ``extra`` files (default: those given to ``use_extra``)."""
    return _load(_EXTRA if extra is None else _read(extra))


@lru_cache(maxsize=4)
def _load(extra: tuple[tuple[str, str], ...]) -> Models:
    models = Models()
    for path in model_files():
        parse_model(path.read_text(encoding="utf-8"), path.name, models)
    for name, text in extra:
        parse_model(text, name, models)
    return models
