"""Model files: round trip, strict JSON, atomic and durable writes, hostile files refused
cheaply and clearly; to_torch equivalence."""

import errno
import io
import json
import math
import os
import random
import re
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from autograd import Value
from nn import MLP, Layer, Neuron, load, save, to_torch
from nn import io as nn_io
from nn.layers import config_names, config_parameters


@pytest.mark.parametrize("model", [
    MLP(3, [4, 2], activation="tanh", output_activation="sigmoid", rng=1),
    MLP(2, [16, 1, 1], rng=2),
    Layer(2, 3, activation="leaky_relu", rng=3),
    Neuron(3, activation="linear", rng=4),
], ids=["mlp", "width1", "layer", "neuron"])
def test_round_trip_gives_the_same_function(tmp_path, model):
    path = tmp_path / "model.json"
    save(model, path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "stepgrad-nn-model" and doc["version"] == 1
    loaded = load(path)
    assert type(loaded) is type(model)
    assert loaded.state_dict() == model.state_dict()
    x = [0.3, -0.7, 1.1][: model.config()["nin"]]
    a, b = model(x), loaded(x)
    a, b = (a if isinstance(a, list) else [a]), (b if isinstance(b, list) else [b])
    assert [v.data for v in a] == [v.data for v in b]
    assert os.listdir(tmp_path) == ["model.json"]  # no temporary left behind


def write(tmp_path, text):
    path = tmp_path / "m.json"
    path.write_text(text)
    return path


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        load(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="not a JSON model file"):
        load(write(tmp_path, "{not json"))
    with pytest.raises(ValueError, match="not a stepgrad-nn-model file"):
        load(write(tmp_path, "[1, 2]"))
    good = MLP(2, [3, 1], rng=0)
    save(good, tmp_path / "good.json")
    doc = json.loads((tmp_path / "good.json").read_text())
    with pytest.raises(ValueError, match="version 99"):
        load(write(tmp_path, json.dumps({**doc, "version": 99})))
    shapes = {**doc, "architecture": {**doc["architecture"], "nouts": [4, 1]}}
    with pytest.raises(ValueError, match="MLP architecture has 17 parameters but the file "
                                         "holds 13"):  # (2+1)·4 + (4+1)·1 = 17
        load(write(tmp_path, json.dumps(shapes)))
    with pytest.raises(ValueError, match="architecture"):
        load(write(tmp_path, json.dumps({**doc, "architecture": {"type": "CNN"}})))
    params = dict(doc["parameters"], **{"layers.0.neurons.0.b": "oops"})
    with pytest.raises(TypeError, match="real number"):
        load(write(tmp_path, json.dumps({**doc, "parameters": params})))


def test_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    save(MLP(2, [1], rng=0), path)
    before = path.read_text()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save(MLP(2, [1], rng=1), path)
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["model.json"]


def test_save_needs_a_known_architecture():
    with pytest.raises(TypeError, match="Neuron, Layer or MLP"):
        save(Value(1.0), "x.json")


def test_to_torch_gives_identical_outputs_and_gradients():
    torch = pytest.importorskip("torch")
    model = MLP(3, [5, 4, 2], activation="tanh", output_activation="sigmoid", rng=7)
    tmodel = to_torch(model)
    x = [0.2, -1.3, 0.8]
    out = model(x)
    (out[0] * 2.0 + out[1]).backward()
    tout = tmodel(torch.tensor(x, dtype=torch.float64))
    (tout[0] * 2.0 + tout[1]).backward()
    assert tout.tolist() == pytest.approx([v.data for v in out], rel=1e-12)
    linears = [m for m in tmodel if isinstance(m, torch.nn.Linear)]
    for layer, lin in zip(model.layers, linears, strict=True):
        assert lin.weight.grad.tolist() == [
            pytest.approx([w.grad for w in n.w], rel=1e-10, abs=1e-14) for n in layer.neurons]
        assert lin.bias.grad.tolist() == pytest.approx([n.b.grad for n in layer.neurons],
                                                       rel=1e-10, abs=1e-14)


HEADER = {"format": "stepgrad-nn-model", "version": 1}


def mlp_doc(nin, nouts, parameters=None, **arch):
    architecture = {"type": "MLP", "nin": nin, "nouts": nouts, "activation": "relu",
                    "output_activation": "linear", **arch}
    return {**HEADER, "architecture": architecture, "parameters": parameters or {}}


def test_hostile_size_claims_are_refused_at_once_in_little_memory(tmp_path):
    """A file of ~180 bytes claiming 10^6 or 10^10 parameters. Run in a child with its
    address space capped at 1 GiB, so building the claimed model (the old behaviour) fails
    the test with a MemoryError instead of exhausting the machine."""
    claims = {}
    for nin, width in ((999, 1000), (99_999, 100_000)):
        path = tmp_path / f"claim{nin}.json"
        path.write_text(json.dumps(mlp_doc(nin, [width])))
        assert path.stat().st_size < 200
        claims[str(path)] = (nin + 1) * width
    script = textwrap.dedent("""
        import json, resource, sys, time, tracemalloc
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from nn import load
        out = {}
        for path in json.loads(sys.argv[1]):
            tracemalloc.start()
            start = time.perf_counter()
            try:
                load(path)
                message = None
            except ValueError as err:
                message = str(err)
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            out[path] = [message, seconds, peak]
        print(json.dumps(out))
    """)
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(list(claims))], cwd=root,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout)
    for path, count in claims.items():
        message, seconds, peak = results[path]
        assert message == (f"{path}: the MLP architecture has {count} parameters but the "
                           f"file holds 0")
        assert seconds < 1.0 and peak < 1 << 20


