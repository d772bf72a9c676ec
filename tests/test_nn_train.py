"""Training: the explainers' worked examples, micrograd's demo, digits, and fit's API."""

import math
import os
import random
import signal

import pytest

import autograd
from autograd import Value
from nn import (
    MLP,
    SGD,
    DivergenceError,
    LinearLR,
    TrainingInterrupted,
    digits,
    evaluate,
    fit,
    moons,
    mse_loss,
    predict,
    standardize,
    train_test_split,
    xor,
)


def test_micrograd_demo_loop_runs_unchanged_and_reaches_100_percent():
    # micrograd's demo.ipynb training loop; only the imports and the data source differ
    random.seed(1337)
    X, y = moons(100, noise=0.1, seed=1337)
    y = [yi * 2 - 1 for yi in y]  # labels −1 / +1
    model = MLP(2, [16, 16, 1])  # 2-layer neural network
    assert len(model.parameters()) == 337

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    history = []
    for k in range(100):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append((total_loss.data, acc))
    final_loss, final_acc = loss()
    assert final_loss.data < history[0][0] / 10
    assert final_acc == 1.0


def test_micrograd_demo_with_nn_tools_reaches_100_percent():
    X, y = moons(100, noise=0.1, seed=1337)
    y = [yi * 2 - 1 for yi in y]
    model = MLP(2, [16, 16, 1], rng=1337)
    opt = SGD(model.parameters(), lr=1.0)
    hist = fit(model, X, y, loss="hinge", optimizer=opt, epochs=100, batch_size=None,
               scheduler=LinearLR(opt, 1.0, 0.1, total_iters=100), l2=1e-4, progress=False)
    assert hist["lr"][:3] == pytest.approx([1.0, 0.991, 0.982])
    assert hist["loss"][-1] < hist["loss"][0] / 10
    assert evaluate(model, X, y, loss="hinge")["accuracy"] == 1.0


def test_xor_with_the_explainers_2_2_1_sigmoid_network():
    # sigmoid everywhere, ½-MSE, plain full-batch SGD; lr 2.0 for 2000 epochs (the
    # explainers' lr 0.1 needs far more epochs to leave the plateau)
    X, y = xor()
    model = MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", rng=0)
    hist = fit(model, X, y, loss="half_mse", optimizer=SGD(model.parameters(), lr=2.0),
               epochs=2000, progress=False)
    preds = predict(model, X)
    assert all(abs(p - t) < 0.1 for p, t in zip(preds, y, strict=True)), preds
    assert hist["accuracy"][-1] == 1.0 and hist["loss"][-1] < hist["loss"][0] / 20


def test_xor_with_the_2_3_1_relu_linear_network():
    X, y = xor()
    model = MLP(2, [3, 1], activation="relu", rng=1)  # linear output, as micrograd
    fit(model, X, y, loss="half_mse", optimizer=SGD(model.parameters(), lr=0.05),
        epochs=1000, progress=False)
    preds = predict(model, X)
    assert all(abs(p - t) < 0.05 for p, t in zip(preds, y, strict=True)), preds


def test_one_step_of_the_two_layer_network_matches_the_delta_formulas():
    # z₁ = W₁x + b₁, a₁ = σ(z₁), z₂ = W₂a₁ + b₂, ŷ = σ(z₂), L = ½(ŷ − y)²
    model = MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", rng=4)
    x, y, lr = [0.35, 0.9], 1.0, 0.5
    W1 = [[w.data for w in n.w] for n in model.layers[0].neurons]
    b1 = [n.b.data for n in model.layers[0].neurons]
    W2 = [w.data for w in model.layers[1].neurons[0].w]
    b2 = model.layers[1].neurons[0].b.data

    def sig(z):
        return 1 / (1 + math.exp(-z))

    z1 = [sum(W1[j][i] * x[i] for i in range(2)) + b1[j] for j in range(2)]
    a1 = [sig(z) for z in z1]
    z2 = sum(W2[j] * a1[j] for j in range(2)) + b2
    yhat = sig(z2)
    d2 = (yhat - y) * sig(z2) * (1 - sig(z2))  # δ₂ = (ŷ − y) ⊙ f'(z₂)
    d1 = [W2[j] * d2 * sig(z1[j]) * (1 - sig(z1[j])) for j in range(2)]  # δ₁ = W₂ᵀδ₂ ⊙ f'(z₁)

    out = model(x)
    loss = mse_loss(out, y, half=True)
    assert loss.data == pytest.approx(0.5 * (yhat - y) ** 2, rel=1e-12)
    model.zero_grad()
    loss.backward()
    layer1, out_neuron = model.layers[0].neurons, model.layers[1].neurons[0]
    assert [w.grad for w in out_neuron.w] == pytest.approx([d2 * a for a in a1], rel=1e-12)
    assert out_neuron.b.grad == pytest.approx(d2, rel=1e-12)
    for j in range(2):
        assert [w.grad for w in layer1[j].w] == pytest.approx([d1[j] * xi for xi in x],
                                                             rel=1e-12)
        assert layer1[j].b.grad == pytest.approx(d1[j], rel=1e-12)
    SGD(model.parameters(), lr=lr).step()  # W ← W − α ∂L/∂W
    assert [w.data for w in out_neuron.w] == pytest.approx(
        [W2[j] - lr * d2 * a1[j] for j in range(2)], rel=1e-12)
    assert layer1[1].w[0].data == pytest.approx(W1[1][0] - lr * d1[1] * x[0], rel=1e-12)


