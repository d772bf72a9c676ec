"""Write PyTorch's values at the ops' edge cases to tests/data/edge_values.json.

Run from the repository root with PyTorch installed: ``python tests/make_edge_values.py``.
``tests/test_edges.py`` compares the engine with the file (no PyTorch needed) and, when
PyTorch is installed, the file and the engine with PyTorch itself.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "tests" / "data" / "edge_values.json"


def layout(data: dict) -> str:
    """JSON with one line per (op, operands) record, so a change reads well in a diff."""
    dump = lambda x: json.dumps(x, ensure_ascii=False)  # noqa: E731
    head = ",\n".join(f" {dump(k)}: {dump(v)}" for k, v in data.items() if k != "ops")
    ops = ",\n".join(
        f"  {dump(op)}: {{\n" + ",\n".join(f"   {dump(pt)}: {dump(rec)}" for pt, rec in
                                           records.items()) + "\n  }"
        for op, records in data["ops"].items())
    return f"{{\n{head},\n \"ops\": {{\n{ops}\n }}\n}}\n"


def main() -> None:
    import torch

    from tests.edge_values import key, point_key, points, table, torch_record

    data = {
        "generator": "tests/make_edge_values.py",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "ops": {
            key(op): {point_key(args): torch_record(torch, op, args) for args in points(op)}
            for op in table()
        },
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(layout(data))
    print(f"wrote {OUT.relative_to(ROOT)}: {len(data['ops'])} ops, torch {torch.__version__}")


if __name__ == "__main__":
    main()