def good_doc():
    model = MLP(2, [2, 1], rng=0)
    return {**HEADER, "architecture": model.config(), "parameters": model.state_dict()}


def edited(change):
    doc = good_doc()
    change(doc)
    return json.dumps(doc)


def set_arch(**fields):
    return lambda doc: doc["architecture"].update(fields)


def set_param(name, value):
    return lambda doc: doc["parameters"].update({name: value})


def rename_param(old, new):
    return lambda doc: doc["parameters"].update({new: doc["parameters"].pop(old)})


def drop_arch(name):
    return lambda doc: doc["architecture"].pop(name)


@pytest.mark.parametrize(("text", "error", "message"), [
    (edited(set_arch(nin=True)), ValueError, "MLP nin must be a positive int, got True"),
    (edited(set_arch(nin=2.0)), ValueError, "MLP nin must be a positive int, got 2.0"),
    (edited(set_arch(nin="2")), ValueError, "MLP nin must be a positive int, got '2'"),
    (edited(set_arch(nouts=[2, 0])), ValueError, r"MLP nouts\[1\] must be a positive int, got 0"),
    (edited(set_arch(nouts=[])), ValueError, r"nouts must be a non-empty list .* got \[\]"),
    (edited(set_arch(nouts=3)), ValueError, "nouts must be a non-empty list"),
    (edited(set_arch(activation="swish")), ValueError, "MLP activation must be one of"),
    (edited(set_arch(activation=["relu"])), ValueError, "MLP activation must be one of"),
    (edited(set_arch(dropout=0.5)), ValueError, "MLP architecture has an unknown field "
                                                "'dropout'"),
    (edited(drop_arch("nouts")), ValueError, "MLP architecture has no 'nouts'"),
    (edited(set_arch(type=["MLP"])), ValueError, r"got \['MLP'\]"),
    (edited(set_arch(type="Module")), ValueError, "'type' one of Neuron, Layer, MLP; got "
                                                  "'Module'"),
    (edited(lambda d: d.update(parameters=[1.0] * 9)), TypeError, "parameters must be an "
                                                                  "object"),
    (edited(set_param("layers.0.neurons.1.b", None)), TypeError,
     "parameter 'layers.0.neurons.1.b' must be a real number, got NoneType"),
    (edited(set_param("layers.0.neurons.1.b", False)), TypeError,
     "'layers.0.neurons.1.b' must be a real number, got bool"),
    (edited(set_param("layers.1.neurons.0.w.1", 10 ** 400)), ValueError,
     "parameter 'layers.1.neurons.0.w.1' is not finite"),
    (edited(set_param("layers.1.neurons.0.w.1", 1e400)), ValueError, "not a JSON model file "
                                                                       r"\(Infinity is not"),
    (edited(set_param("layers.1.neurons.0.w.1", math.nan)), ValueError, "NaN is not a JSON "
                                                                         "number"),
    (edited(set_param("layers.1.neurons.0.w.1", -math.inf)), ValueError, "-Infinity is not"),
    (edited(rename_param("layers.0.neurons.0.w.0", "layers.0.neurons.0.w.9")), ValueError,
     "MLP architecture has a parameter 'layers.0.neurons.0.w.0' that the file does not have"),
    ("[" * 100_000 + "]" * 100_000, ValueError, "not a JSON model file"),
    ('{"format": "stepgrad-nn-model", "version": 1' + "9" * 5000 + "}", ValueError,
     "not a JSON model file"),
], ids=lambda v: str(v)[:30] if isinstance(v, str) else None)
def test_malformed_files_name_the_first_problem(tmp_path, text, error, message):
    with pytest.raises(error, match=message) as info:
        load(write(tmp_path, text))
    assert str(info.value).startswith(str(tmp_path / "m.json"))
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


