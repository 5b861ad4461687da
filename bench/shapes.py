"""Stress shapes: is a review's time linear in the size of one file, whatever its shape?

    python bench/shapes.py                          # 1k, 10k and 100k lines; writes bench/SHAPES.md
    python bench/shapes.py --sizes 1000,10000 --shapes dict_literal,plus_chain --no-write
    python bench/shapes.py --profile dict_literal --sizes 10000   # cProfile of one shape

Each shape is generated at each size (in lines), written to a temporary directory and
reviewed through ``scrutiny.api.scan`` in this process (one job, no cache, taint on),
exactly as ``scrutiny review --jobs 1 --no-cache FILE`` would. The table gives the time
per line at each size and the per-line ratio of the two largest sizes: 1.0 is linear,
10 would be quadratic over a tenfold step.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Deepest nesting of brackets the generated code uses: CPython's parser refuses 200
# nested parentheses ("too many nested parentheses"); the tokenizer counts every kind.
BRACKET_DEPTH = 190


def dict_literal(lines: int) -> str:
    """One dict literal of string keys and mixed values (translations, data tables)."""
    body = [f'    "key_{i}": {_value(i)},' for i in range(lines - 2)]
    return "TABLE = {\n" + "\n".join(body) + "\n}\n"


def list_of_strings(lines: int) -> str:
    """One list of string literals, some looking like hosts, paths and tokens."""
    body = [f"    {_string(i)}," for i in range(lines - 2)]
    return "NAMES = [\n" + "\n".join(body) + "\n]\n"


def plus_chain(lines: int) -> str:
    """``+`` chains of strings, one term a line, as long as the parser accepts.

    A chain is a left-leaning tree as deep as it is long. scrutiny's analysis recurses
    over expressions, so a chain of much more than 400 terms is reported as a "too-deep"
    file error (quickly); the file holds chains of ``CHAIN`` terms, one after the other.
    """
    out: list[str] = []
    chain = 0
    while len(out) < lines:
        terms = min(CHAIN, lines - len(out) - 2)
        if terms < 2:
            out.append(f"TAIL_{chain} = 'end'")
            continue
        out.append(f"TEXT_{chain} = (")
        out.extend(f'    "part {chain}-{i} "' if i == 0 else f'    + "part {chain}-{i} "' for i in range(terms))
        out.append(")")
        chain += 1
    return "\n".join(out) + "\n"


CHAIN = 300


def elif_ladder(lines: int) -> str:
    """``if``/``elif`` ladders over one variable, each branch one assignment."""
    out = ["def dispatch(code, request):", "    result = None"]
    rung = 0
    while len(out) < lines:
        keyword = "if" if rung % LADDER == 0 else "elif"
        out.append(f"    {keyword} code == {rung}:")
        out.append(f"        result = handle_{rung % 50}(request, '{_string(rung)[1:-1]}')")
        rung += 1
    out.append("    return result")
    return "\n".join(out) + "\n"


# An elif is an If nested in the previous one's else: a ladder is as deep as it has rungs.
# Ladders of 400 rungs are reported as "too-deep" (the analysis recurses over statements).
LADDER = 200


def small_functions(lines: int) -> str:
    """Thousands of four-line functions that call each other."""
    out = ["import os", "import subprocess", ""]
    index = 0
    while len(out) < lines:
        out.append(f"def step_{index}(value, path):")
        out.append(f"    data = step_{max(index - 1, 0)}(value, path) if value else os.path.join(path, 'x')")
        out.append(f"    return subprocess.run(['echo', data, '{index}'], check=True)")
        out.append("")
        index += 1
    return "\n".join(out) + "\n"


def classes_with_methods(lines: int) -> str:
    """Thousands of classes, each with an __init__ and two methods using self."""
    out = ["import hashlib", "import logging", "", "LOG = logging.getLogger(__name__)", ""]
    index = 0
    while len(out) < lines:
        out.extend(
            [
                f"class Model{index}(Base):",
                f'    table = "t_{index}"',
                "    def __init__(self, name, secret):",
                "        self.name = name",
                "        self.secret = secret",
                "    def digest(self):",
                "        return hashlib.sha256(self.secret.encode()).hexdigest()",
                "    def describe(self):",
                f'        LOG.info("model {index} %s", self.name)',
                "        return self.name",
                "",
            ]
        )
        index += 1
    return "\n".join(out) + "\n"


def one_big_function(lines: int) -> str:
    """One function whose body is every line: assignments, calls, branches and loops."""
    out = ["import os", "import subprocess", "", "def main(argv):", "    value = argv[1]"]
    index = 0
    kinds = (
        "    v{i} = value + '{i}'",
        "    os.environ['K{i}'] = v{j}",
        "    if v{j}:",
        "        value = v{j}.strip()",
        "    subprocess.run(['tool', v{j}], check=True)",
        "    for item in v{j}.split():",
        "        LOG.debug('%s', item)",
    )
    while len(out) < lines - 1 or index % len(kinds):  # ends after a whole round: no bodiless if or for
        out.append(kinds[index % len(kinds)].format(i=index, j=max(index - 1, 0) // 7 * 7))
        index += 1
    out.append("    return value")
    return "\n".join(out) + "\n"


def nested_brackets(lines: int) -> str:
    """Statements nested as deep as the parser allows, alternately calls and lists of tuples,
    one level a line (as generated code and pretty-printed data are laid out)."""
    half = BRACKET_DEPTH // 2
    out: list[str] = []
    index = 0
    while len(out) < lines:
        if index % 2 == 0:
            out.append(f"value_{index} = (")
            out.extend(f"{' ' * (level % 40)}wrap_{level}(" for level in range(BRACKET_DEPTH - 1))
            out.append("x" + ")" * BRACKET_DEPTH)
        else:
            out.append(f"value_{index} = [")
            out.extend(f"{' ' * (level % 40)}({level}, [" for level in range(half - 1))
            out.append("'s'" + "])" * (half - 1) + "]")
        index += 1
    return "\n".join(out) + "\n"


def long_lines(lines: int) -> str:
    """Every line a long call with many string and keyword arguments (minified code)."""
    out = []
    for i in range(lines):
        args = ", ".join(f"'{_string(i * 20 + k)[1:-1]}'" for k in range(7))
        out.append(f"r{i} = call_{i % 30}({args}, flag={i % 2 == 0}, size={i}, name='n{i}')")
    return "\n".join(out) + "\n"


def only_comments(lines: int) -> str:
    """A file of comments only, some looking like code, credentials or suppressions."""
    kinds = (
        "# plain prose about the module, line {i}",
        "# password = 'hunter{i}'",
        "# subprocess.call(cmd, shell=True)  # {i}",
        "#     def old_{i}(x): return eval(x)",
        "# TODO: remove the workaround for bug {i}",
    )
    return "\n".join(kinds[i % len(kinds)].format(i=i) for i in range(lines)) + "\n"


def _string(i: int) -> str:
    kinds = (
        f'"plain text number {i}"',
        f'"https://host{i}.example.com/api/v1/items"',
        f'"/var/lib/app/data_{i}.db"',
        f'"Zq{i:06d}kP9xLmN2vB7tR4wY8sD1"',
        f'"SELECT name FROM t{i} WHERE id = 1"',
        f'"10.0.{i % 256}.{i % 200}"',
    )
    return kinds[i % len(kinds)]


def _value(i: int) -> str:
    if i % 7 == 3:
        return str(i)
    if i % 11 == 5:
        return f"[{_string(i)}, {_string(i + 1)}]"
    return _string(i)


SHAPES: dict[str, Callable[[int], str]] = {
    "dict_literal": dict_literal,
    "list_of_strings": list_of_strings,
    "plus_chain": plus_chain,
    "elif_ladder": elif_ladder,
    "small_functions": small_functions,
    "classes_with_methods": classes_with_methods,
    "one_big_function": one_big_function,
    "nested_brackets": nested_brackets,
    "long_lines": long_lines,
    "only_comments": only_comments,
}


def review_seconds(path: Path) -> tuple[float, int, str]:
    """Seconds to review one file (scan, jobs=1, no cache), its finding count and any file error."""
    from scrutiny import api

    started = time.process_time()
    review = api.scan([str(path)], api.Config(jobs=1, cache=False, file_timeout=0))  # measure, do not stop
    seconds = time.process_time() - started
    errors = ", ".join(f"{e.kind}: {e.message}" for e in review.errors)
    return seconds, len(review.findings), errors


def measure(shape: str, lines: int, folder: Path) -> tuple[float, int, str]:
    path = folder / f"{shape}_{lines}.py"
    text = SHAPES[shape](lines)
    path.write_text(text, encoding="utf-8")
    return review_seconds(path)


def table(sizes: list[int], rows: dict[str, dict[int, tuple[float, int, str]]]) -> str:
    head = ["shape", *(f"µs/line at {_label(s)}" for s in sizes)]
    if len(sizes) >= 2:
        head.append(f"ratio {_label(sizes[-1])}/{_label(sizes[-2])}")
    head.append("notes")
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for shape, by_size in rows.items():
        cells = [shape]
        for size in sizes:
            seconds = by_size[size][0]
            cells.append(f"{seconds / size * 1e6:.1f} ({seconds:.2f} s)")
        if len(sizes) >= 2:
            cells.append(f"{ratio(by_size, sizes[-2], sizes[-1]):.2f}")
        notes = sorted({by_size[s][2] for s in sizes if by_size[s][2]})
        cells.append("; ".join(notes))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def ratio(by_size: dict[int, tuple[float, int, str]], small: int, large: int) -> float:
    """Per-line time at ``large`` over per-line time at ``small``."""
    return (by_size[large][0] / large) / (by_size[small][0] / small)


def _label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated line counts")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shape names")
    parser.add_argument("--output", default=str(Path(__file__).with_name("SHAPES.md")))
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--profile", metavar="SHAPE", help="print a cProfile of SHAPE at the first size")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    shapes = [s for s in args.shapes.split(",") if s]
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        parser.error(f"unknown shapes: {', '.join(unknown)} (known: {', '.join(SHAPES)})")
    with tempfile.TemporaryDirectory(prefix="scrutiny-shapes-") as name:
        folder = Path(name)
        if args.profile:
            return _profile(args.profile, sizes[0], folder)
        rows: dict[str, dict[int, tuple[float, int, str]]] = {}
        for shape in shapes:
            rows[shape] = {}
            for size in sizes:
                rows[shape][size] = measure(shape, size, folder)
                seconds, findings, error = rows[shape][size]
                print(f"{shape:22} {size:>7} lines {seconds:8.2f} s {findings:6} findings {error}", file=sys.stderr)
            if not args.no_write:  # after each shape, so a long run leaves what it measured
                Path(args.output).write_text(_document(table(sizes, rows), sizes), encoding="utf-8")
    print(table(sizes, rows))
    return 0


def _profile(shape: str, size: int, folder: Path) -> int:
    import cProfile
    import pstats

    path = folder / f"{shape}_{size}.py"
    path.write_text(SHAPES[shape](size), encoding="utf-8")
    profiler = cProfile.Profile()
    profiler.runcall(review_seconds, path)
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    return 0


def _document(text: str, sizes: list[int]) -> str:
    import platform

    return (
        "# Stress shapes: time per line\n\n"
        f"`python bench/shapes.py --sizes {','.join(map(str, sizes))}` (Python {platform.python_version()}, "
        "one process, `--jobs 1`, no cache, taint on, no file time budget). Each cell is CPU microseconds "
        "per line (and the whole review's CPU seconds, this process only); the ratio is the per-line time "
        "at the largest size over that at the next: 1.0 is linear, 10 would be quadratic. Target: at most "
        "1.5.\n\n" + text
    )


if __name__ == "__main__":
    raise SystemExit(main())
