"""The benchmarks' synthetic data, the same numbers as bench/hash-uniform.ts: the baselines in
this folder read exactly the inputs ortlab's side of each benchmark reads."""
import numpy as np


def hash_uniform(seed: int, count: int, block: int = 1 << 20) -> np.ndarray:
    """Values in [-1, 1) from a 32-bit integer hash of (seed, index); float32 like the JS side.
    Made a block at a time, so that making them never takes more memory than they do."""
    out = np.empty(count, dtype=np.float32)
    for start in range(0, count, block):
        out[start:start + block] = _hash_block(seed, start, min(block, count - start))
    return out


def _hash_block(seed: int, start: int, count: int) -> np.ndarray:
    i = np.arange(start + 1, start + count + 1, dtype=np.uint32)
    h = (i * np.uint32(0x9E3779B1)) ^ np.uint32((seed * 0x85EBCA77) & 0xFFFFFFFF)
    h ^= h >> np.uint32(15)
    h *= np.uint32(0x2C1B3C6D)
    h ^= h >> np.uint32(12)
    h *= np.uint32(0x297A2D39)
    h ^= h >> np.uint32(15)
    return (h.astype(np.float64) / 2**31 - 1).astype(np.float32)
