"""Optimizers: three updates against the formulas (by hand here) and against torch.optim."""

import json
import math

import pytest

from autograd import Value
from nn import SGD, AdaGrad, Adam, AdamW, ExponentialLR, LinearLR, RMSprop, StepLR

W0 = [0.5, -1.5]
GRADS = [[0.3, -0.2], [-0.1, 0.4], [0.25, 0.05]]  # g_t per step, set by hand


def run(make):
    params = [Value(w) for w in W0]
    opt = make(params)
    trace = []
    for g in GRADS:
        for p, gi in zip(params, g, strict=True):
            p.grad = gi
        opt.step()
        trace.append([p.data for p in params])
    return trace


def by_hand(update):
    """Apply update(i, w, g, t, state) -> new w for t = 1, 2, 3 on each coordinate."""
    ws, states, trace = list(W0), [{}, {}], []
    for t, g in enumerate(GRADS, start=1):
        ws = [update(w, gi, t, st) for w, gi, st in zip(ws, g, states, strict=True)]
        trace.append(list(ws))
    return trace


def sgd_hand(lr, mu=0.0, nesterov=False, wd=0.0):
    def update(w, g, t, st):
        g = g + wd * w
        if mu:
            st["m"] = mu * st.get("m", 0.0) + g  # m_t = γ m_{t−1} + g_t
            g = g + mu * st["m"] if nesterov else st["m"]
        return w - lr * g
    return update


def adagrad_hand(lr, eps=1e-10):
    def update(w, g, t, st):
        st["s"] = st.get("s", 0.0) + g * g
        return w - lr * g / (math.sqrt(st["s"]) + eps)
    return update


def rmsprop_hand(lr, rho=0.99, eps=1e-8):
    def update(w, g, t, st):
        st["v"] = rho * st.get("v", 0.0) + (1 - rho) * g * g
        return w - lr * g / (math.sqrt(st["v"]) + eps)
    return update


def adam_hand(lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, decoupled=False):
    def update(w, g, t, st):
        if decoupled:
            w = w - lr * wd * w
        else:
            g = g + wd * w
        st["m"] = b1 * st.get("m", 0.0) + (1 - b1) * g
        st["v"] = b2 * st.get("v", 0.0) + (1 - b2) * g * g
        m_hat, v_hat = st["m"] / (1 - b1**t), st["v"] / (1 - b2**t)
        return w - lr * m_hat / (math.sqrt(v_hat) + eps)
    return update


CASES = {
    "sgd": (lambda p: SGD(p, lr=0.1), sgd_hand(0.1)),
    "momentum": (lambda p: SGD(p, lr=0.1, momentum=0.9), sgd_hand(0.1, 0.9)),
    "nesterov_wd": (lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                    sgd_hand(0.1, 0.9, True, 0.01)),
    "adagrad": (lambda p: AdaGrad(p, lr=0.1), adagrad_hand(0.1)),
    "rmsprop": (lambda p: RMSprop(p, lr=0.01), rmsprop_hand(0.01)),
    "adam": (lambda p: Adam(p, lr=0.01), adam_hand(0.01)),
    "adam_l2": (lambda p: Adam(p, lr=0.01, weight_decay=0.1), adam_hand(0.01, wd=0.1)),
    "adamw": (lambda p: AdamW(p, lr=0.01), adam_hand(0.01, wd=0.01, decoupled=True)),
}


@pytest.mark.parametrize("name", CASES)
def test_first_three_updates_follow_the_formula(name):
    make, update = CASES[name]
    got = run(make)
    for step_got, step_hand in zip(got, by_hand(update), strict=True):
        assert step_got == pytest.approx(step_hand, rel=1e-12, abs=1e-15)


def test_momentum_first_step_is_plain_sgd():
    assert run(CASES["momentum"][0])[0] == pytest.approx(run(CASES["sgd"][0])[0], rel=1e-15)


@pytest.mark.parametrize("name", CASES)
def test_matches_torch_optim(name):
    torch = pytest.importorskip("torch")
    make_torch = {
        "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
        "momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
        "nesterov_wd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                                 weight_decay=0.01),
        "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1),
        "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01),
        "adam": lambda p: torch.optim.Adam(p, lr=0.01),
        "adam_l2": lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
        "adamw": lambda p: torch.optim.AdamW(p, lr=0.01),
    }[name]
    w = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    opt = make_torch([w])
    for g, ours in zip(GRADS, run(CASES[name][0]), strict=True):
        w.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        assert w.detach().tolist() == pytest.approx(ours, rel=1e-12, abs=1e-15)


def test_state_dict_round_trip_continues_identically():
    a = [Value(w) for w in W0]
    opt = Adam(a, lr=0.01)
    for p, g in zip(a, GRADS[0], strict=True):
        p.grad = g
    opt.step()
    b = [Value(p.data) for p in a]
    opt2 = Adam(b, lr=0.5)
    opt2.load_state_dict(json.loads(json.dumps(opt.state_dict())))  # survives JSON
    assert opt2.lr == 0.01 and opt2.t == 1 and opt2.betas == (0.9, 0.999)
    for params, o in ((a, opt), (b, opt2)):
        for p, g in zip(params, GRADS[1], strict=True):
            p.grad = g
        o.step()
    assert [p.data for p in a] == [p.data for p in b]
    bad = opt.state_dict()
    bad["state"]["exp_avg"] = [0.0]
    with pytest.raises(ValueError, match="needs 2 numbers"):
        opt2.load_state_dict(bad)
    with pytest.raises(ValueError, match="betas must be in"):
        opt2.load_state_dict({**opt.state_dict(), "betas": [0.9, 1.5]})
    assert opt2.betas == (0.9, 0.999)
    with pytest.raises(ValueError, match="state is for 'SGD'"):
        opt2.load_state_dict(SGD(b, lr=0.1).state_dict())


def test_zero_grad_and_bad_hyperparameters():
    p = Value(1.0)
    p.grad = 3.0
    SGD([p], lr=0.1).zero_grad()
    assert p.grad == 0.0
    with pytest.raises(ValueError, match="lr"):
        SGD([p], lr=0.0)
    with pytest.raises(ValueError, match="nesterov"):
        SGD([p], lr=0.1, nesterov=True)


def test_schedules():
    opt = SGD([Value(0.0)], lr=1.0)
    sched = LinearLR(opt)  # micrograd's demo: lr_k = 1 − 0.9 k / 100
    lrs = []
    for _ in range(101):
        lrs.append(opt.lr)
        sched.step()
    assert lrs == pytest.approx([1.0 - 0.9 * k / 100 for k in range(101)])
    assert opt.lr == pytest.approx(0.1) and sched.get_lr() == opt.lr
    opt = SGD([Value(0.0)], lr=0.5)
    exp = ExponentialLR(opt, gamma=0.9)
    for k in range(1, 4):
        exp.step()
        assert opt.lr == pytest.approx(0.5 * 0.9**k)
    opt = SGD([Value(0.0)], lr=0.5)
    step = StepLR(opt, step_size=2, gamma=0.1)
    seen = []
    for _ in range(5):
        seen.append(opt.lr)
        step.step()
    assert seen == pytest.approx([0.5, 0.5, 0.05, 0.05, 0.005])
