"""The VSE++ retrieval protocol in numpy (Debian's, with its BLAS), the baseline of bench/retrieval.ts.

The whole COCO-5K-size protocol, both directions and every rank, written the way a numpy user
would: L2-normalize both sides (float32, in place), one float32 similarity matrix
S = images @ texts.T (images x texts, 500 MB at 5000 x 25000), then the tie-free count form of
VSE++'s ranks (as tools/fixtures/retrieval_reference.py checks it against VSE++'s argsort loop):
an image's rank is the number of captions scored above its best own caption, a caption's rank
the number of images scored above its own image. Recall@1/5/10, medr, meanr and rsum follow.

Embeddings are the benchmark's deterministic values (`hash_uniform`, the same function as
bench/retrieval.ts, float32): images uniform in [-1, 1); caption j = image[j // k] + noise *
uniform, in float32 arithmetic, so both sides score identical inputs and their ranks can be
compared. Prints one JSON line: each repeat's wall and CPU seconds (all threads; normalization
to recalls, data made before), the resident memory before the first repeat and the peak (ru_maxrss), the figures,
threads and versions; --ranks-out writes the i2t then t2i ranks as little-endian int32.
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "export"))
from script_support import package_version  # noqa: E402
from hash_uniform import hash_uniform  # noqa: E402  (this script's folder)


def embeddings(n_images: int, per_image: int, dim: int, noise: float):
    images = hash_uniform(1, n_images * dim).reshape(n_images, dim)
    texts = hash_uniform(2, n_images * per_image * dim).reshape(n_images * per_image, dim)
    texts *= np.float32(noise)
    for k in range(per_image):
        texts[k::per_image] += images
    return images, texts


def rank_summary(ranks: np.ndarray) -> dict:
    out = {f"r{k}": 100.0 * float((ranks < k).sum()) / len(ranks) for k in (1, 5, 10)}
    out["medr"] = float(np.floor(np.median(ranks)) + 1)
    out["meanr"] = float(ranks.mean() + 1)
    return out


def protocol(images: np.ndarray, texts: np.ndarray, per_image: int):
    """Normalizes in place, then every rank of both directions."""
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    texts /= np.linalg.norm(texts, axis=1, keepdims=True)
    n_images, n_texts = len(images), len(texts)
    sims = images @ texts.T
    own = sims.reshape(n_images, n_images, per_image)[np.arange(n_images), np.arange(n_images)]
    i2t = (sims > own.max(axis=1)[:, None]).sum(axis=1)
    own_image = np.arange(n_texts) // per_image
    t2i = (sims > sims[own_image, np.arange(n_texts)][None, :]).sum(axis=0)
    return i2t, t2i


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000, help="images (default: %(default)s)")
    parser.add_argument("--captions-per-image", type=int, default=5,
                        help="captions per image (default: %(default)s)")
    parser.add_argument("--dim", type=int, default=1024, help="embedding width (default: %(default)s)")
    parser.add_argument("--noise", type=float, default=8.0,
                        help="scale of a caption's noise against its image (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs (default: %(default)s)")
    parser.add_argument("--ranks-out", default=None, help="file for the ranks (default: none)")
    args = parser.parse_args()

    seconds, cpu, i2t, t2i = [], [], None, None
    baseline = None
    for _ in range(args.repeats):
        images, texts = embeddings(args.images, args.captions_per_image, args.dim, args.noise)
        baseline = baseline or rss_mb()
        start, start_cpu = time.perf_counter(), time.process_time()
        i2t, t2i = protocol(images, texts, args.captions_per_image)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        del images, texts
    i2t_summary, t2i_summary = rank_summary(i2t), rank_summary(t2i)
    if args.ranks_out:
        np.concatenate([i2t, t2i]).astype("<i4").tofile(args.ranks_out)
    print(json.dumps({
        "seconds": float(np.median(seconds)),
        "repeats": seconds,
        "cpuSeconds": cpu,
        "baselineRssMB": baseline,
        "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "i2t": i2t_summary,
        "t2i": t2i_summary,
        "rsum": sum(i2t_summary[f"r{k}"] + t2i_summary[f"r{k}"] for k in (1, 5, 10)),
        "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        "numpy": package_version("numpy"),
    }))


if __name__ == "__main__":
    main()
