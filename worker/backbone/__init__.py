"""The musicnn taggers: the reference model, the serving runtimes and their ONNX export, early exit
(half the patches first) and sample embeddings."""
