"""Time per key press on the stepper page of a network: nn.MLP(4, [8, 8, 1]) on 4 samples,
squared errors summed (the learner's 266-node graph), saved and opened from file:// in
Debian's chromium. Prints the page's bytes and the milliseconds each → and ← press takes, from
the key event until the next frame is painted (the page's script, style, layout, scrolling)."""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PRESS = """async (key) => {
    const times = [];
    const steps = Number(document.querySelector('.sg-slider').max);
    for (let i = 0; i < steps; i++) {
        const start = performance.now();
        document.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true}));
        await new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));
        times.push(performance.now() - start);
    }
    return times;
}"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    from autograd import step_through, topological_order
    from tests.test_stepper import mlp_loss

    _, loss = mlp_loss()
    view = step_through(loss)
    with tempfile.TemporaryDirectory() as tmp:
        path = view.save(Path(tmp) / "mlp.html")
        print(f"{len(topological_order(loss))} nodes, {len(view)} steps: page "
              f"{path.stat().st_size:,} bytes")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(path.as_uri())
            for key, name in (("ArrowRight", "→"), ("ArrowLeft", "←")):
                times = page.evaluate(PRESS, key)
                print(f"{name}: median {statistics.median(times):.1f} ms, max "
                      f"{max(times):.1f} ms per press over {len(times)} presses")
            browser.close()


if __name__ == "__main__":
    main()
