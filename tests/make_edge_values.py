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
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(data['ops'])} ops, torch {torch.__version__}")


if __name__ == "__main__":
    main()
