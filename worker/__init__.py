"""The analysis library: plain Python, no Django (see docs/architecture.md).

Its floors, each importing only the ones below it (the `layers` contract in pyproject.toml):

- the top level: `predictor` (GenrePredictor, the facade the apps call), `analysis` (tempo and key
  of a clip), `predict` (the `python -m worker.predict` CLI) and `warm` (the install step);
- `learning`: training and evaluating genre heads;
- `heads`: genre-head artifacts and their heads (tag mapping, log-odds, few-shot prototypes);
- `backbone`: the musicnn taggers, their serving runtimes and ONNX export, early exit, sample embeddings;
- `audio` and `music`, side by side and independent: decoding, features, the spectrogram and
  synthetic signals; music theory, tempo, key and conforming.
"""
