"""Train a genre model on labelled audio and write a versioned artifact with an evaluation report.

Data: a folder with one sub-folder per genre (GTZAN's layout works), plus any extra (path, label)
pairs the caller passes (later: admin-reviewed predictions). Two architectures:

- "head" (default): a small dense classifier on the frozen musicnn embedding (400 values: the mean
  over 3 s patches of the MSD and MTT penultimate layers). Needs little data.
- "conv1d": the original 2019 project's network trained from scratch: three kernel-size-1 Conv1D
  layers (300, 150, 50 filters, ELU, batch norm, dropout 0.4) and a dense layer of 100 over a 3 s
  mel patch (mel bins as channels), softmax over the genres. A clip's prediction is the mean over
  its patches.

Files are split into training and validation sets per file (stratified, fixed seed), so patches of
one song never end up on both sides. The validation set drives early stopping and is also the set the
report measures, so its figures are slightly optimistic; a held-out test set needs more data.
"""

from __future__ import annotations

import json
import logging
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from worker.audio import features
from worker.audio.decode import AudioError, load_audio
from worker.heads.genre_head import ZEROSHOT_ARTIFACT_DIR, Artifact, load_artifact, write_artifact

log = logging.getLogger(__name__)

ARCHS = ("head", "conv1d")
MIN_FILES_PER_GENRE = 5
DEFAULT_DISPLAY_NAMES = dict(zip(load_artifact().labels, load_artifact().display_names, strict=True))


class TrainingDataError(Exception):
    """The data cannot train a model (too few files, one genre only...). str() says what to fix."""


@dataclass(frozen=True)
class Example:
    path: Path
    label: str


@dataclass(frozen=True)
class TrainingConfig:
    output_dir: Path
    data_dir: Path | None = None
    arch: str = "head"
    name: str | None = None
    version: str | None = None
    seed: int = 7
    val_fraction: float = 0.2
    min_files_per_genre: int = MIN_FILES_PER_GENRE
    max_epochs: int = 300
    patience: int = 20
    batch_size: int = 32


@dataclass
class Dataset:
    """Inputs and integer labels; `groups` maps each row back to its file (conv1d has rows per patch)."""

    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TrainingResult:
    artifact: Artifact
    report: dict[str, Any]


# --- data ----------------------------------------------------------------------------------


def collect_examples(data_dir: Path) -> list[Example]:
    """Every non-hidden file in each sub-folder of `data_dir`, labelled with the folder name."""
    if not data_dir.is_dir():
        raise TrainingDataError(f"{data_dir} is not a folder.")
    examples = [
        Example(path, folder.name.lower())
        for folder in sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    ]
    return examples


def check_counts(examples: Sequence[Example], minimum: int) -> dict[str, int]:
    counts = Counter(e.label for e in examples)
    if len(counts) < 2:
        raise TrainingDataError(
            f"Found {len(counts)} genre(s); training needs at least two sub-folders of audio."
        )
    few = {label: n for label, n in sorted(counts.items()) if n < minimum}
    if few:
        listed = ", ".join(f"'{label}' has {n}" for label, n in few.items())
        raise TrainingDataError(f"Too few files: {listed}; each genre needs at least {minimum}.")
    return dict(counts)


def ordered_labels(labels: Iterable[str]) -> list[str]:
    """The default taxonomy's order for its genres, then any others alphabetically."""
    default = list(DEFAULT_DISPLAY_NAMES)
    unique = set(labels)
    return [g for g in default if g in unique] + sorted(unique - set(default))


def split_files(y: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    n_classes = len(set(y.tolist()))
    n_val = max(int(round(val_fraction * len(y))), n_classes)  # at least one file per genre
    idx = np.arange(len(y))
    train, val = train_test_split(idx, test_size=n_val, stratify=y, random_state=seed)
    return np.sort(train), np.sort(val)


def _clip_inputs(example: Example, arch: str) -> np.ndarray:
    """(1, 400) embedding for "head", (n, 187, 96) patches for "conv1d"."""
    audio = load_audio(example.path)
    patches = features.extract(audio.samples, audio.sample_rate).patches
    if arch == "conv1d":
        return patches
    from worker.backbone.serving import get_backbone

    return get_backbone()(patches).embedding[np.newaxis, :]


def build_dataset(examples: Sequence[Example], labels: list[str], arch: str) -> Dataset:
    rows, ys, groups, skipped = [], [], [], []
    for i, example in enumerate(examples):
        try:
            x = _clip_inputs(example, arch)
        except AudioError as exc:
            log.warning("skipping %s: %s", example.path, exc)
            skipped.append(f"{example.path}: {exc}")
            continue
        rows.append(x)
        ys += [labels.index(example.label)] * len(x)
        groups += [i] * len(x)
    if not rows:
        raise TrainingDataError("None of the files could be decoded as audio.")
    return Dataset(np.concatenate(rows).astype(np.float32), np.array(ys), np.array(groups), skipped)


# --- models --------------------------------------------------------------------------------


def build_head(n_classes: int, train_x: np.ndarray) -> Any:
    import keras

    # The embedding comes out of musicnn's last batch norm, so it is already on a sane scale. A
    # Normalization layer adapted on a few files would blow up units that happen to be constant
    # (dead ReLUs) in the training set but not in new songs.
    return keras.Sequential(
        [
            keras.Input((train_x.shape[1],)),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-3)),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )


