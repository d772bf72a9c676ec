"""write_atomic: symbolic links are written through (the link stays a link), anything that is
not a regular file is refused before a byte is written, durability and Ctrl-C safety hold for
the link's target; nn.save, Drawing.save and Stepper.save all write this way."""

import contextlib
import os
import signal
import socket
import stat

import pytest

import nn
from autograd import Value, draw, step_through
from autograd.files import write_atomic

posix_only = pytest.mark.skipif(os.name != "posix", reason="symlinks, FIFOs and devices")


@contextlib.contextmanager
def deadline(seconds=5):
    """Fail instead of hanging if the body blocks (as opening a FIFO for writing would)."""
    def expire(signum, frame):
        raise TimeoutError(f"blocked for {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def snapshot(folder):
    """Every entry under ``folder``: (relative path, what lstat says it is, its content or
    link text), so a test sees any file added, replaced or changed."""
    out = set()
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(root, name)
            st = os.lstat(path)
            content = (os.readlink(path) if stat.S_ISLNK(st.st_mode) else
                       open(path, "rb").read() if stat.S_ISREG(st.st_mode) else st.st_rdev)
            out.add((os.path.relpath(path, folder), stat.S_IFMT(st.st_mode), content))
    return out


@posix_only
def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.json"
    target.write_bytes(b"old")
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert write_atomic(link, b"new") == link
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new" and not target.is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the target's mode is kept
    assert sorted(os.listdir(tmp_path / "real")) == ["model.json"]  # no temporary left
    assert sorted(os.listdir(tmp_path)) == ["link.json", "real"]


@posix_only
def test_a_chain_of_relative_links_resolves_to_the_last_target(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "file").write_bytes(b"old")
    (tmp_path / "a" / "second").symlink_to("../b/file")
    (tmp_path / "first").symlink_to("a/second")
    write_atomic(tmp_path / "first", b"new")
    assert (tmp_path / "b" / "file").read_bytes() == b"new"
    assert os.readlink(tmp_path / "first") == "a/second"
    assert os.readlink(tmp_path / "a" / "second") == "../b/file"
    assert sorted(os.listdir(tmp_path / "b")) == ["file"]


@posix_only
def test_a_dangling_link_creates_its_target(tmp_path):
    (tmp_path / "out").mkdir()
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "out" / "new.json")
    write_atomic(link, b"data")
    assert link.is_symlink()
    assert (tmp_path / "out" / "new.json").read_bytes() == b"data"
    assert stat.S_IMODE((tmp_path / "out" / "new.json").stat().st_mode) == 0o644


@posix_only
def test_a_link_loop_is_refused_naming_the_path(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    before = snapshot(tmp_path)
    with pytest.raises(OSError, match="Too many levels of symbolic links") as info:
        write_atomic(tmp_path / "a", b"x")
    assert str(tmp_path / "a") in str(info.value)
    assert snapshot(tmp_path) == before


@posix_only
def test_the_link_target_is_fsynced_in_its_own_folder(tmp_path, monkeypatch):
    (tmp_path / "real").mkdir()
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "real" / "m.json")
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd")
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    write_atomic(link, b"data")
    assert len(synced) == 2 and synced[1] == str(tmp_path / "real")
    assert os.path.dirname(synced[0]) == str(tmp_path / "real")  # the temporary, beside it


@posix_only
def test_ctrl_c_through_a_link_keeps_the_target_and_leaves_no_temporary(tmp_path, monkeypatch):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "m.json"
    target.write_bytes(b"old")
    (tmp_path / "link.json").symlink_to(target)
    before = snapshot(tmp_path)

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "link.json", b"new")
    assert snapshot(tmp_path) == before


