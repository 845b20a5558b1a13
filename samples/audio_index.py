"""Vectors as stored, and nearest neighbours among them: pure code, no database.

Storage: every vector is one `BinaryField` of little-endian float32 bytes, on PostgreSQL (bytea) and
on SQLite (BLOB) alike. A PostgreSQL `ArrayField` would need a second code path and migration for
SQLite, and nothing ever filters on a vector's elements in SQL: they are always read whole into
numpy. Bytes are also the compact form (1,600 bytes for 400 values, no per-element overhead).

Search: exact cosine by brute force over a numpy matrix of unit vectors. bench/similarity.py
measures it against usearch's HNSW index over 100,000 vectors; the exact search meets the 50 ms
target with no build step and no recall loss, so it is the one used (figures in
docs/recommendations.md).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

DTYPE = np.dtype("<f4")


def vector_to_bytes(vector: np.ndarray | Iterable[float]) -> bytes:
    return np.asarray(vector, dtype=DTYPE).tobytes()


def vector_from_bytes(data: bytes | memoryview | None) -> np.ndarray | None:
    """None for a missing or damaged value (a length that is not whole float32s, or NaN)."""
    if not data:
        return None
    raw = bytes(data)
    if len(raw) % DTYPE.itemsize:
        return None
    vector = np.frombuffer(raw, dtype=DTYPE).astype(np.float32)
    return vector if np.isfinite(vector).all() else None


def unit(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero), so a dot product is the cosine."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


class VectorIndex:
    """Exact cosine nearest neighbours by key (a Freesound id), updated one vector at a time."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._matrix = np.zeros((0, dim), dtype=np.float32)
        self._keys: list[int] = []
        self._row: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: int) -> bool:
        return key in self._row

    @property
    def nbytes(self) -> int:
        return int(self._matrix.nbytes)

    def add_many(self, keys: Iterable[int], vectors: np.ndarray) -> None:
        """Insert or replace; the matrix grows by doubling, so n inserts cost O(n) copies."""
        vectors = unit(np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim))
        for key, vector in zip(keys, vectors, strict=True):
            row = self._row.get(key)
            if row is None:
                row = len(self._keys)
                self._grow(row + 1)
                self._keys.append(key)
                self._row[key] = row
            self._matrix[row] = vector

    def remove(self, key: int) -> None:
        """Swap the last row into the hole, so rows stay dense."""
        row = self._row.pop(key, None)
        if row is None:
            return
        last = len(self._keys) - 1
        if row != last:
            moved = self._keys[last]
            self._matrix[row] = self._matrix[last]
            self._keys[row] = moved
            self._row[moved] = row
        self._keys.pop()

    def vector(self, key: int) -> np.ndarray | None:
        row = self._row.get(key)
        return None if row is None else self._matrix[row].copy()

    def search(self, query: np.ndarray, k: int, *, exclude: Iterable[int] = ()) -> list[tuple[int, float]]:
        """[(key, cosine)] best first, at most k, without the excluded keys."""
        n = len(self._keys)
        if n == 0 or k <= 0:
            return []
        skip = set(exclude)
        scores = self._matrix[:n] @ unit(query.reshape(1, -1))[0]
        want = min(n, k + len(skip))
        top = np.argpartition(-scores, want - 1)[:want] if want < n else np.arange(n)
        top = top[np.argsort(-scores[top], kind="stable")]
        found = [(self._keys[i], float(scores[i])) for i in top if self._keys[i] not in skip]
        return found[:k]

    def _grow(self, rows: int) -> None:
        if rows <= self._matrix.shape[0]:
            return
        bigger = np.zeros((max(rows, 2 * self._matrix.shape[0], 64), self.dim), dtype=np.float32)
        bigger[: self._matrix.shape[0]] = self._matrix
        self._matrix = bigger
