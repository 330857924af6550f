"""Reading MNIST-format IDX files and locating an image data set on disk.

Nothing is downloaded. The default image data set is Fashion-MNIST as packaged
by Debian (``sudo apt-get install dataset-fashion-mnist`` installs its four IDX
files, gzipped, under ``/usr/share/datasets/fashion-mnist``); any directory
holding the four MNIST-format files (real MNIST, Fashion-MNIST, KMNIST, ...)
can be passed instead.

The IDX format (LeCun et al.): two zero bytes, a type code, the number of
dimensions ``d``, then ``d`` big-endian uint32 sizes, then the data,
big-endian, row-major. Files may be gzipped.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code -> numpy dtype (as stored, big-endian)."""

FASHION_MNIST_DIRS: tuple[str, ...] = ("/usr/share/datasets/fashion-mnist",)
"""Where Debian's ``dataset-fashion-mnist`` package installs its IDX files."""

DATA_DIR_ENV = "WARM_RL_DATA_DIR"
"""Environment variable naming a directory of MNIST-format IDX files."""

SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""Base names of the image and label files of each split."""

HOW_TO_GET_DATA = (
    "Install Fashion-MNIST with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu; "
    f"it lands in {FASHION_MNIST_DIRS[0]}), or pass --data-dir (data_dir=...) / set "
    f"{DATA_DIR_ENV} to a directory holding the four MNIST-format IDX files "
    "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
    "t10k-labels-idx1-ubyte (optionally .gz), e.g. MNIST from https://yann.lecun.com/exdb/mnist/."
)


def read_idx(path: str | os.PathLike) -> Tensor:
    """Reads one IDX file (plain or gzipped) into a tensor.

    Args:
        path: the file.

    Returns:
        A tensor of the file's shape: uint8 for unsigned bytes, int8, int16,
        int32, float32 or float64 otherwise (native byte order).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the header is not an IDX header or the data size does not
            match it.

    Shape:
        ``(d_1, ..., d_k)`` as written in the header (e.g. ``(N, 28, 28)`` for
        images, ``(N,)`` for labels).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file: bad magic {raw[:4]!r}")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header})")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{path}: header announces shape {shape} ({expected} data bytes), "
            f"file holds {len(raw) - header}"
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return torch.from_numpy(array.astype(dtype.newbyteorder("="), copy=True))


def write_idx(path: str | os.PathLike, tensor: Tensor) -> None:
    """Writes a tensor as an IDX file (gzipped when ``path`` ends in ``.gz``).

    Used by the tests to build tiny data sets; the inverse of :func:`read_idx`.

    Args:
        path: destination file.
        tensor: uint8, int8, int16, int32, float32 or float64 data.

    Raises:
        TypeError: a dtype IDX cannot store.
    """
    array = tensor.detach().cpu().numpy()
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(f"IDX cannot store dtype {array.dtype}")
    big = array.astype(IDX_DTYPES[codes[native]], copy=False)
    header = bytes([0, 0, codes[native], array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    payload = header + big.tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        payload = gzip.compress(payload)
    path.write_bytes(payload)


def _find_file(directory: Path, base: str) -> Path | None:
    """The file named ``base`` in ``directory``, gzipped or not (also ``-idx`` as ``.idx``)."""
    names = [base, base.replace("-idx", ".idx")]
    for name in names:
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def locate_idx_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Finds a directory holding the four MNIST-format IDX files.

    Search order: ``data_dir`` when given (and only it); otherwise the
    directory in the ``WARM_RL_DATA_DIR`` environment variable when set (and
    only it); otherwise Debian's Fashion-MNIST location
    (:data:`FASHION_MNIST_DIRS`).

    Args:
        data_dir: an explicit directory.

    Returns:
        The directory.

    Raises:
        FileNotFoundError: naming the missing path(s) and how to get the data.
    """
    if data_dir is not None:
        candidates = [Path(data_dir)]
    elif os.environ.get(DATA_DIR_ENV):
        candidates = [Path(os.environ[DATA_DIR_ENV])]
    else:
        candidates = [Path(d) for d in FASHION_MNIST_DIRS]
    missing: list[str] = []
    for directory in candidates:
        if not directory.is_dir():
            missing.append(f"{directory} (no such directory)")
            continue
        absent = [
            str(directory / base)
            for pair in SPLIT_FILES.values()
            for base in pair
            if _find_file(directory, base) is None
        ]
        if not absent:
            return directory
        missing.append(", ".join(f"{p}[.gz]" for p in absent))
    raise FileNotFoundError(
        f"MNIST-format IDX data not found; missing: {'; '.join(missing)}. {HOW_TO_GET_DATA}"
    )


def load_idx_split(
    split: str, data_dir: str | os.PathLike | None = None
) -> tuple[Tensor, Tensor]:
    """Loads the images and labels of one split of an MNIST-format data set.

    Args:
        split: ``"train"`` or ``"test"``.
        data_dir: directory of the IDX files (see :func:`locate_idx_dir`).

    Returns:
        ``(images, labels)``: uint8 images and int64 labels.

    Raises:
        ValueError: unknown split, or image and label counts that differ.
        FileNotFoundError: the data is missing (with instructions).

    Shape:
        images ``(N, rows, cols)``; labels ``(N,)``.
    """
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {sorted(SPLIT_FILES)}, got {split!r}")
    directory = locate_idx_dir(data_dir)
    image_base, label_base = SPLIT_FILES[split]
    images = read_idx(_find_file(directory, image_base))
    labels = read_idx(_find_file(directory, label_base)).long()
    if images.dim() != 3:
        raise ValueError(f"{split} images must be (N, rows, cols), got {tuple(images.shape)}")
    if labels.shape != (images.shape[0],):
        raise ValueError(
            f"{split}: {images.shape[0]} images but labels of shape {tuple(labels.shape)}"
        )
    return images, labels