@pytest.mark.parametrize("model", [Neuron(3, rng=0), Layer(2, 3, rng=0),
                                   MLP(2, [3, 1, 2], rng=0)], ids=["neuron", "layer", "mlp"])
def test_names_and_count_from_the_config_match_the_built_model(model):
    assert list(config_names(model.config())) == list(model.state_dict())
    assert config_parameters(model.config()) == model.num_parameters()


def test_load_never_runs_code_nor_touches_global_state(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = edited(set_arch(type="__import__('os').system('touch pwned')"))
    state = random.getstate()
    with pytest.raises(ValueError, match="'type' one of"):
        load(write(tmp_path, text))
    loaded = load(write(tmp_path, json.dumps(good_doc())))
    assert loaded.state_dict() == good_doc()["parameters"]
    assert random.getstate() == state and not (tmp_path / "pwned").exists()
    source = Path(nn_io.__file__).read_text()
    assert all(word not in source for word in ("import pickle", "eval(", "exec(", "marshal"))


def test_a_failed_load_state_dict_changes_no_parameter():
    model = MLP(2, [3, 1], rng=0)
    before = model.state_dict()
    for last in (math.nan, 10 ** 400, "1.0"):
        state = dict(before, **{"layers.1.neurons.0.b": last})
        state = {k: (v if k == "layers.1.neurons.0.b" else v + 1.0) for k, v in state.items()}
        with pytest.raises((ValueError, TypeError), match="'layers.1.neurons.0.b'"):
            model.load_state_dict(state)
        assert model.state_dict() == before


def test_save_refuses_non_finite_parameters_naming_them(tmp_path):
    model = MLP(2, [3, 1], rng=0)
    path = tmp_path / "model.json"
    save(model, path)
    before = path.read_text()
    model.layers[0].neurons[2].w[1].data = math.inf
    with pytest.raises(ValueError, match="parameter 'layers.0.neurons.2.w.1' is inf"):
        save(model, path)
    assert path.read_text() == before and os.listdir(tmp_path) == ["model.json"]


def test_save_is_strict_json_that_any_reader_accepts(tmp_path):
    model = MLP(2, [3, 1], rng=0)
    model.layers[0].neurons[0].b.data = 1e308
    save(model, tmp_path / "m.json")

    def reject(token):
        raise AssertionError(token)

    doc = json.loads((tmp_path / "m.json").read_text(), parse_constant=reject)
    assert doc["parameters"]["layers.0.neurons.0.b"] == 1e308


def test_save_fsyncs_the_file_then_the_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(os.path.isdir(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    save(MLP(2, [1], rng=0), tmp_path / "model.json")
    assert synced == [False, True]


def test_ctrl_c_while_writing_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    save(MLP(2, [1], rng=0), path)
    before = path.read_text()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(MLP(2, [1], rng=1), path)
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["model.json"]


def traced(call):
    """(what ``call`` raised, the peak bytes Python allocated meanwhile)."""
    tracemalloc.start()
    try:
        call()
    except Exception as err:  # the caller checks what it is
        raised = err
    else:
        raised = None
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return raised, peak


def test_a_huge_sparse_file_is_refused_in_little_memory(tmp_path):
    """1 GB of zero bytes (sparse: no disk used) reads no further than the first 64 KiB; one
    byte over the largest model's allowance is refused on its size without reading."""
    cases = {"1e9.json": 10**9, "over.json": nn_io.max_file_bytes(nn_io.MAX_PARAMETERS) + 1}
    for name, size in cases.items():
        with (tmp_path / name).open("wb") as f:
            f.truncate(size)
        err, peak = traced(lambda n=name: load(tmp_path / n))
        assert isinstance(err, ValueError) and str(err).startswith(f"{tmp_path / name}: ")
        assert peak < 16 * 2**20
    assert "not a JSON model file" in str(traced(lambda: load(tmp_path / "1e9.json"))[0])
    err, peak = traced(lambda: load(tmp_path / "over.json"))
    assert f"longer than {cases['over.json'] - 1:,} bytes" in str(err) and peak < 2**20


def long_model():
    """An MLP whose file is over 64 KiB with every number at the longest repr a float has
    (24 characters), so its file is the largest nn.save writes for 2,790 parameters."""
    model = MLP(30, [30, 30, 30], rng=0)
    for p in model.parameters():
        p.data = -2.2250738585072014e-308
    assert len(repr(model.parameters()[0].data)) == 24
    return model


def test_the_largest_file_save_writes_loads_exactly_and_padding_past_the_limit_is_refused(
        tmp_path, monkeypatch):
    monkeypatch.setattr(nn_io, "CHUNK_BYTES", 1000)  # read the file in many chunks
    model = long_model()
    path = tmp_path / "m.json"
    save(model, path)
    size, count = path.stat().st_size, model.num_parameters()
    limit = nn_io.max_file_bytes(count)
    # the allowance: 64 KiB + per parameter 64 bytes and the longest name "layers.L.neurons.J.w.I"
    assert limit == 65536 + count * (64 + len("layers..neurons..w.") + 3 * len(str(count)))
    assert nn_io.HEADER_BYTES < size < limit
    assert load(path).state_dict() == model.state_dict()
    with path.open("ab") as f:  # whitespace after the object is still JSON: up to the limit
        f.write(b" " * (limit - size))
    assert path.stat().st_size == limit and load(path).state_dict() == model.state_dict()
    with path.open("ab") as f:
        f.write(b" ")
    with pytest.raises(ValueError, match=f"longer than {limit:,} bytes, the most a model file "
                                         f"with {count:,} parameters can take"):
        load(path)
    with path.open("ab") as f:  # 200 MB more, sparse: refused on its size, nothing read
        f.truncate(limit + 200 * 10**6)
    err, peak = traced(lambda: load(path))
    assert isinstance(err, ValueError) and "longer than" in str(err) and peak < 2**20


def test_a_file_whose_size_lies_is_read_no_further_than_its_limit(tmp_path, monkeypatch):
    """As for /proc files, which say 0 bytes: the read stops one byte past the limit."""
    path = tmp_path / "m.json"
    save(MLP(30, [30, 30, 30], rng=0), path)
    limit = nn_io.max_file_bytes(2790)
    with path.open("ab") as f:
        f.write(b" " * (limit + 5000 - path.stat().st_size))
    real_fstat = os.fstat

    def size_zero(fd):
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid,
                               st.st_gid, 0, st.st_atime, st.st_mtime, st.st_ctime))

    class Counting(io.BufferedReader):
        read_bytes = 0

        def read(self, n=-1):
            data = super().read(n)
            Counting.read_bytes += len(data)
            return data

    monkeypatch.setattr(os, "fstat", size_zero)
    monkeypatch.setattr(nn_io, "CHUNK_BYTES", 1000)
    monkeypatch.setattr(nn_io, "open", lambda fd, mode: Counting(io.FileIO(fd, "r")),
                        raising=False)
    with pytest.raises(ValueError, match=f"longer than {limit:,} bytes"):
        load(path)
    assert Counting.read_bytes == limit + 1


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="Linux /proc")
def test_a_process_memory_file_gives_one_error_naming_it():
    with pytest.raises(OSError) as info:  # reading address 0 fails with EIO
        load("/proc/self/mem")
    assert str(info.value) == "[Errno 5] Input/output error: '/proc/self/mem'"
    if os.path.exists("/proc/self/pagemap"):  # says 0 bytes, holds gigabytes of binary
        err, peak = traced(lambda: load("/proc/self/pagemap"))
        assert str(err).startswith("/proc/self/pagemap: not a JSON model file") and peak < 2**20


