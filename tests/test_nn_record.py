"""Recording: fit's snapshots replay exactly, change nothing, and stay bounded."""

import random

import pytest

from nn import (
    MLP,
    Adam,
    Recording,
    batches,
    binary_cross_entropy_with_logits,
    evaluate,
    fit,
    moons,
    train_test_split,
)


def _data():
    X, y = moons(60, noise=0.1, seed=3)
    return train_test_split(X, y, test_size=0.25, seed=3)


def _train(record, epochs=6, seed=5):
    Xtr, Xte, ytr, yte = _data()
    model = MLP(2, [6, 1], rng=seed)
    opt = Adam(model.parameters(), lr=0.05)
    history = fit(model, Xtr, ytr, loss="bce_with_logits", optimizer=opt, epochs=epochs,
                  batch_size=10, progress=False, seed=seed, record=record)
    return model, opt, history


def test_a_recorded_epoch_replayed_in_a_fresh_model_gives_the_recorded_test_loss_exactly():
    Xtr, Xte, ytr, yte = _data()
    rec = Recording(test=(Xte, yte))
    _, _, history = _train(rec)
    assert history.recording is rec and rec.epochs() == [1, 2, 3, 4, 5, 6]
    for snap in rec.snapshots:
        fresh = MLP(2, [6, 1], rng=99)
        fresh.load_state_dict(snap.params)
        replay = evaluate(fresh, Xte, yte, loss="bce_with_logits")
        assert snap.metrics["test_loss"] == replay["loss"]
        assert snap.metrics["test_accuracy"] == replay["accuracy"]
        for key in ("loss", "accuracy", "lr"):
            assert snap.metrics[key] == history[key][snap.epoch - 1]
    # the epochs' parameters differ: the snapshots are copies, not the live model
    assert rec.snapshots[0].params != rec.snapshots[-1].params


def test_recording_changes_nothing_and_the_last_snapshot_holds_the_last_steps_grads():
    plain_model, plain_opt, plain = _train(None)
    rec = Recording(test=_data()[1::2])
    model, opt, history = _train(rec)
    assert dict(history) == dict(plain)
    assert [(p.data, p.grad) for p in model.parameters()] == \
        [(p.data, p.grad) for p in plain_model.parameters()]
    last = rec.snapshots[-1]
    assert last.params == {n: p.data for n, p in plain_model.named_parameters()}
    assert last.grads == {n: p.grad for n, p in plain_model.named_parameters()}
    assert last.optimizer == plain_opt.state_dict()
    assert rec.snapshots[0].optimizer["t"] == 5  # 45 training samples in batches of 10
    opt.state["exp_avg"][0] = 123.0
    assert rec.snapshots[-1].optimizer["state"]["exp_avg"][0] != 123.0  # a copy


def test_record_true_snapshots_every_epoch():
    _, _, history = _train(True, epochs=3)
    assert isinstance(history.recording, Recording)
    assert history.recording.epochs() == [1, 2, 3]


def test_every_k_epochs_keeps_the_last_epoch_too():
    rec = Recording(every=4)
    _train(rec, epochs=10)
    assert rec.epochs() == [4, 8, 10]


def test_max_records_keeps_evenly_spaced_snapshots_and_the_last_epoch():
    rec = Recording(max_records=4)
    _, _, history = _train(rec, epochs=20)
    assert len(rec) <= 4
    assert rec.epochs()[-1] == 20
    assert all(e % rec.every == 0 for e in rec.epochs()[:-1])
    gaps = {b - a for a, b in zip(rec.epochs(), rec.epochs()[1:-1])}
    assert len(gaps) <= 1
    for snap in rec.snapshots:
        assert snap.metrics["loss"] == history["loss"][snap.epoch - 1]


