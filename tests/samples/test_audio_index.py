"""Vectors as stored (float32 bytes on every database) and the exact nearest-neighbour index."""

from __future__ import annotations

import numpy as np

from samples.audio_index import VectorIndex, vector_from_bytes, vector_to_bytes


def test_vectors_round_trip_through_bytes_and_damaged_values_read_as_none():
    vector = np.linspace(-1, 1, 400, dtype=np.float32)
    data = vector_to_bytes(vector)
    assert len(data) == 1600
    np.testing.assert_array_equal(vector_from_bytes(memoryview(data)), vector)
    assert vector_from_bytes(None) is None
    assert vector_from_bytes(b"") is None
    assert vector_from_bytes(data[:-1]) is None  # not whole float32s
    assert vector_from_bytes(vector_to_bytes([1.0, float("nan")])) is None


def test_search_matches_a_brute_force_cosine_ranking():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((500, 32)).astype(np.float32)
    index = VectorIndex(32)
    index.add_many(range(1000, 1500), data)
    query = rng.standard_normal(32).astype(np.float32)

    found = index.search(query, 10)

    cosine = data @ query / (np.linalg.norm(data, axis=1) * np.linalg.norm(query))
    expected = [1000 + int(i) for i in np.argsort(-cosine)[:10]]
    assert [key for key, _ in found] == expected
    assert np.allclose([score for _, score in found], np.sort(cosine)[::-1][:10], atol=1e-5)


def test_replace_remove_and_exclude_keep_the_index_consistent():
    index = VectorIndex(3)
    index.add_many([1, 2, 3], np.eye(3))
    index.add_many([2], np.array([[1.0, 0.1, 0.0]]))  # replaced: now close to 1
    index.remove(1)
    index.remove(99)  # unknown: nothing happens

    assert len(index) == 2
    assert 1 not in index
    assert [k for k, _ in index.search(np.array([1.0, 0.0, 0.0]), 5)] == [2, 3]
    assert [k for k, _ in index.search(np.array([1.0, 0.0, 0.0]), 5, exclude={2})] == [3]
    assert VectorIndex(3).search(np.ones(3), 5) == []
