"""Input validation of the registration API."""

from __future__ import annotations

import numpy as np
import pytest

from fibsem_ophyd.alignment import Registrar, circular_mask, rectangular_mask, register
from fibsem_ophyd.alignment.synthetic import render


@pytest.fixture(scope="module")
def ref() -> np.ndarray:
    return render((128, 160), seed=3).astype(np.float32)


def test_shape_mismatch_names_both_shapes(ref):
    with pytest.raises(ValueError, match=r"\(128, 161\).*\(128, 160\)"):
        Registrar(ref).register(np.zeros((128, 161), np.float32))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_image(ref, bad):
    img = ref.copy()
    img[5, 7] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        Registrar(ref).register(img)
    with pytest.raises(ValueError, match="NaN or inf"):
        Registrar(img)


def test_non_finite_inside_masked_region(ref):
    img = ref.copy()
    img[0, 0] = np.nan  # weight is 0 there, still rejected
    with pytest.raises(ValueError, match="NaN or inf"):
        Registrar(ref).register(img)


@pytest.mark.parametrize("shape", [(128,), (2, 128, 160), ()])
def test_not_2d(ref, shape):
    with pytest.raises(ValueError, match="2-D"):
        Registrar(ref).register(np.zeros(shape, np.float32))
    with pytest.raises(ValueError, match="2-D"):
        Registrar(np.zeros(shape, np.float32))


def test_non_numeric(ref):
    with pytest.raises(ValueError, match="numeric"):
        register(ref, ref.astype(complex))


def test_bad_options(ref):
    with pytest.raises(ValueError, match="mask shape"):
        Registrar(ref, mask=np.ones((10, 10), bool))
    with pytest.raises(ValueError, match="every pixel"):
        Registrar(ref, mask=np.zeros(ref.shape, bool))
    with pytest.raises(ValueError, match="lowpass_px"):
        Registrar(ref, lowpass_px=1.0)
    with pytest.raises(ValueError, match="whitening"):
        Registrar(ref, whitening=2.0)
    with pytest.raises(ValueError, match="window"):
        Registrar(ref, window="gauss")  # type: ignore[arg-type]


def test_mask_helpers():
    c = circular_mask((100, 200), 0.4)
    assert c.shape == (100, 200) and c[50, 100] and not c[0, 0]
    r = rectangular_mask((100, 200), (10, 20), (30, 40), keep=False)
    assert not r[15, 35] and r[0, 0]
