import numpy as np

from studiogan_slt.data.digits import NUM_CLASSES, digits_arrays


def test_split_is_fixed_disjoint_and_covers_every_class():
    train_x, train_y = digits_arrays("train")
    valid_x, valid_y = digits_arrays("valid")
    assert train_x.shape[1:] == (32, 32, 3) and train_x.dtype == np.uint8
    assert len(train_y) + len(valid_y) == 1797
    assert set(np.unique(valid_y)) == set(range(NUM_CLASSES))
    again_x, again_y = digits_arrays("valid")
    assert np.array_equal(again_x, valid_x) and np.array_equal(again_y, valid_y)
    train_rows = {img.tobytes() for img in train_x}
    assert sum(img.tobytes() in train_rows for img in valid_x) < 5  # the raw set holds a few exact duplicates