@pytest.mark.skipif(os.name != "posix", reason="FIFOs and devices")
def test_fifos_devices_and_folders_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")  # opening it to read would wait for a writer
    cases = {tmp_path / "pipe": (OSError, "FIFO"), os.devnull: (OSError, "character device"),
             tmp_path: (IsADirectoryError, "folder")}
    for path, (error, kind) in cases.items():
        with pytest.raises(error) as info:
            load(path)
        assert str(info.value) == f"cannot load {str(path)!r}: it is a {kind}, not a regular file"


@pytest.mark.parametrize(("change", "message"), [
    (lambda text: text.replace('"version": 1', '"version": 1, "version": 1'),
     r"not a JSON model file \(the key 'version' appears twice in one object\)"),
    (lambda text: text.replace('"type": "MLP"', '"type": "MLP", "type": "Neuron"'),
     "the key 'type' appears twice"),
    (lambda text: text.replace('"layers.0.neurons.0.b": ', '"layers.0.neurons.0.b": 7.0, '
                                                           '"layers.0.neurons.0.b": '),
     "the key 'layers.0.neurons.0.b' appears twice"),
    (lambda text: text.replace('"version": 1', '"version": true'),
     "model file version must be an integer, got true"),
    (lambda text: text.replace('"version": 1', '"version": 1.0'),
     "model file version must be an integer, got 1.0"),
], ids=["version-twice", "type-twice", "parameter-twice", "true", "1.0"])
def test_duplicate_keys_and_a_version_that_is_not_an_int_are_refused(tmp_path, change, message):
    text = change(json.dumps(good_doc()))
    doc = json.loads(text)  # what a lenient reader makes of it: 1 == True == 1.0, last wins
    assert doc["version"] == 1
    with pytest.raises(ValueError, match=message) as info:
        load(write(tmp_path, text))
    assert str(info.value).startswith(f"{tmp_path / 'm.json'}: ")


