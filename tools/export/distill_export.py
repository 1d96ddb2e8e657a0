"""Export, parity, measurement and cross-checks of the encoders that train_distill.py trains.

- export_encoder: ONNX opset 17, inputs input_ids and attention_mask (int64 [batch, tokens],
  both axes dynamic), outputs logits [batch, 2] and hidden_0..hidden_L [batch, tokens, hidden],
  then onnx.checker with full_check.
- check_parity: torch against onnxruntime-node on padded batches, every output, every position.
- measure: logits of whole splits through onnxruntime-node, the runtime ortlab uses.
- check_ckd_in_node: ortlab's own src/distill terms on the exported models' hidden states,
  against this project's torch losses on the same numbers.
"""

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch

from ckd_losses import ckd_terms, soft_cross_entropy
from distill_model import Encoder, ExportView
from distill_training import pad
from encoder_runtime import run_encoder

REPO = Path(__file__).resolve().parents[2]
OPSET = 17
PARITY_TOLERANCE = 1e-4
CKD_TOLERANCE = 1e-4


def output_names(model: Encoder) -> list[str]:
    """'logits', then 'hidden_0' (the embedding output) to 'hidden_L'."""
    return ["logits"] + [f"hidden_{i}" for i in range(model.shape.layers + 1)]


def export_encoder(model: Encoder, path: Path) -> None:
    """Export in eval mode with dynamic batch and token axes; run the full checker."""
    names = output_names(model)
    ids, mask = pad([[2, 7, 8, 9, 3], [2, 7, 3]])
    axes = {
        "input_ids": {0: "batch", 1: "tokens"},
        "attention_mask": {0: "batch", 1: "tokens"},
        "logits": {0: "batch"},
    }
    axes.update({name: {0: "batch", 1: "tokens"} for name in names[1:]})
    path.parent.mkdir(parents=True, exist_ok=True)
    # The exporter puts the module it is given back in that module's own mode afterwards, so the
    # wrapper must be in eval mode too, or the encoder would come back in training mode.
    view = ExportView(model).eval()
    torch.onnx.export(
        view,
        (ids, mask),
        str(path),
        opset_version=OPSET,
        input_names=["input_ids", "attention_mask"],
        output_names=names,
        dynamic_axes=axes,
        do_constant_folding=True,
    )
    onnx.checker.check_model(str(path), full_check=True)
    graph = onnx.load(str(path)).graph
    stored = sum(int(np.prod(t.dims)) for t in graph.initializer)
    params = sum(p.numel() for p in model.parameters())
    if stored > params * 1.01:
        raise ValueError(
            f"{path}: {stored} stored weights for {params} parameters; a weight is duplicated"
        )


def parity_batches(rows: list[list[int]]) -> list[list[list[int]]]:
    """Padded batches of varied shape: 8 mixed rows, one row alone, the 4 longest (cut to the
    maximum length when `rows` holds longer texts), the 3 shortest."""
    by_length = sorted(range(len(rows)), key=lambda i: (len(rows[i]), i))
    return [
        rows[:8],
        rows[8:9],
        [rows[i] for i in by_length[-4:]],
        [rows[i] for i in by_length[:3]],
    ]


def check_parity(model: Encoder, path: Path, rows: list[list[int]]) -> dict:
    """Every output of every batch within PARITY_TOLERANCE of torch; raise otherwise."""
    names, worst, shapes = output_names(model), 0.0, []
    model.eval()
    for batch in parity_batches(rows):
        ids, mask = pad(batch)
        with torch.no_grad():
            logits, hidden = model(ids, mask)
        expected = dict(zip(names, [logits, *hidden]))
        got, report = run_encoder(path, ids.numpy(), mask.numpy(), names)
        for name in names:
            if list(got[name].shape) != list(expected[name].shape):
                raise RuntimeError(
                    f"{path}: {name} has dims {got[name].shape}, torch {expected[name].shape}"
                )
            worst = max(worst, float(np.abs(got[name] - expected[name].numpy()).max()))
        shapes.append(list(ids.shape))
    if not worst <= PARITY_TOLERANCE:
        raise RuntimeError(
            f"{path}: onnxruntime-node differs from torch by {worst:.3g} > {PARITY_TOLERANCE}"
        )
    return {
        "runtime": f"onnxruntime-node {report['ort']['node']}",
        "batches": shapes,
        "outputs": names,
        "maxAbsDiff": worst,
        "tolerance": PARITY_TOLERANCE,
    }