def test_digits_64_32_10_reaches_95_percent_on_the_test_split():
    X, y = digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, seed=0)
    X_train, X_test = standardize(X_train, X_test)
    model = MLP(64, [32, 10], activation="tanh", init="xavier_uniform", rng=0)
    fit(model, X_train, y_train, loss="cross_entropy", optimizer="adam", lr=0.01, epochs=2,
        batch_size=16, progress=False, seed=0)
    result = evaluate(model, X_test, y_test, loss="cross_entropy")
    assert len(X_test) == 450
    assert result["accuracy"] >= 0.95, result


def test_fit_history_progress_bar_and_no_grad_evaluation(capsys):
    X, y = moons(40, 0.1, seed=0)
    model = MLP(2, [4, 1], rng=0)
    hist = fit(model, X, y, loss="bce_with_logits", optimizer="adam", lr=0.05, epochs=3,
               batch_size=8, seed=0)
    assert set(hist) == {"loss", "lr", "accuracy"} and len(hist["loss"]) == 3
    err = capsys.readouterr().err
    assert "3/3" in err and "100%" in err  # tqdm's final line stays
    fit(model, X, y, loss="bce_with_logits", epochs=1, progress=False)
    assert capsys.readouterr().err == ""
    modes = []
    original = model.__call__

    class Spy:
        def __call__(self, x):
            modes.append(autograd.is_grad_enabled())
            return original(x)

    spy = Spy()
    spy.parameters = model.parameters
    predict(spy, X[:2])
    evaluate(spy, X[:2], y[:2], loss="bce_with_logits")
    assert modes == [False] * 4
    with pytest.raises(ValueError, match="unknown loss"):
        fit(model, X, y, loss="nope", progress=False)


def test_numpy_data_trains_exactly_like_lists():
    np = pytest.importorskip("numpy")
    X, y = moons(40, 0.1, seed=3)
    runs = []
    for data in ((X, y), (np.array(X), np.array(y)), ([np.array(r) for r in X],
                                                     [np.int64(t) for t in y])):
        model = MLP(2, [4, 1], rng=0)
        hist = fit(model, *data, loss="bce_with_logits", optimizer="adam", epochs=2,
                   batch_size=8, seed=0, progress=False)
        runs.append((hist, model.state_dict(), predict(model, data[0]),
                     evaluate(model, *data, loss="bce_with_logits")))
    assert runs[1] == runs[0] and runs[2] == runs[0]
    model = MLP(64, [8, 10], rng=0)
    Xd, yd = digits()
    hist = fit(model, np.array(Xd[:32]), np.array(yd[:32]), loss="cross_entropy", epochs=1,
               progress=False)
    assert math.isfinite(hist["loss"][0])


def nan_row_data():
    X, y = moons(20, 0.1, seed=0)
    X[7] = [math.nan, 0.5]
    return X, y


def test_a_nan_input_stops_fit_and_keeps_the_finite_model():
    """A NaN input makes the gradients NaN; whether relu(nan) gives nan (the loss shows it)
    or 0 (only the weights show it), fit stops in epoch 1 and keeps the initial weights."""
    X, y = nan_row_data()
    model = MLP(2, [4, 1], rng=0)
    before = model.state_dict()
    with pytest.raises(DivergenceError, match="training diverged in epoch 1, step 1: ") as info:
        fit(model, X, y, loss="bce_with_logits", epochs=3, progress=False)
    err = info.value
    assert err.epoch == 1 and err.step == 1 and err.history["loss"] == []
    assert err.parameter is None or err.parameter.startswith("layers.0.neurons.")
    assert model.state_dict() == before