@pytest.mark.parametrize("kwargs", [{"every": 0}, {"every": True}, {"max_records": 1},
                                    {"test": ([1.0],)}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match="Recording"):
        Recording(**kwargs)


def test_fit_refuses_a_record_that_is_not_a_recording():
    with pytest.raises(TypeError, match="fit: record must be a Recording"):
        _train("yes")


def test_test_history_has_every_epoch_while_snapshots_are_thinned():
    Xtr, Xte, ytr, yte = _data()
    rec = Recording(every=3, test=(Xte, yte))
    model = MLP(2, [6, 1], rng=5)
    fit(model, Xtr, ytr, loss="bce_with_logits", optimizer="adam", lr=0.05, epochs=4,
        batch_size=10, progress=False, seed=5, record=rec)
    assert rec.epochs() == [3, 4]
    assert len(rec.test_history["test_loss"]) == 4
    assert rec.test_history["test_loss"][-1] == evaluate(model, Xte, yte, "bce_with_logits")["loss"]
    assert rec.snapshots[0].metrics["test_loss"] == rec.test_history["test_loss"][2]


def _fit_steps(rec, epochs=4):
    Xtr, Xte, ytr, yte = _data()
    model = MLP(2, [6, 1], rng=5)
    history = fit(model, Xtr, ytr, loss="bce_with_logits", optimizer="adam", lr=0.05,
                  epochs=epochs, batch_size=10, progress=False, seed=5, record=rec)
    return model, history


def _replayed(snap):
    """The plain engine on a fresh model holding ``snap``'s parameters, on the batch of its
    step: the same seeded shuffle fit draws, epoch after epoch (45 samples, 5 steps each)."""
    Xtr, _, ytr, _ = _data()
    rng = random.Random(5)
    steps = [b for _ in range(snap.epoch) for b in batches(Xtr, ytr, 10, seed=rng)]
    xb, yb = steps[snap.step - 1]
    fresh = MLP(2, [6, 1], rng=99)
    fresh.load_state_dict(snap.params)
    loss = binary_cross_entropy_with_logits([fresh(x) for x in xb], yb)
    loss.backward()
    return fresh, loss


def test_every_n_steps_snapshots_replay_their_steps_loss_and_gradients_exactly():
    Xtr, Xte, ytr, yte = _data()
    rec = Recording(every_n_steps=3, test=(Xte, yte))
    _, history = _fit_steps(rec)
    assert [s.step for s in rec.snapshots] == [3, 6, 9, 12, 15, 18, 20]  # and the last step
    assert [s.epoch for s in rec.snapshots] == [1, 2, 2, 3, 3, 4, 4]
    for snap in rec.snapshots:
        fresh, loss = _replayed(snap)
        assert snap.metrics["loss"] == loss.data
        assert snap.grads == {n: p.grad for n, p in fresh.named_parameters()}
        assert snap.metrics["test_loss"] == evaluate(fresh, Xte, yte, "bce_with_logits")["loss"]
        assert snap.metrics["lr"] == 0.05
    assert rec.step_history == {"step": [3, 6, 9, 12, 15, 18, 20],
                                "epoch": [1, 2, 2, 3, 3, 4, 4],
                                "loss": [s.metrics["loss"] for s in rec.snapshots]}
    assert len(rec.test_history["test_loss"]) == 4  # still one per epoch, for history.json
    _, plain = _fit_steps(None)
    assert dict(history) == dict(plain)  # recording every step changes nothing


def test_every_n_steps_thins_to_evenly_spaced_steps_that_still_replay():
    rec = Recording(every_n_steps=1, max_records=4)
    _fit_steps(rec)
    steps = [s.step for s in rec.snapshots]
    assert len(steps) <= 4 and steps[-1] == 20
    assert all(s % rec.every == 0 for s in steps[:-1])
    assert len({b - a for a, b in zip(steps, steps[1:-1])}) <= 1
    assert len(rec.step_history["step"]) == 20  # every step's loss, never thinned
    for snap in rec.snapshots:
        assert snap.metrics["loss"] == _replayed(snap)[1].data
        assert rec.step_history["loss"][snap.step - 1] == snap.metrics["loss"]


def test_every_and_every_n_steps_together_are_refused():
    with pytest.raises(ValueError, match="every \\(epochs\\) or every_n_steps, not both"):
        Recording(every=2, every_n_steps=5)
    with pytest.raises(ValueError, match="every_n_steps must be an int ≥ 1, got 0"):
        Recording(every_n_steps=0)
