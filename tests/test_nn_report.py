"""The report page: self-contained, its numbers are the recording's, its pictures the model's."""

import html
import json
import re

import pytest

from nn import MLP, Recording, digits, fit, moons, predict


def _page_frames(text: str) -> list:
    blob = re.search(r'<script id="frames" type="application/json">(.*?)</script>', text, re.S)
    return json.loads(blob.group(1))


@pytest.fixture(scope="module")
def moons_run():
    X, y = moons(40, noise=0.1, seed=2)
    model = MLP(2, [5, 1], rng=2)
    rec = Recording(test=(X[:10], y[:10]))
    history = fit(model, X, y, loss="bce_with_logits", optimizer="adam", lr=0.05, epochs=4,
                  progress=False, seed=2, record=rec)
    return model, rec, history, X, y


def test_page_holds_the_recorded_numbers_and_asks_for_nothing(moons_run, tmp_path):
    model, rec, history, X, y = moons_run
    before = [(p.data, p.grad) for p in model.parameters()]
    text = rec.save_report(tmp_path / "r.html", model=model, X=X, y=y).read_text()
    frames = _page_frames(text)
    assert [f["epoch"] for f in frames] == [1, 2, 3, 4]
    for f in frames:
        assert f["numbers"]["loss"] == history["loss"][f["epoch"] - 1]
        assert f["numbers"]["accuracy"] == history["accuracy"][f["epoch"] - 1]
    assert "default-src 'none'" in text
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert [(p.data, p.grad) for p in model.parameters()] == before  # looking changes nothing


def test_boundary_colours_are_the_models_predictions(moons_run, tmp_path):
    model, rec, _, X, y = moons_run
    frames = _page_frames(rec.save_report(tmp_path / "r.html", model=model, X=X, y=y)
                          .read_text())
    fresh = MLP(2, [5, 1], rng=9)
    fresh.load_state_dict(rec.snapshots[-1].params)
    xs, ys = [p[0] for p in X], [p[1] for p in X]
    corner = [min(xs), max(ys)]  # the top-left cell of the 30 × 30 grid
    red = predict(fresh, [corner])[0] > 0
    first_rect = re.search(r'<rect [^>]*fill="([^"]+)"', frames[-1]["picture"]).group(1)
    assert first_rect == ("#f4c7c3" if red else "#c6dbef")
    assert frames[0]["picture"] != frames[-1]["picture"]


def test_digits_report_shows_a_confusion_matrix_counting_every_sample(tmp_path):
    X, y = digits()
    X, y = X[:100], y[:100]
    model = MLP(64, [10], rng=0)
    rec = Recording()
    fit(model, X, y, loss="cross_entropy", optimizer="adam", lr=0.01, epochs=2,
        progress=False, seed=0, record=rec)
    frames = _page_frames(rec.save_report(tmp_path / "d.html", model=model, X=X, y=y)
                          .read_text())
    counts = [int(v) for v in re.findall(r">(\d+)</text>", frames[-1]["picture"])]
    assert len(counts) == 100 and sum(counts) == 100
    out = predict(model, X)
    right = sum(max(range(10), key=o.__getitem__) == t for o, t in zip(out, y))
    assert sum(counts[i * 10 + i] for i in range(10)) == right


def test_an_empty_recording_is_refused(tmp_path):
    with pytest.raises(ValueError, match="report: needs a Recording with snapshots"):
        Recording().save_report(tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"max_graphs": -1}, "max_graphs must be an int ≥ 0, got -1"),
    ({"max_graphs": True}, "max_graphs must be an int ≥ 0, got True"),
    ({"sample": [0.5]}, r"sample must be a pair \(x, target\), got \[0.5\]"),
])
def test_bad_graph_settings_are_refused_before_anything_is_written(moons_run, tmp_path, kwargs,
                                                                    message):
    model, rec, _, X, y = moons_run
    with pytest.raises(ValueError, match=f"report: {message}"):
        rec.save_report(tmp_path / "x.html", model=model, X=X, y=y, **kwargs)
    assert not (tmp_path / "x.html").exists()


def _graphs(text: str) -> list:
    blob = re.search(r'<script id="graphs" type="application/json">(.*?)</script>', text, re.S)
    return json.loads(blob.group(1))