def long_file(tmp_path, order, filler=0):
    """The long model's document with its members in ``order``, a "comment" member of
    ``filler`` characters first."""
    model = long_model()
    doc = {"comment": "x" * filler, **HEADER, "architecture": model.config(),
           "parameters": model.state_dict()}
    return write(tmp_path, json.dumps({k: doc[k] for k in order}))


def test_a_long_file_gives_its_architecture_first_a_short_one_in_any_order(tmp_path):
    in_order = ["format", "version", "architecture", "parameters"]
    model = load(long_file(tmp_path, ["comment", *in_order], filler=60_000))
    assert model.state_dict() == long_model().state_dict()
    for order, filler in ((in_order[:2] + in_order[:1:-1], 0), (["comment", *in_order], 70_000)):
        with pytest.raises(ValueError, match='no "architecture" before the "parameters" in the '
                                             'first 64 KiB'):
            load(long_file(tmp_path, order, filler))
    short = MLP(2, [2, 1], rng=0)
    doc = {"parameters": short.state_dict(), "architecture": short.config(), **HEADER}
    assert load(write(tmp_path, json.dumps(doc))).state_dict() == short.state_dict()


@pytest.mark.parametrize(("head", "message"), [
    (b"\xff" * 100, "not a JSON model file .*invalid start byte"),
    (b"[" * 10, "not a JSON model file .*a JSON object, beginning with '{'"),
    (b'{"format": "stepgrad-nn-model", "architecture": {"type": "CNN"}',
     "architecture must be a dict with 'type' one of"),
], ids=["binary", "array", "bad-architecture"])
def test_a_long_file_is_judged_by_its_first_64_kib(tmp_path, head, message):
    path = write(tmp_path, "")
    path.write_bytes(head + b" " * 100_000)
    err, peak = traced(lambda: load(path))
    assert isinstance(err, ValueError) and re.match(f"{re.escape(str(path))}: {message}",
                                                   str(err)) and peak < 2**20


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_an_error_opening_the_file_names_it(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    (tmp_path / "plain").write_text("{}")
    for path, error in ((tmp_path / "a", OSError), (tmp_path / "plain" / "m.json",
                                                     NotADirectoryError)):
        with pytest.raises(error) as info:
            load(path)
        assert str(info.value).endswith(f": {str(path)!r}") and "\n" not in str(info.value)
        assert info.value.errno in (errno.ELOOP, errno.ENOTDIR)
