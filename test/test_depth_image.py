"""depth_image: the one place that reads REP-118 depth encodings."""
import numpy as np
import pytest

from depth_pose_ros.depth_image import (
    MAX_PIXELS,
    DepthImageError,
    encode,
    image_array,
    to_metres,
    to_millimetres,
)


def test_16uc1_is_millimetres_and_zero_is_no_return():
    mm = np.array([[0, 1000, 2500], [65535, 1, 4500]], dtype=np.uint16)
    raw = image_array("16UC1", 2, 3, 6, False, mm.tobytes())
    np.testing.assert_array_equal(raw, mm)
    np.testing.assert_allclose(to_metres(raw), mm / 1000.0, rtol=1e-6)
    assert to_metres(raw)[0, 0] == 0.0 and to_metres(raw).dtype == np.float32


def test_32fc1_invalid_values_become_zero():
    metres = np.array([[np.nan, 1.5, np.inf], [-np.inf, 0.0, -2.0]], dtype=np.float32)
    out = to_metres(image_array("32FC1", 2, 3, 12, False, metres.tobytes()))
    np.testing.assert_array_equal(out, [[0, 1.5, 0], [0, 0, 0]])


@pytest.mark.parametrize("encoding", ["16UC1", "mono16", "32FC1"])
def test_big_endian_and_padded_rows_read_the_same_pixels(encoding):
    depth = np.random.default_rng(0).uniform(0.5, 4.0, (5, 7)).astype(np.float32)
    step, data = encode(depth, encoding)
    expected = to_metres(image_array(encoding, 5, 7, step, False, data))
    dtype = np.dtype(np.uint16 if encoding != "32FC1" else np.float32)
    values = np.frombuffer(data, dtype.newbyteorder("<")).reshape(5, 7)
    big = values.astype(dtype.newbyteorder(">"))
    padded = np.zeros((5, 7 * dtype.itemsize + 6), np.uint8)  # 6 bytes of padding per row
    padded[:, :7 * dtype.itemsize] = big.view(np.uint8).reshape(5, -1)
    out = to_metres(image_array(encoding, 5, 7, padded.shape[1], True, padded.tobytes()))
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(expected, depth, atol=5e-4)  # mm rounding for 16-bit


def test_the_last_row_needs_no_padding():
    data = np.arange(6, dtype=np.uint16).tobytes()
    padded = data[:4] + b"\0\0" + data[4:8] + b"\0\0" + data[8:]  # step 6, last row 4 bytes
    np.testing.assert_array_equal(image_array("16UC1", 3, 2, 6, False, padded),
                                  [[0, 1], [2, 3], [4, 5]])


@pytest.mark.parametrize("args, message", [
    (("rgb8", 2, 2, 6, False, bytes(12)), "unsupported encoding 'rgb8'"),
    (("16UC1", 0, 0, 0, False, b""), "empty image"),
    (("16UC1", 2, 2, 3, False, bytes(8)), "step 3 is shorter than a row"),
    (("16UC1", 2, 2, 4, False, bytes(7)), "truncated image: 7 bytes"),
    (("32FC1", 5000, 5000, 20000, False, b""), f"larger than the {MAX_PIXELS:,} pixels"),
])
def test_bad_images_raise_a_clear_error(args, message):
    with pytest.raises(DepthImageError, match=message):
        image_array(*args)


def test_millimetres_round_trip_and_clip():
    depth = np.array([[0.0, 1.2344, 70.0, -1.0]])
    np.testing.assert_array_equal(to_millimetres(depth), [[0, 1234, 65535, 0]])
