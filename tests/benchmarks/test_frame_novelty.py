"""Test frames' distances to the training frames, and the rank correlation of scores with them."""

import numpy as np
from scipy.spatial.transform import Rotation

from nerfblend_ns.benchmarks.frame_novelty import frame_novelty, rank_correlation


def test_distances_are_to_the_nearest_training_frame():
    train_coefficients = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    train_rotations = Rotation.from_euler("y", [[0.0], [10.0], [30.0]], degrees=True).as_matrix()
    test_coefficients = np.array([[0.9, 0.1], [0.5, 0.5], [0.0, 0.0]])
    test_rotations = Rotation.from_euler("yx", [[12.0, 0.0], [20.0, 0.0], [0.0, 5.0]], degrees=True).as_matrix()
    novelty = frame_novelty(train_coefficients, train_rotations, test_coefficients, test_rotations)
    np.testing.assert_allclose(novelty.coefficient_distance, [np.sqrt(0.02), np.sqrt(0.5), 0.0], atol=1e-12)
    np.testing.assert_allclose(novelty.rotation_distance_deg, [2.0, 10.0, 5.0], atol=1e-5)


def test_rank_correlation_of_scores_with_distances():
    distances = [0.1, 0.4, 0.2, 0.3]
    assert rank_correlation([30.0, 24.0, 28.0, 26.0], distances) == -1.0  # farther, lower: perfectly
    assert rank_correlation([24.0, 30.0, 26.0, 28.0], distances) == 1.0
    assert np.isnan(rank_correlation([30.0, 30.0, 30.0], [0.1, 0.2, 0.3]))
    assert np.isnan(rank_correlation([30.0, 29.0], [0.1, 0.2]))
