"""Every op of the table at NaN, ±inf, ±0, tiny, huge and domain-edge operands: value,
gradient (for an upstream gradient of 1 and of inf) and second derivatives equal PyTorch's
(float64), or the engine raises its documented DomainError.

PyTorch's numbers are stored in tests/data/edge_values.json (written by
tests/make_edge_values.py), so this runs without PyTorch; with PyTorch installed the engine
and the file are also compared with PyTorch itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.edge_values import (
    KNOWN,
    differences,
    engine,
    key,
    point_key,
    points,
    same,
    table,
    torch_record,
    unexplained,
)

DATA = json.loads((Path(__file__).parent / "data" / "edge_values.json").read_text())
TABLE = table()
IDS = [key(op) for op in TABLE]
REGENERATE = "run `python tests/make_edge_values.py` (needs PyTorch) to record it"


def compare(op, want_of) -> tuple[list[str], set[int]]:
    problems, used = [], set()
    for args in points(op):
        found = differences(op, args, engine(op, args), want_of(args))
        left, explained = unexplained(op, args, found)
        used.update(explained)
        problems += [f"{key(op)} at ({point_key(args)}): {f}: {d}" for f, d in left.items()]
    return problems, used


def test_every_op_of_the_table_has_pytorch_records():
    assert {op.name for op in TABLE} >= {
        "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "tanh", "sigmoid", "relu",
        "softplus", "sqrt", "abs", "sin", "cos", "sum", "pow_const", "leaky_relu", "linear"}
    for op in TABLE:
        assert key(op) in DATA["ops"], f"no PyTorch values for {key(op)}: {REGENERATE}"
        stored = set(DATA["ops"][key(op)])
        assert stored == {point_key(a) for a in points(op)}, f"{key(op)}: {REGENERATE}"


@pytest.mark.parametrize("op", TABLE, ids=IDS)
def test_engine_equals_stored_pytorch_values(op):
    stored = DATA["ops"][key(op)]
    problems, _ = compare(op, lambda args: stored[point_key(args)])
    assert not problems, "\n".join(problems)


def test_every_known_difference_still_happens():
    used: set[int] = set()
    for op in TABLE:
        stored = DATA["ops"][key(op)]
        used |= compare(op, lambda args, s=stored: s[point_key(args)])[1]
    assert used == set(range(len(KNOWN))), [KNOWN[i][3] for i in set(range(len(KNOWN))) - used]


@pytest.mark.parametrize("op", TABLE, ids=IDS)
def test_engine_and_stored_values_equal_live_pytorch(op):
    torch = pytest.importorskip("torch")
    live = {point_key(args): torch_record(torch, op, args) for args in points(op)}
    problems, _ = compare(op, lambda args: live[point_key(args)])
    assert not problems, "\n".join(problems)
    stored = DATA["ops"][key(op)]
    for point, record in live.items():
        for field in ("value", "grad", "grad_inf"):
            a, b = record[field], stored[point][field]
            assert all(map(same, [a] if field == "value" else a, [b] if field == "value" else b)), (
                f"{key(op)} at ({point}) {field}: PyTorch {torch.__version__} gives {a}, the "
                f"file (PyTorch {DATA['torch']}) {b}: {REGENERATE}")
