"""Tests of the supervised benchmark data sets and the IDX reader."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from warm_rl.suite import idx
from warm_rl.suite.data import (
    DENOISING_MARKED,
    SequenceDataset,
    copy_first_input,
    denoising,
    make_benchmark,
    pixel_permutation,
    sequential_images,
    split_seed,
)
from warm_rl.suite.idx import load_idx_split, locate_idx_dir, read_idx, write_idx


# ----------------------------------------------------------------- copy input
@pytest.mark.parametrize("seq_length", [1, 7, 50], ids=lambda t: f"T{t}")
def test_copy_first_input_shapes_mask_targets(seq_length):
    data = copy_first_input(seq_length, 33, seed=3)
    assert data.inputs.shape == (seq_length, 33, 1)
    assert data.targets.shape == (1, 33, 1)
    assert data.task == "regression" and data.num_outputs == 1
    assert data.mask.dtype == torch.bool
    assert data.mask.sum(0).eq(1).all() and data.mask[-1].all()
    assert data.steps.eq(seq_length - 1).all()
    torch.testing.assert_close(data.targets[0], data.inputs[0])


def test_copy_first_input_is_seeded():
    a, b, c = (copy_first_input(20, 5, seed=s) for s in (1, 1, 2))
    torch.testing.assert_close(a.inputs, b.inputs)
    assert not torch.equal(a.inputs, c.inputs)
    assert abs(copy_first_input(100, 2000, seed=0).inputs.std().item() - 1.0) < 0.02


@pytest.mark.parametrize(
    "bad, error",
    [(dict(seq_length=0), ValueError), (dict(seq_length=2.5), TypeError),
     (dict(seq_length=5, num_samples=0), ValueError)],
    ids=["T0", "Tfloat", "N0"],
)
def test_copy_first_input_rejects_bad_values(bad, error):
    with pytest.raises(error, match="seq_length|num_samples"):
        copy_first_input(**bad)


# ------------------------------------------------------------------ denoising
@pytest.mark.parametrize("seq_length, delay", [(20, 5), (200, 100), (30, 25)], ids=str)
def test_denoising_markers_and_targets(seq_length, delay):
    data = denoising(seq_length, delay, 64, seed=1)
    stream, marker = data.inputs[..., 0], data.inputs[..., 1]
    assert data.inputs.shape == (seq_length, 64, 2)
    assert data.targets.shape == (DENOISING_MARKED, 64, 1)
    # five 1s, all before the last `delay` steps; -1 exactly at the last five steps
    assert marker.eq(1).sum(0).eq(DENOISING_MARKED).all()
    assert not marker[seq_length - delay:].eq(1).any()
    assert marker[-DENOISING_MARKED:].eq(-1).all()
    assert marker[:-DENOISING_MARKED].ne(-1).all()
    assert set(marker.unique().tolist()) <= {-1.0, 0.0, 1.0}
    # outputs at the last five steps; targets are the marked stream values in time order
    assert data.mask[-DENOISING_MARKED:].all() and not data.mask[:-DENOISING_MARKED].any()
    for n in range(64):
        marked = torch.nonzero(marker[:, n] == 1).squeeze(1)
        torch.testing.assert_close(data.targets[:, n, 0], stream[marked, n])
    assert data.marked_inputs()[..., 1].eq(-1).all()


def test_denoising_marks_cover_the_allowed_range():
    data = denoising(20, 5, 4000, seed=0)
    positions = torch.nonzero(data.inputs[..., 1] == 1)[:, 0]
    assert positions.min() == 0 and positions.max() == 14
    counts = torch.bincount(positions, minlength=15).float()
    assert counts.std() / counts.mean() < 0.1  # uniform


@pytest.mark.parametrize("delay", [4, 16], ids=["too-small", "too-large"])
def test_denoising_rejects_bad_delay(delay):
    with pytest.raises(ValueError, match="delay"):
        denoising(20, delay, 4)


# -------------------------------------------------------------- permutations
def test_pixel_permutation_is_fixed_and_a_true_permutation():
    perm = pixel_permutation()
    assert perm.dtype == torch.int64 and perm.shape == (784,)
    assert torch.equal(perm.sort().values, torch.arange(784))
    assert torch.equal(perm, pixel_permutation(784))
    assert not torch.equal(perm, torch.arange(784))
    # pinned: the documented order is numpy's RandomState(0) permutation
    assert torch.equal(perm, torch.from_numpy(np.random.RandomState(0).permutation(784)))
    assert perm[:5].tolist() == np.random.RandomState(0).permutation(784)[:5].tolist()


def _tiny_images(count=6, rows=3, cols=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (count, rows, cols), generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, 10, (count,), generator=gen)
    return images, labels


@pytest.mark.parametrize("pad_length", [0, 5], ids=lambda p: f"pad{p}")
@pytest.mark.parametrize("permuted", [False, True], ids=["seq", "perm"])
def test_sequential_images(permuted, pad_length):
    images, labels = _tiny_images()
    perm = pixel_permutation(12, seed=3) if permuted else None
    data = sequential_images(images, labels, perm, pad_length)
    assert data.inputs.shape == (12 + pad_length, 6, 1)
    assert data.task == "classification" and data.num_outputs == 10
    assert data.targets.shape == (1, 6) and torch.equal(data.targets[0], labels)
    assert data.mask[-1].all() and data.mask.sum() == 6
    flat = images.reshape(6, 12).float() / 255
    expected = flat[:, perm] if permuted else flat
    torch.testing.assert_close(data.inputs[:12, :, 0], expected.t())
    assert data.inputs[12:].eq(0).all()
    assert 0 <= data.inputs.min() and data.inputs.max() <= 1


def test_sequential_images_rejects_a_non_permutation():
    images, labels = _tiny_images()
    with pytest.raises(ValueError, match="permutation"):
        sequential_images(images, labels, torch.zeros(12, dtype=torch.long))


def test_dataset_subset_and_validation():
    data = copy_first_input(10, 8, seed=0)
    sub = data.subset(torch.tensor([1, 3]))
    assert len(sub) == 2 and sub.seq_length == 10
    torch.testing.assert_close(sub.inputs, data.inputs[:, [1, 3]])
    with pytest.raises(ValueError, match="task"):
        SequenceDataset(data.inputs, data.targets, data.mask, data.steps, "ranking", 1)
    with pytest.raises(ValueError, match="targets"):
        SequenceDataset(data.inputs, data.targets[:, :3], data.mask, data.steps, "regression", 1)


def test_split_seeds_differ():
    seeds = {split_seed(s, split) for s in range(3) for split in ("train", "val", "test")}
    assert len(seeds) == 9
    with pytest.raises(ValueError, match="split"):
        split_seed(0, "dev")


@pytest.mark.parametrize("name", ["copy", "denoising"])
def test_make_benchmark_synthetic(name):
    bench = make_benchmark(name, seq_length=20, delay=5, train_size=30, val_size=10,
                           test_size=20, seed=4)
    assert (len(bench.train), len(bench.val), len(bench.test)) == (30, 10, 20)
    assert not torch.equal(bench.train.inputs[:, :10], bench.val.inputs)
    again = make_benchmark(name, seq_length=20, delay=5, train_size=30, val_size=10,
                           test_size=20, seed=4)
    torch.testing.assert_close(bench.test.inputs, again.test.inputs)


def test_make_benchmark_rejects_unknown_name():
    with pytest.raises(ValueError, match="benchmark"):
        make_benchmark("imagenet")


# ------------------------------------------------------------------------ IDX
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(
    "dtype", [torch.uint8, torch.int8, torch.int16, torch.int32, torch.float32, torch.float64],
    ids=str,
)
def test_idx_round_trip(tmp_path, dtype, gz):
    tensor = (torch.arange(24) - 5).reshape(2, 3, 4).to(dtype)
    if dtype == torch.uint8:
        tensor = torch.arange(24, dtype=torch.uint8).reshape(2, 3, 4)
    path = tmp_path / ("x.idx" + (".gz" if gz else ""))
    write_idx(path, tensor)
    back = read_idx(path)
    assert back.dtype == dtype and torch.equal(back, tensor)


def test_idx_reader_parses_a_hand_written_file(tmp_path):
    # magic 0x00000801 (ubyte, 1-D), size 3, then the bytes 7 8 9
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    assert read_idx(path).tolist() == [7, 8, 9]
    # big-endian int32, 2-D (1, 2): 258 and -1
    path2 = tmp_path / "ints.gz"
    path2.write_bytes(gzip.compress(bytes([0, 0, 0x0C, 2, 0, 0, 0, 1, 0, 0, 0, 2,
                                           0, 0, 1, 2, 255, 255, 255, 255])))
    assert read_idx(path2).tolist() == [[258, -1]]


@pytest.mark.parametrize(
    "payload, match",
    [(b"\x01\x00\x08\x01", "magic"), (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 5]), "type code"),
     (bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2]), "shape")],
    ids=["magic", "type", "size"],
)
def test_idx_reader_rejects_bad_files(tmp_path, payload, match):
    path = tmp_path / "bad"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=match):
        read_idx(path)


def _write_split_dir(directory, gz, count=(5, 3)):
    directory.mkdir(exist_ok=True)
    suffix = ".gz" if gz else ""
    for (split, (img_name, lab_name)), n in zip(idx.SPLIT_FILES.items(), count, strict=True):
        images, labels = _tiny_images(n, 28, 28, seed=len(split))
        write_idx(directory / (img_name + suffix), images)
        write_idx(directory / (lab_name + suffix), labels.to(torch.uint8))
    return directory


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_load_idx_split_and_image_benchmarks(tmp_path, gz):
    directory = _write_split_dir(tmp_path / "mnist", gz)
    assert locate_idx_dir(directory) == directory
    images, labels = load_idx_split("train", directory)
    assert images.shape == (5, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (5,) and labels.dtype == torch.int64
    bench = make_benchmark("psmnist", pad_length=2, val_size=2, data_dir=directory)
    assert (len(bench.train), len(bench.val), len(bench.test)) == (3, 2, 3)
    assert bench.train.inputs.shape == (786, 3, 1)
    seq = make_benchmark("smnist", val_size=1, data_dir=directory)
    assert seq.test.inputs.shape == (784, 3, 1)


def test_missing_data_error_names_path_and_remedy(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as info:
        locate_idx_dir(missing)
    message = str(info.value)
    assert str(missing) in message
    assert "apt-get install dataset-fashion-mnist" in message and "--data-dir" in message
    # a directory with only some files: the missing files are named
    partial = tmp_path / "partial"
    partial.mkdir()
    write_idx(partial / "train-images-idx3-ubyte", torch.zeros(1, 2, 2, dtype=torch.uint8))
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        make_benchmark("smnist", data_dir=partial)
    # the environment variable is honoured
    monkeypatch.setenv(idx.DATA_DIR_ENV, str(missing))
    with pytest.raises(FileNotFoundError, match="nowhere"):
        locate_idx_dir()
    with pytest.raises(ValueError, match="split"):
        load_idx_split("dev", partial)
