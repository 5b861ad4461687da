"""The floor: what any Python-AST reviewer must spend on a tree, on one core.

    python bench/floor.py parse TREE    # read + ast.parse every file scrutiny would review
    python bench/floor.py walk TREE     # the same, plus one ast.walk over every tree

The file list comes from scrutiny's own discovery, so both sides see the same files.
Prints "files lines" on stdout.
"""

from __future__ import annotations

import ast
import sys
import warnings

from scrutiny.discover import discover


def main() -> int:
    mode, tree = sys.argv[1], sys.argv[2]
    warnings.simplefilter("ignore")  # SyntaxWarnings of invalid escapes would flood stderr
    items, _ = discover([tree])
    files = lines = 0
    for item in items:
        assert item.path is not None
        data = item.path.read_bytes()
        try:
            parsed = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        files += 1
        lines += data.count(b"\n")
        if mode == "walk":
            for _ in ast.walk(parsed):
                pass
    print(files, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
