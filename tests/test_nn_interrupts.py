"""nn.interrupts: which signals are taken over, and when a real signal raises."""

import os
import signal

import pytest

from nn.interrupts import Interrupts, deferred


def send(signum=signal.SIGINT, times=1):
    for _ in range(times):
        os.kill(os.getpid(), signum)


def test_the_first_signal_is_recorded_and_a_second_raises():
    with Interrupts((signal.SIGINT, signal.SIGTERM)) as interrupts:
        send(signal.SIGTERM)
        assert interrupts.received == signal.SIGTERM
        with pytest.raises(KeyboardInterrupt):
            send(signal.SIGINT)
    assert interrupts.received == signal.SIGTERM  # the first one is the one reported
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_inside_a_hold_a_due_interrupt_waits_for_its_end():
    events = []
    with Interrupts() as interrupts, pytest.raises(KeyboardInterrupt):
        with interrupts.hold():
            send(times=2)
            events.append("held work finished")
        events.append("not reached")
    assert events == ["held work finished"]


def test_at_once_raises_on_the_first_signal_and_then_later_ones_wait_for_a_hold():
    with Interrupts() as interrupts:
        with pytest.raises(KeyboardInterrupt), interrupts.at_once():
            send()
        send(times=3)  # the program is stopping: these only wait
        with pytest.raises(KeyboardInterrupt), interrupts.hold():
            pass
        with interrupts.hold():  # nothing new arrived: no interrupt
            pass
    assert interrupts.received == signal.SIGINT


def test_stop_makes_later_signals_wait_for_the_next_hold():
    with Interrupts() as interrupts:
        send()
        interrupts.stop()
        send()  # a second signal, but the program is already stopping
        with pytest.raises(KeyboardInterrupt), interrupts.hold():
            pass


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")
def test_an_ignored_signal_or_a_programs_own_handler_is_left_alone():
    def own(signum, frame):
        pass

    old_hup, old_term = signal.signal(signal.SIGHUP, signal.SIG_IGN), signal.signal(
        signal.SIGTERM, own)
    try:
        with Interrupts((signal.SIGHUP, signal.SIGTERM)):
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN  # as under nohup
            assert signal.getsignal(signal.SIGTERM) is own
    finally:
        signal.signal(signal.SIGHUP, old_hup)
        signal.signal(signal.SIGTERM, old_term)


def test_deferred_shares_an_open_interrupts_and_otherwise_opens_its_own():
    with Interrupts((signal.SIGINT, signal.SIGTERM)) as outer, deferred() as inner:
        assert inner is outer
    with deferred() as own:
        assert own.signals == (signal.SIGINT,)
        assert signal.getsignal(signal.SIGINT).__self__ is own
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
