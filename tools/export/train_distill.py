"""Train a small BERT-like teacher and two distilled students on review sentiment; export all three.

ortlab's distillation tools (src/distill) need a real teacher-student pair whose every hidden
state can be read, and no BERT-like encoder can be downloaded here, so this script trains its
own (tools/export/distill_model.py) on data/sentiment with the tokenizer of
models/distill/tokenizer (build both first). Seeded and on CPU:

1. teacher: 4 layers, hidden 128, 4 heads, FFN 512, cross-entropy on the training domain's
   train split, the best epoch on its validation split kept (early stopping).
2. student-kd: 2 layers, hidden 64, 2 heads, FFN 256, classic distillation: hard-label
   cross-entropy plus T^2-scaled soft cross-entropy with the teacher at temperature T.
3. student-ckd: the same student, seed, batches and schedule, with Contextual Knowledge
   Distillation's word relation and layer transforming relation terms (pair-wise and angle-wise,
   tools/export/ckd_losses.py) added over the 'emb+skip' layer mapping (teacher hidden states
   0, 2, 4 to student 0, 1, 2).
4. each exported to models/distill/<name>.onnx (opset 17; inputs input_ids and attention_mask,
   int64 [batch, tokens]; outputs logits [batch, 2] and hidden_0..hidden_L [batch, tokens,
   hidden], hidden_0 the embedding output), checked by onnx.checker (full_check) and against
   onnxruntime-node on padded batches; accuracies and teacher agreement measured through
   onnxruntime-node; the torch CKD terms checked against ortlab's ckdLoss on the exports;
   model cards written to models/distill/<name>.json.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from distill_export import check_ckd_in_node, check_parity, export_encoder, measure
from distill_model import Encoder, EncoderShape
from distill_texts import model_card
from distill_training import Schedule, StudentLoss, fit, student_objective, teacher_objective
from script_support import to_json
from sentiment_data import read_splits
from wordpiece import encode

REPO = Path(__file__).resolve().parents[2]
CKD_TERMS = ("wrPair", "wrAngle", "ltrPair", "ltrAngle")


@dataclass
class DistillConfig:
    """Everything that decides the three models; recorded in their cards."""

    seed: int = 20240601
    threads: int = 1
    max_length: int = 64
    teacher: tuple = (4, 128, 4, 512)
    student: tuple = (2, 64, 2, 256)
    teacher_schedule: Schedule = field(default_factory=lambda: Schedule(max_epochs=30, patience=10))
    student_schedule: Schedule = field(default_factory=lambda: Schedule(max_epochs=40, patience=12))
    temperature: float = 2.0
    hard_weight: float = 1.0
    kd_weight: float = 1.0
    # Scaled so that each relation term starts at a tenth to a quarter of the KD term:
    # softmaxed cosines are near uniform, so the pair-wise KLs start near 1e-3.
    ckd_weights: dict = field(
        default_factory=lambda: {
            "wrPair": 1000.0,
            "wrAngle": 10.0,
            "ltrPair": 100.0,
            "ltrAngle": 10.0,
        }
    )
    window: int = 21


def emb_skip(teacher_states: int, student_states: int) -> list[tuple[int, int]]:
    """ortlab's 'emb+skip' mapping: student state l to teacher state l k, k = (T - 1) / (S - 1)."""
    step, rest = divmod(teacher_states - 1, student_states - 1)
    if rest:
        raise ValueError(
            f"'emb+skip' needs {teacher_states - 1} teacher layers to be a multiple of "
            f"{student_states - 1}"
        )
    return [(l * step, l) for l in range(student_states)]


def encode_parts(parts: dict, vocab: dict, max_length: int) -> dict:
    """Token ids (truncated to max_length) and label tensors of every split."""
    return {
        name: (
            [encode(e["text"], vocab, max_length) for e in entries],
            torch.tensor([e["label"] for e in entries]),
        )
        for name, entries in parts.items()
    }


def new_encoder(sizes: tuple, vocab: int, config: DistillConfig, seed: int) -> Encoder:
    """An initialized encoder of (layers, hidden, heads, ffn), seeded."""
    torch.manual_seed(seed)
    layers, hidden, heads, ffn = sizes
    return Encoder(EncoderShape(layers, hidden, heads, ffn, vocab, config.max_length))


def measure_all(path: Path, data: dict) -> tuple[dict, dict]:
    """onnxruntime-node predictions and accuracies on validation, test and held-out splits."""
    predictions, accuracy = {}, {}
    for name, (rows, labels) in data.items():
        if name == "train":
            continue
        predictions[name] = measure(path, rows).argmax(1)
        accuracy[name] = round(float((predictions[name] == labels.numpy()).mean()), 4)
    return predictions, accuracy