def test_a_non_finite_parameter_is_named_and_the_last_finite_epoch_kept():
    """An optimizer that writes NaN into one weight during epoch 2 while the loss stays
    finite: the epoch-end check names the weight; the model returns to the end of epoch 1."""
    X, y = moons(20, 0.1, seed=0)
    model = MLP(2, [4, 1], rng=0)
    target = model.layers[0].neurons[2].w[1]

    class Poisoned(SGD):
        def step(self):
            super().step()
            self.calls = getattr(self, "calls", 0) + 1
            if self.calls == 2:
                target.data = math.nan

    snapshots = []
    with pytest.raises(DivergenceError) as info:
        fit(model, X, y, loss="bce_with_logits", optimizer=Poisoned(model.parameters(), lr=0.1),
            epochs=3, progress=False, metrics=[lambda o, t, d: snapshots.append(
                model.state_dict()) or 0.0])
    err = info.value
    assert str(err) == ("training diverged in epoch 2, step 1: parameter "
                        "'layers.0.neurons.2.w.1' is nan; the model keeps the parameters from "
                        "the end of epoch 1")
    assert err.parameter == "layers.0.neurons.2.w.1" and len(err.history["loss"]) == 1
    assert model.state_dict() == snapshots[0]


def test_a_model_holding_nan_is_refused_before_training():
    X, y = xor()
    model = MLP(2, [2, 1], rng=0)
    model.layers[1].neurons[0].b.data = -math.inf
    with pytest.raises(ValueError, match="parameter 'layers.1.neurons.0.b' is -inf before"):
        fit(model, X, y, progress=False)


def test_an_overflow_is_divergence_too():
    X, y = moons(20, 0.1, seed=0)
    model = MLP(2, [8, 1], rng=0)
    with pytest.raises(DivergenceError, match="diverged in epoch"):
        fit(model, X, y, loss="mse", optimizer="sgd", lr=1e10, epochs=30, progress=False)
    assert all(math.isfinite(v) for v in model.state_dict().values())


def test_ctrl_c_stops_fit_after_the_step_with_a_consistent_model():
    """SIGINT arrives during the forward pass of epoch 3's only step (full batch): fit
    finishes that step, then raises TrainingInterrupted; the model equals 3 epochs of
    training, and Python's Ctrl-C handler is back."""
    X, y = xor()
    calls = []

    def interrupting_loss(preds, targets):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return mse_loss(preds, targets)

    model = MLP(2, [3, 1], rng=0)
    with pytest.raises(KeyboardInterrupt) as info:  # a TrainingInterrupted, checked below
        fit(model, X, y, loss=interrupting_loss, epochs=10, lr=0.1, progress=False, seed=0)
    assert (info.value.epoch, info.value.step, len(info.value.history["loss"])) == (3, 1, 2)
    assert isinstance(info.value, TrainingInterrupted)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    reference = MLP(2, [3, 1], rng=0)
    fit(reference, X, y, loss="mse", epochs=3, lr=0.1, progress=False, seed=0)
    assert model.state_dict() == reference.state_dict()


@pytest.mark.parametrize("epochs, error", [
    (-1, ValueError), (-10**20, ValueError), (True, TypeError), (2.0, TypeError),
    ("3", TypeError), (None, TypeError),
])
def test_bad_epochs_are_refused_before_anything_happens(epochs, error):
    """A negative count used to run nothing without a word; a bool or a float is not a count.
    The error names the argument and the value; the model and optimizer are untouched."""
    X, y = xor()
    model = MLP(2, [3, 1], rng=0)
    before = model.state_dict()
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(error, match=r"fit: epochs must be an int.*" + repr(epochs)[:3]):
        fit(model, X, y, optimizer=opt, epochs=epochs, progress=False)
    assert model.state_dict() == before and all(p.grad == 0.0 for p in model.parameters())


