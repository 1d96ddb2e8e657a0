"""Read and write IDX files, the container format of MNIST and Fashion-MNIST.

An IDX file is a big-endian header followed by raw values: two zero bytes, one type byte
(0x08 = unsigned byte), one byte giving the number of dimensions, then each dimension as a
32-bit unsigned integer. Images are therefore magic 0x00000803 with dims [count, rows, cols]
and labels magic 0x00000801 with dims [count].

Every tools/ script that touches digit data goes through this module so that the files the
TypeScript side reads are parsed and written by one definition of the format.
"""

import gzip
import struct
from pathlib import Path

import numpy as np

UBYTE = 0x08
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def decode_idx(data: bytes) -> np.ndarray:
    """Return the uint8 array held by the IDX bytes `data` (already decompressed)."""
    if len(data) < 4:
        raise ValueError(f"IDX data is {len(data)} bytes long, shorter than its 4-byte magic")
    zero, kind, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != UBYTE:
        raise ValueError(f"IDX magic 0x{data[:4].hex()} is not an unsigned-byte IDX file")
    header = 4 + 4 * rank
    dims = struct.unpack(f">{rank}I", data[4:header])
    count = int(np.prod(dims))
    if len(data) != header + count:
        raise ValueError(f"IDX dims {list(dims)} need {header + count} bytes, got {len(data)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def encode_idx(array: np.ndarray) -> bytes:
    """Return the IDX bytes for a uint8 array of any rank from 1 to 255."""
    if array.dtype != np.uint8:
        raise TypeError(f"IDX writer expects uint8 values, got {array.dtype}")
    header = struct.pack(">HBB", 0, UBYTE, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file, gunzipping it first when its name ends in .gz."""
    data = Path(path).read_bytes()
    if str(path).endswith(".gz"):
        data = gzip.decompress(data)
    return decode_idx(data)


def write_idx_gz(path: Path, array: np.ndarray) -> None:
    """Write `array` as gzipped IDX with a zero timestamp and no stored file name.

    Both header fields would otherwise change on every rebuild; without them the output is a
    pure function of the array, so rebuilding leaves committed files byte-identical.
    """
    Path(path).write_bytes(gzip.compress(encode_idx(array), compresslevel=9, mtime=0))
