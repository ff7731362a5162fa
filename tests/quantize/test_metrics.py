"""hhbc.quantize.metrics on hand-computed cases."""

import math

import numpy as np
import pytest

from hhbc.quantize.metrics import accuracy, max_abs, max_rel, sqnr_db, top1_agreement


def test_sqnr_hand_computed():
    # signal 3^2 + 4^2 = 25, noise 0.5^2 = 0.25: 10 log10(100) = 20 dB
    assert sqnr_db([3.0, 4.0], [3.0, 4.5]) == pytest.approx(20.0)
    # signal 1 + 1 + 1 + 1 = 4, noise 4 * 0.1^2 = 0.04: 20 dB again, on a 2-D array
    assert sqnr_db(np.ones((2, 2)), np.full((2, 2), 0.9)) == pytest.approx(20.0)
    # noise equal to the signal: 0 dB; ten times the amplitude of the signal: -20 dB
    assert sqnr_db([1.0, -1.0], [0.0, 0.0]) == pytest.approx(0.0)
    assert sqnr_db([1.0], [11.0]) == pytest.approx(-20.0)


def test_sqnr_edge_cases():
    assert sqnr_db([1.0, 2.0], [1.0, 2.0]) == math.inf
    assert sqnr_db([0.0, 0.0], [0.0, 0.0]) == math.inf       # equal, even with no signal
    assert sqnr_db([0.0, 0.0], [0.0, 1e-3]) == -math.inf     # noise and no signal
    with pytest.raises(ValueError, match="shapes differ"):
        sqnr_db(np.zeros(3), np.zeros(4))


def test_sqnr_of_float32_inputs():
    ref = np.full(1000, 1024.0, np.float32)
    got = ref + np.float32(0.125)          # both exact in float32
    # 10 log10(2^20 / 2^-6) = 260 log10(2) dB
    assert sqnr_db(ref, got) == pytest.approx(260 * math.log10(2), abs=1e-9)


def test_top1_agreement():
    ref = np.array([[0.1, 0.9, 0.0],
                    [0.7, 0.2, 0.1],
                    [0.3, 0.3, 0.4],
                    [0.0, 0.0, 1.0]])
    got = np.array([[0.2, 0.8, 0.0],     # agrees (1)
                    [0.2, 0.7, 0.1],     # disagrees (0 vs 1)
                    [0.3, 0.3, 0.4],     # agrees (2)
                    [0.5, 0.5, 0.0]])    # tie between 0 and 1 -> first (0) vs 2: disagrees
    assert top1_agreement(ref, got) == pytest.approx(0.5)
    # a single sample as a 1-D vector; a (N, 1, C) batch is N samples
    assert top1_agreement([1, 2, 3], [0, 0, 9]) == 1.0
    assert top1_agreement(ref[:, None, :], got[:, None, :]) == pytest.approx(0.5)


def test_max_abs_and_rel():
    ref = np.array([2.0, -4.0, 1.0])
    got = np.array([2.5, -4.0, 0.0])
    assert max_abs(ref, got) == pytest.approx(1.0)
    assert max_rel(ref, got) == pytest.approx(0.25)    # 1.0 over max |ref| = 4
    assert max_rel([0.0], [0.0]) == 0.0
    assert max_rel([0.0], [1.0]) == math.inf


def test_accuracy_over_samples_and_line():
    refs = [np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 2.0, 0.0]])]
    gots = [np.array([[0.9, 0.0, 0.0]]), np.array([[0.0, 0.0, 2.0]])]
    acc = accuracy("Identity:0", refs, gots)
    assert acc.samples == 2 and acc.top1 == pytest.approx(0.5)
    # signal 1 + 4 = 5; noise 0.01 + 4 + 4 = 8.01
    assert acc.sqnr_db == pytest.approx(10 * math.log10(5 / 8.01))
    assert acc.max_abs == pytest.approx(2.0) and acc.max_rel == pytest.approx(1.0)
    assert acc.line() == ("output 'Identity:0' (int8 build vs float framework, 2 inputs): "
                          "SQNR -2.0 dB, top-1 agreement 50.0%, max abs 2, max rel 100.0%")


def test_accuracy_nchw_classes_and_regression_outputs():
    # an NCHW classifier's (1, 2, 1, 1) output: the class axis is the 2, not the trailing 1
    refs = [np.array([0.2, 0.8]).reshape(1, 2, 1, 1), np.array([0.6, 0.4]).reshape(1, 2, 1, 1)]
    gots = [np.array([0.3, 0.7]).reshape(1, 2, 1, 1), np.array([0.4, 0.6]).reshape(1, 2, 1, 1)]
    assert accuracy("prob1", refs, gots).top1 == pytest.approx(0.5)
    # one value per sample: no classes, no top-1, and the line says nothing about it
    one = accuracy("score", [np.array([1.0])], [np.array([1.0])])
    assert one.top1 is None and one.sqnr_db == math.inf
    assert one.line() == ("output 'score' (int8 build vs float framework, 1 input): "
                          "SQNR inf dB, max abs 0, max rel 0.0%")


def test_accuracy_rejects_mismatches():
    with pytest.raises(ValueError, match="'y': 2 reference samples, 1 compared"):
        accuracy("y", [np.zeros(3), np.zeros(3)], [np.zeros(3)])
    with pytest.raises(ValueError, match="'y': no samples"):
        accuracy("y", [], [])
    with pytest.raises(ValueError, match="'y': shapes differ"):
        accuracy("y", [np.zeros(3)], [np.zeros(4)])