@posix_only
@pytest.mark.parametrize("through_link", [False, True], ids=["fifo", "link-to-fifo"])
def test_a_fifo_is_refused_without_blocking_or_writing(tmp_path, through_link):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    path = tmp_path / "link" if through_link else fifo
    if through_link:
        path.symlink_to(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so a wrong open would not block
    try:
        before = snapshot(tmp_path)
        with deadline(), pytest.raises(OSError) as info:
            write_atomic(path, b"data")
        assert type(info.value) is OSError
        assert str(info.value) == f"cannot write {str(path)!r}: it is a FIFO, not a regular file"
        assert os.read(reader, 100) == b""  # nothing went into the pipe
    finally:
        os.close(reader)
    assert snapshot(tmp_path) == before and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_folder_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "kept").write_bytes(b"x")
    before = snapshot(tmp_path)
    with pytest.raises(IsADirectoryError, match="it is a folder, not a regular file") as info:
        write_atomic(tmp_path / "out", b"data")
    assert repr(str(tmp_path / "out")) in str(info.value)
    assert snapshot(tmp_path) == before


@posix_only
def test_a_character_device_is_never_replaced(tmp_path):
    """A null device of our own in tmp_path (needs root); else the system's, which is only
    refused (a check of its type happens before any write), never at risk of replacement
    since a non-root user cannot replace /dev/null."""
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        null = os.devnull
        if os.access(os.path.dirname(null), os.W_OK):
            pytest.skip("cannot make a device node, and /dev is writable: not risking it")
    before = os.lstat(null)
    with pytest.raises(OSError) as info:
        write_atomic(null, b"data")
    assert str(info.value) == (f"cannot write {str(null)!r}: it is a character device, not a "
                               f"regular file")
    after = os.lstat(null)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino,
                                                                              before.st_rdev)
    if null != os.devnull:
        assert sorted(os.listdir(tmp_path)) == ["null"]


@posix_only
def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        with pytest.raises(OSError, match="it is a socket, not a regular file"):
            write_atomic(path, b"data")
        assert stat.S_ISSOCK(os.lstat(path).st_mode)


def expression():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    return (a * b + a).tanh()


@posix_only
@pytest.mark.parametrize(("suffix", "write", "check"), [
    (".json", lambda path: nn.save(nn.MLP(2, [3, 1], rng=0), path),
     lambda path: nn.load(path).state_dict() == nn.MLP(2, [3, 1], rng=0).state_dict()),
    (".dot", lambda path: draw(expression()).save(path),
     lambda path: path.read_text() == draw(expression()).dot_source),
    (".html", lambda path: step_through(expression()).save(path),
     lambda path: path.read_text().startswith("<!DOCTYPE html>")),
], ids=["nn.save", "draw.save", "step_through.save"])
def test_every_writer_writes_through_a_link(tmp_path, suffix, write, check):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / f"out{suffix}"
    target.write_bytes(b"old")
    link = tmp_path / f"link{suffix}"
    link.symlink_to(target)
    write(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() != b"old" and check(target)
    assert sorted(os.listdir(tmp_path / "real")) == [target.name]


@posix_only
def test_the_command_line_writes_through_a_link_and_never_into_a_fifo(tmp_path, monkeypatch,
                                                                      capsys):
    from nn import __main__ as cli

    pytest.importorskip("matplotlib")  # loss.png is written only with it
    out, real = tmp_path / "run", tmp_path / "real"
    out.mkdir()
    real.mkdir()
    (out / "model.json").symlink_to(real / "model.json")
    os.mkfifo(out / "loss.png")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with deadline(60):
        code = cli.main(["train", "--data", "xor", "--epochs", "2", "--out", str(out),
                         "--no-progress"])
    assert code == 1  # loss.png went to the fallback folder
    assert (out / "model.json").is_symlink() and nn.load(real / "model.json").nouts == [4, 1]
    assert stat.S_ISFIFO(os.lstat(out / "loss.png").st_mode)
    err = capsys.readouterr().err
    assert f"{str(out / 'loss.png')!r}: it is a FIFO, not a regular file" in err
    (fallback,) = tmp_path.glob("nn-run-*")
    assert (fallback / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
