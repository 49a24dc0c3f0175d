"""Clustering scores against hand-computed values."""

from __future__ import annotations

import pytest

from newsweave.evaluate import bcubed, pairwise


def test_evaluate_bcubed_perfect_and_all_in_one() -> None:
    gold = {"a": "1", "b": "1", "c": "2"}
    assert bcubed(gold, gold)["f1"] == 1.0
    one = {"a": "x", "b": "x", "c": "x"}
    s = bcubed(gold, one)
    # precision: a,b see 2/3 correct, c sees 1/3 -> (2/3+2/3+1/3)/3 = 5/9; recall 1
    assert s["precision"] == pytest.approx(5 / 9)
    assert s["recall"] == 1.0


def test_evaluate_pairwise_counts_pairs() -> None:
    gold = {"a": "1", "b": "1", "c": "1", "d": "2"}
    pred = {"a": "x", "b": "x", "c": "y", "d": "y"}
    s = pairwise(gold, pred)
    assert s["precision"] == pytest.approx(1 / 2)  # pairs predicted: ab, cd; correct: ab
    assert s["recall"] == pytest.approx(1 / 3)  # gold pairs: ab, ac, bc