def test_zero_epochs_train_nothing_and_numpy_ints_count():
    """epochs=0 is an empty loop (as ``for epoch in range(0)`` in a PyTorch script); a NumPy
    integer counts like an int: two epochs equal two epochs."""
    X, y = xor()
    model = MLP(2, [3, 1], rng=0)
    before = model.state_dict()
    history = fit(model, X, y, epochs=0, progress=False)
    assert model.state_dict() == before and history == {"loss": [], "lr": [], "accuracy": []}
    np = pytest.importorskip("numpy")
    runs = []
    for epochs in (2, np.int64(2)):
        m = MLP(2, [3, 1], rng=0)
        runs.append((fit(m, X, y, epochs=epochs, seed=1, progress=False), m.state_dict()))
    assert runs[0] == runs[1] and len(runs[0][0]["loss"]) == 2


def test_hinge_fit_refuses_0_1_labels_before_the_first_step():
    """With 0/1 labels the hinge loss is 1 for every 0 target whatever the model does; fit
    checks every label first, so a bad one in a late batch does not leave a half-trained
    model (plain and compiled fits alike)."""
    X, labels = moons(12, 0.1, seed=2)
    y = [2 * t - 1 for t in labels]
    y[9] = 0
    for compiled in (False, True):
        model = MLP(2, [3, 1], rng=0)
        before = model.state_dict()
        with pytest.raises(ValueError, match=r"hinge_loss: .* y\[9\] = 0"):
            fit(model, X, y, loss="hinge", batch_size=2, progress=False, compiled=compiled)
        assert model.state_dict() == before
    y[9] = -1  # the same data with ±1 labels trains, and the loss is the formula's
    model = MLP(2, [3, 1], rng=0)
    scores = predict(model, X)
    hist = fit(model, X, y, loss="hinge", epochs=1, progress=False)
    assert hist["loss"][0] == pytest.approx(
        sum(max(0.0, 1 - t * s) for s, t in zip(scores, y)) / len(y), rel=1e-12)


def test_a_second_ctrl_c_stops_at_once_with_the_last_finished_step():
    """Two SIGINTs during the forward pass of epoch 3's only step: the second stops fit in
    that forward pass; the model and history are those of 2 full epochs, as a plain fit of
    2 epochs computes them."""
    X, y = xor()
    calls = []

    def interrupting_loss(preds, targets):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10**6):  # the second raises in here, before any loss is made
                pass
            pytest.fail("a second SIGINT did not stop the step")
        return mse_loss(preds, targets)

    model = MLP(2, [3, 1], rng=0)
    with pytest.raises(TrainingInterrupted) as info:
        fit(model, X, y, loss=interrupting_loss, epochs=10, lr=0.1, progress=False, seed=0)
    assert (info.value.epoch, info.value.step, len(info.value.history["loss"])) == (2, 1, 2)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    reference = MLP(2, [3, 1], rng=0)
    history = fit(reference, X, y, loss="mse", epochs=2, lr=0.1, progress=False, seed=0)
    assert model.state_dict() == reference.state_dict()
    assert info.value.history == history


def test_a_second_ctrl_c_during_the_first_step_is_a_plain_keyboard_interrupt():
    X, y = xor()

    def interrupting_loss(preds, targets):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        return mse_loss(preds, targets)

    model = MLP(2, [3, 1], rng=0)
    before = model.state_dict()
    with pytest.raises(KeyboardInterrupt) as info:
        fit(model, X, y, loss=interrupting_loss, epochs=10, lr=0.1, progress=False)
    assert not isinstance(info.value, TrainingInterrupted)
    assert model.state_dict() == before


class _SignalledSGD(SGD):
    """SGD that receives two SIGINTs halfway through the update of step ``at``."""

    def __init__(self, params, lr, at):
        super().__init__(params, lr)
        self.at, self.steps = at, 0

    def _update(self):
        self.steps += 1
        for i, p in enumerate(self.params):
            if self.steps == self.at and i == len(self.params) // 2:
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)
            p.data -= self.lr * p.grad


def test_a_second_ctrl_c_never_cuts_an_update_in_half():
    X, y = xor()
    model = MLP(2, [3, 1], rng=0)
    with pytest.raises(TrainingInterrupted) as info:
        fit(model, X, y, optimizer=_SignalledSGD(model.parameters(), 0.1, at=4), epochs=10,
            progress=False, seed=0)
    assert (info.value.epoch, info.value.step) == (4, 1)
    reference = MLP(2, [3, 1], rng=0)
    fit(reference, X, y, optimizer=SGD(reference.parameters(), 0.1), epochs=4, progress=False,
        seed=0)
    assert model.state_dict() == reference.state_dict()
