"""Every stress shape of bench/shapes.py is reviewed in time linear in its length.

Each shape is reviewed at 1,000 and 10,000 lines; the time per line at 10k may be at most
three times that at 1k (a quadratic step would make it about ten times). CPU time of this
process, so other work on the machine does not count. The whole file takes well under a
minute.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from scrutiny import api

RATIO_LIMIT = 3.0


def _load_shapes() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "bench" / "shapes.py"
    spec = importlib.util.spec_from_file_location("bench_shapes", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


shapes = _load_shapes()


@pytest.fixture(scope="module", autouse=True)
def _warm(tmp_path_factory: pytest.TempPathFactory) -> None:
    # The first review loads the rules and taint models: not part of any file's cost.
    folder = tmp_path_factory.mktemp("warm")
    (folder / "warm.py").write_text("import os\nos.system(cmd)\n")
    api.scan([str(folder)], api.Config(jobs=1))


@pytest.mark.parametrize("shape", list(shapes.SHAPES))
def test_time_per_line_does_not_grow_with_the_size(shape: str, tmp_path: Path) -> None:
    measured = {size: shapes.measure(shape, size, tmp_path) for size in (1000, 10000)}
    for size, (_, _, error) in measured.items():
        assert error == "", f"{shape} at {size} lines was not analysed: {error}"
    ratio = shapes.ratio(measured, 1000, 10000)
    assert ratio <= RATIO_LIMIT, f"{shape}: time per line at 10k is {ratio:.2f}x that at 1k ({measured})"


def test_the_generators_make_files_of_the_asked_length() -> None:
    for shape, generate in shapes.SHAPES.items():
        lines = generate(1000).count("\n")
        assert 1000 <= lines <= 1000 + shapes.BRACKET_DEPTH, (shape, lines)  # a nested statement is ~190 lines


def test_the_table_reports_the_ratio_of_the_two_largest_sizes() -> None:
    rows = {"dict_literal": {1000: (0.1, 5, ""), 10000: (2.0, 50, "")}}
    table = shapes.table([1000, 10000], rows)
    assert "| dict_literal | 100.0 (0.10 s) | 200.0 (2.00 s) | 2.00 |" in table