def build_conv1d(n_classes: int, train_x: np.ndarray) -> Any:
    import keras

    layers: list[Any] = [keras.Input(train_x.shape[1:]), keras.layers.BatchNormalization()]
    for filters in (300, 150, 50):
        layers += [
            keras.layers.Conv1D(filters, 1, activation="elu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.4),
        ]
    layers += [
        keras.layers.Flatten(),
        keras.layers.Dense(100, activation="elu"),
        keras.layers.Dense(n_classes, activation="softmax"),
    ]
    return keras.Sequential(layers)


def fit(model: Any, data: Dataset, train_idx: np.ndarray, val_idx: np.ndarray, config: TrainingConfig) -> int:
    """Fit with early stopping on validation loss; returns the number of epochs run."""
    import keras

    train_rows, val_rows = np.isin(data.groups, train_idx), np.isin(data.groups, val_idx)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True
    )
    history = model.fit(
        data.x[train_rows], data.y[train_rows],
        validation_data=(data.x[val_rows], data.y[val_rows]),
        epochs=config.max_epochs, batch_size=config.batch_size, callbacks=[stop], verbose=0, shuffle=True,
    )  # fmt: skip
    return len(history.history["loss"])


def clip_predictions(model: Any, data: Dataset, file_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(true label, predicted label) per file, averaging patch probabilities within a file."""
    true, pred = [], []
    for i in file_idx:
        rows = data.groups == i
        if rows.any():
            probs = np.asarray(model(data.x[rows], training=False)).mean(axis=0)
            true.append(int(data.y[rows][0]))
            pred.append(int(np.argmax(probs)))
    return np.array(true), np.array(pred)


# --- report --------------------------------------------------------------------------------


def evaluate(true: np.ndarray, pred: np.ndarray, labels: list[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    ids = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(true, pred, labels=ids, zero_division=0)
    per_genre = {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }
    return {
        "accuracy": float(accuracy_score(true, pred)),
        "chance": 1.0 / len(labels),
        "macro_f1": float(np.mean(f1)),
        "per_genre": per_genre,
        "confusion_matrix": confusion_matrix(true, pred, labels=ids).tolist(),
    }


def render_confusion_matrix(
    matrix: list[list[int]], names: list[str], path: Path, title: str = "Validation confusion matrix (files)"
) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1.2 * len(names) + 3, 1.0 * len(names) + 2.5), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    data = np.array(matrix)
    ax.imshow(data, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel="Predicted", ylabel="True")
    ax.set_title("\n".join(textwrap.wrap(title, 50)), fontsize=10)
    for (row, col), value in np.ndenumerate(data):
        ax.text(
            col,
            row,
            str(value),
            ha="center",
            va="center",
            color="white" if value > data.max() / 2 else "black",
        )
    figure.tight_layout()
    figure.savefig(path, format="png")


# --- entry point ---------------------------------------------------------------------------


def train(config: TrainingConfig, extra_examples: Sequence[tuple[str | Path, str]] = ()) -> TrainingResult:
    """Train, evaluate and write the artifact folder `config.output_dir`."""
    if config.arch not in ARCHS:
        raise TrainingDataError(f"Unknown architecture {config.arch!r}; choose one of {', '.join(ARCHS)}.")
    examples = collect_examples(config.data_dir) if config.data_dir else []
    examples += [Example(Path(path), label.lower()) for path, label in extra_examples]
    counts = check_counts(examples, config.min_files_per_genre)
    labels = ordered_labels(counts)
    import keras  # only now: refusing bad data should not cost a TensorFlow import

    keras.utils.set_random_seed(config.seed)
    data = build_dataset(examples, labels, config.arch)
    file_ids = np.unique(data.groups)
    file_labels = np.array([data.y[data.groups == i][0] for i in file_ids])
    train_pos, val_pos = split_files(file_labels, config.val_fraction, config.seed)
    train_idx, val_idx = file_ids[train_pos], file_ids[val_pos]
    builder = build_head if config.arch == "head" else build_conv1d
    model = builder(len(labels), data.x[np.isin(data.groups, train_idx)])
    epochs = fit(model, data, train_idx, val_idx, config)
    metrics = evaluate(*clip_predictions(model, data, val_idx), labels)
    report = _report(config, labels, counts, data, len(train_idx), len(val_idx), epochs, metrics)
    return TrainingResult(_write(config, model, labels, report), report)


def _report(config, labels, counts, data, n_train, n_val, epochs, metrics) -> dict[str, Any]:
    return {
        "arch": config.arch,
        "seed": config.seed,
        "labels": labels,
        "files_per_genre": {label: counts[label] for label in labels},
        "train_files": n_train,
        "validation_files": n_val,
        "skipped_files": data.skipped,
        "epochs": epochs,
        "note": "Validation files also drove early stopping, so these figures are slightly optimistic.",
        **metrics,
    }


def _write(config: TrainingConfig, model: Any, labels: list[str], report: dict[str, Any]) -> Artifact:
    out = config.output_dir
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.keras")
    names = [DEFAULT_DISPLAY_NAMES.get(label, label.replace("_", " ").title()) for label in labels]
    render_confusion_matrix(report["confusion_matrix"], names, out / "confusion_matrix.png")
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    now = datetime.now(tz=UTC)
    spec = {
        "format": 1,
        "name": config.name or f"musicnn-{config.arch}-{len(labels)}",
        "version": config.version or now.strftime("%Y.%m.%d-%H%M%S"),
        "kind": "embedding-head" if config.arch == "head" else "conv1d",
        "description": f"Trained with `train_genre_model --arch {config.arch}`; see report.json.",
        "created_at": now.isoformat(timespec="seconds"),
        "labels": labels,
        "display_names": names,
        "model_file": "model.keras",
        "report": "report.json",
        "metrics": {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"]},
        "outside_taxonomy": load_artifact(ZEROSHOT_ARTIFACT_DIR).spec["outside_taxonomy"],
    }
    return write_artifact(out, spec)