def measure(path: Path, rows: list[list[int]]) -> np.ndarray:
    """Logits [rows, 2] from onnxruntime-node, the rows padded to the longest as one batch."""
    ids, mask = pad(rows)
    got, _ = run_encoder(path, ids.numpy(), mask.numpy(), ["logits"])
    return got["logits"]


def check_ckd_in_node(
    teacher: Path,
    student: Path,
    rows: list[list[int]],
    mapping: list,
    window: int,
    temperature: float,
) -> dict:
    """ortlab's ckdLoss and kdLoss against ckd_losses.py on the exported models' outputs."""
    ids, mask = pad(rows)
    t_names = ["logits"] + [f"hidden_{t}" for t in range(mapping[-1][0] + 1)]
    s_names = ["logits"] + [f"hidden_{s}" for s in range(mapping[-1][1] + 1)]
    t_out, _ = run_encoder(teacher, ids.numpy(), mask.numpy(), t_names)
    s_out, _ = run_encoder(student, ids.numpy(), mask.numpy(), s_names)
    with tempfile.TemporaryDirectory() as tmp:

        def side(out: dict, names: list[str], tag: str) -> dict:
            files = []
            for name in names:
                files.append(str(Path(tmp) / f"{tag}-{name}.f32"))
                Path(files[-1]).write_bytes(out[name].astype("<f4").tobytes())
            return {"logits": files[0], "hidden": files[1:], "width": int(out[names[1]].shape[-1])}

        manifest = {
            "teacher": side(t_out, t_names, "t"),
            "student": side(s_out, s_names, "s"),
            "mask": mask.reshape(-1).tolist(),
            "dims": list(ids.shape),
            "mapping": "emb+skip",
            "window": window,
            "temperature": temperature,
            "out": str(Path(tmp) / "terms.json"),
        }
        (Path(tmp) / "manifest.json").write_text(json.dumps(manifest))
        run = subprocess.run(
            [
                "npx",
                "tsx",
                str(Path(__file__).with_name("check_ckd.ts")),
                str(Path(tmp) / "manifest.json"),
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        if run.returncode != 0:
            raise RuntimeError(f"check_ckd.ts failed:\n{run.stdout}{run.stderr}")
        node = json.loads((Path(tmp) / "terms.json").read_text())
    if [[p["teacher"], p["student"]] for p in node["mapping"]] != [list(p) for p in mapping]:
        raise RuntimeError(f"ortlab's emb+skip mapping {node['mapping']} is not {mapping}")
    matched_t = [torch.from_numpy(t_out[f"hidden_{t}"]) for t, _ in mapping]
    matched_s = [torch.from_numpy(s_out[f"hidden_{s}"]) for _, s in mapping]
    ours = ckd_terms(matched_t, matched_s, mask, window)
    ours["kd"] = soft_cross_entropy(
        torch.from_numpy(t_out["logits"]), torch.from_numpy(s_out["logits"]), temperature
    )
    diffs = {
        k: abs(float(v) - node["terms"][k]) / max(1.0, abs(node["terms"][k]))
        for k, v in ours.items()
    }
    if max(diffs.values()) > CKD_TOLERANCE:
        raise RuntimeError(f"torch CKD terms differ from ortlab's: {diffs}")
    return {
        "rows": len(rows),
        "tokens": int(ids.shape[1]),
        "ortlab": node["terms"],
        "maxRelDiff": max(diffs.values()),
        "tolerance": CKD_TOLERANCE,
    }
