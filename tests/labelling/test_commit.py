"""Class-aware commits: a mask never overwrites another class unless asked."""

from __future__ import annotations

import numpy as np
import pytest

from napari_plugins.labelling.commit import commit_mask, erase_mask


def test_commit_keeps_other_classes_unless_overwrite():
    labels = np.zeros((4, 6), np.uint8)
    labels[:, :2] = 2  # another class
    labels[:, 2] = 1  # already this class
    mask = np.zeros((4, 6), bool)
    mask[1:3, :5] = True
    kept, changed = commit_mask(labels, mask, 1)
    assert (kept[:, :2] == 2).all()
    assert (kept[1:3, 2:5] == 1).all() and (kept[0, 3:] == 0).all()
    assert changed == 4  # columns 3 and 4 of rows 1, 2
    assert (labels[:, 3] == 0).all()  # the input is not changed

    overwritten, changed = commit_mask(labels, mask, 1, overwrite=True)
    assert (overwritten[1:3, :2] == 1).all() and (overwritten[0, :2] == 2).all()
    assert changed == 8


def test_erase_only_removes_that_class():
    labels = np.array([[1, 2, 1, 0]], np.uint8)
    erased, changed = erase_mask(labels, np.ones((1, 4), bool), 1)
    assert erased.tolist() == [[0, 2, 0, 0]] and changed == 2


def test_bad_commits_are_refused():
    labels = np.zeros((3, 3), np.uint8)
    with pytest.raises(ValueError, match=r"mask of shape \(3, 4\)"):
        commit_mask(labels, np.zeros((3, 4), bool), 1)
    with pytest.raises(ValueError, match=r"class_index must be 1\.\.255, got 0"):
        commit_mask(labels, np.zeros((3, 3), bool), 0)