def train_all(config: DistillConfig, data_dir: Path, out: Path, tokenizer: Path) -> None:
    """Train, export, check and measure the three models, then write their cards."""
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    splits, parts = read_splits(data_dir)
    vocab = json.loads((tokenizer / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    data = encode_parts(parts, vocab, config.max_length)
    train, validation = data["train"], data["validation"]
    mapping = emb_skip(config.teacher[0] + 1, config.student[0] + 1)
    started = time.time()

    print(
        f"teacher {config.teacher} on {splits['trainingDomain']} train ({len(train[0])} sentences)"
    )
    teacher = new_encoder(config.teacher, len(vocab), config, config.seed)
    runs = {
        "teacher": (
            teacher,
            fit(
                teacher, teacher_objective, train, validation, config.teacher_schedule, config.seed
            ),
            None,
        )
    }
    for name, ckd in (("student-kd", {}), ("student-ckd", config.ckd_weights)):
        loss = StudentLoss(
            config.hard_weight,
            config.kd_weight,
            config.temperature,
            dict(ckd),
            config.window,
            tuple(mapping),
        )
        print(
            f"{name} {config.student}: hard {loss.hard}, kd {loss.kd} (T {loss.temperature}), "
            f"ckd {ckd}"
        )
        student = new_encoder(config.student, len(vocab), config, config.seed + 1)
        history = fit(
            student,
            student_objective(teacher, loss),
            train,
            validation,
            config.student_schedule,
            config.seed + 1,
        )
        runs[name] = (student, history, loss)

    results = {}
    for name, (model, history, loss) in runs.items():
        path = out / f"{name}.onnx"
        export_encoder(model, path)
        parity = check_parity(model, path, data["test"][0] + data["imdb"][0])
        predictions, accuracy = measure_all(path, data)
        results[name] = {"predictions": predictions, "accuracy": accuracy, "parity": parity}
        print(
            f"{name}: best epoch {history['bestEpoch']}/{history['epochsRun']} "
            f"({history['seconds']} s), "
            f"accuracy {accuracy}, parity max abs diff {parity['maxAbsDiff']:.3g}"
        )
    check_rows = data["test"][0][:16] + data["imdb"][0][:16]
    ckd_check = check_ckd_in_node(
        out / "teacher.onnx",
        out / "student-ckd.onnx",
        check_rows,
        mapping,
        config.window,
        config.temperature,
    )
    print(
        "torch CKD terms vs ortlab's ckdLoss: max relative difference "
        f"{ckd_check['maxRelDiff']:.3g}"
    )

    for name, (model, history, loss) in runs.items():
        agreement = None
        if name != "teacher":
            teacher_predictions = results["teacher"]["predictions"]
            agreement = {
                k: round(float((v == teacher_predictions[k]).mean()), 4)
                for k, v in results[name]["predictions"].items()
            }
        card = model_card(
            name,
            model,
            history,
            loss,
            config,
            splits,
            results[name],
            agreement,
            out / f"{name}.onnx",
            ckd_check if name == "student-ckd" else None,
        )
        (out / f"{name}.json").write_text(to_json(card) + "\n")
    print(f"trained, exported and measured in {time.time() - started:.0f} s")
    for path in sorted(out.glob("*.*")):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


def main() -> None:
    defaults = DistillConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--seed", int, defaults.seed, "seed of the teacher; the students use seed + 1"),
        ("--threads", int, defaults.threads, "torch CPU threads"),
        ("--temperature", float, defaults.temperature, "distillation temperature T"),
        ("--kd-weight", float, defaults.kd_weight, "weight of the T^2 soft cross-entropy"),
        (
            "--hard-weight",
            float,
            defaults.hard_weight,
            "weight of the students' label cross-entropy",
        ),
        ("--window", int, defaults.window, "window of the word-relation angles, in tokens"),
        ("--data", Path, Path("data/sentiment"), "folder built by build_sentiment.py"),
        (
            "--tokenizer",
            Path,
            Path("models/distill/tokenizer"),
            "folder built by build_wordpiece.py",
        ),
        ("--out", Path, Path("models/distill"), "output folder of the models and cards"),
    ]
    for flag, kind, default, text in options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: %(default)s)")
    for term in CKD_TERMS:
        flag = "--" + "".join(f"-{c.lower()}" if c.isupper() else c for c in term)
        parser.add_argument(
            flag,
            dest=term,
            type=float,
            default=defaults.ckd_weights[term],
            help=f"weight of CKD's {term} term in student-ckd (default: %(default)s)",
        )
    args = parser.parse_args()
    config = DistillConfig(
        seed=args.seed,
        threads=args.threads,
        temperature=args.temperature,
        hard_weight=args.hard_weight,
        kd_weight=args.kd_weight,
        window=args.window,
        ckd_weights={t: getattr(args, t) for t in CKD_TERMS},
    )
    train_all(config, REPO / args.data, REPO / args.out, REPO / args.tokenizer)


if __name__ == "__main__":
    main()