def test_graphs_are_capped_at_evenly_spaced_epochs_and_the_cap_is_said(tmp_path):
    X, y = moons(30, noise=0.1, seed=1)
    model = MLP(2, [4, 1], rng=1)
    rec = Recording()
    fit(model, X, y, loss="bce_with_logits", optimizer="adam", lr=0.05, epochs=10,
        progress=False, seed=1, record=rec)
    text = rec.save_report(tmp_path / "r.html", model=model, X=X, y=y, max_graphs=4).read_text()
    assert [g["at"] for g in _graphs(text)] == ["epoch 1", "epoch 4", "epoch 7", "epoch 10"]
    frames = _page_frames(text)
    assert [f["graph"] for f in frames] == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]
    assert "nearest before " in text  # the caption says when a graph is an earlier one
    # the last graph is the one drawn: its texts are the ones the static picture shows
    shown = re.findall(r'<text [^>]*data-cell="(\d+)"[^>]*>([^<]*)</text>', text)
    assert [html.unescape(t) for _, t in shown] == _graphs(text)[-1]["t"]
    text = rec.save_report(tmp_path / "r.html", model=model, X=X, y=y, max_graphs=0).read_text()
    assert _graphs(text) == [] and "No sample graph: no graphs asked for" in text


def test_a_graph_the_layer_view_refuses_is_left_out_with_the_reason(tmp_path, monkeypatch):
    import nn.report

    def refuse(loss_value, groups):
        raise ValueError("draw: 301 boxes, more than max_nodes=300")

    monkeypatch.setattr(nn.report, "layer_view", refuse)
    X, y = moons(20, noise=0.1, seed=1)
    model = MLP(2, [3, 1], rng=1)
    rec = Recording()
    history = fit(model, X, y, loss="bce_with_logits", epochs=2, progress=False, seed=1,
                  record=rec)
    text = rec.save_report(tmp_path / "r.html", model=model, X=X, y=y).read_text()
    assert "No sample graph: draw: 301 boxes, more than max_nodes=300" in text
    assert [f["numbers"]["loss"] for f in _page_frames(text)] == history["loss"]  # the rest


def test_a_step_recording_reports_each_recorded_steps_loss(tmp_path):
    X, y = moons(30, noise=0.1, seed=1)
    model = MLP(2, [4, 1], rng=1)
    rec = Recording(every_n_steps=4)
    fit(model, X, y, loss="bce_with_logits", optimizer="adam", lr=0.05, epochs=3,
        batch_size=10, progress=False, seed=1, record=rec)  # 3 steps an epoch, 9 in all
    text = rec.save_report(tmp_path / "r.html", model=model, X=X, y=y).read_text()
    frames = _page_frames(text)
    assert [f["at"] for f in frames] == ["step 4 (epoch 2)", "step 8 (epoch 3)",
                                         "step 9 (epoch 3)"]
    assert [f["numbers"]["loss"] for f in frames] == rec.step_history["loss"]
    assert [g["at"] for g in _graphs(text)] == [f["at"] for f in frames]
    assert ">step</text>" in text  # the loss chart's x axis counts steps


def test_boundary_runs_of_one_colour_are_one_rect_and_every_cell_is_the_models(moons_run,
                                                                                tmp_path):
    model, rec, _, X, y = moons_run
    frames = _page_frames(rec.save_report(tmp_path / "r.html", model=model, X=X, y=y)
                          .read_text())
    rects = re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" [^>]*fill="([^"]+)"',
                       frames[-1]["picture"])
    assert len(rects) < 200  # 900 cells before
    xs, ys = [p[0] for p in X], [p[1] for p in X]
    grid = [[min(xs) + (max(xs) - min(xs)) * j / 29, max(ys) - (max(ys) - min(ys)) * i / 29]
            for i in range(30) for j in range(30)]
    fresh = MLP(2, [5, 1], rng=9)
    fresh.load_state_dict(rec.snapshots[-1].params)
    scores = predict(fresh, grid)
    assert min(scores) < 0 < max(scores)  # logits: red where the logit is positive
    expected = ["#f4c7c3" if s > 0 else "#c6dbef" for s in scores]
    shown = [fill for _, _, width, fill in rects
             for _ in range(round((float(width) - 0.5) / (320 / 30)))]
    assert shown == expected
