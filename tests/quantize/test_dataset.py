"""Calibration data (-cd) and HHB's image preprocessing: every format, option and error."""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import pytest
from PIL import Image

from hhbc.errors import HhbcError
from hhbc.frontends.model import TensorInfo
from hhbc.quantize.dataset import (Preprocess, add_dataset_options, decode_image, load_dataset,
                                   preprocess_from_args)

KWS = TensorInfo("x:0", (1, 49, 10, 1), "float32")
RNG = np.random.default_rng(14)


def _error(spec, inputs, pre=Preprocess(), **kw) -> str:
    with pytest.raises(HhbcError) as err:
        load_dataset(str(spec), inputs, pre, **kw)
    message = str(err.value)
    assert "\n" not in message, message
    return message


def _rand(shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _image(path, pixels):
    Image.fromarray(pixels).save(path)
    return path


def _pixels(h, w, c=3):
    return RNG.integers(0, 256, (h, w, c) if c > 1 else (h, w), dtype=np.uint8)


# --- arrays --------------------------------------------------------------------------------


def test_npy_as_one_sample_without_batch_dim_and_as_stacked_batches(tmp_path):
    one, bare = _rand((1, 49, 10, 1)), _rand((49, 10, 1))
    stack, stack5d = _rand((3, 49, 10, 1)), _rand((2, 1, 49, 10, 1))
    for name, a in (("a.npy", one), ("b.npy", bare), ("c.npy", stack), ("d.npy", stack5d)):
        np.save(tmp_path / name, a)
    samples = load_dataset(str(tmp_path), [KWS], Preprocess())
    assert len(samples) == 7 and all(len(s) == 1 for s in samples)
    expected = [one, bare[None], *stack[:, None], *stack5d]
    for (got,), want in zip(samples, expected):
        assert got.shape == (1, 49, 10, 1) and got.dtype == np.float32 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want.reshape(1, 49, 10, 1))


def test_integer_and_float64_arrays_become_the_inputs_float32(tmp_path):
    ints = RNG.integers(-100, 100, (2, 49, 10, 1)).astype(np.int16)
    doubles = _rand((49, 10, 1), np.float64)
    np.save(tmp_path / "i.npy", ints)
    np.save(tmp_path / "d.npy", doubles)
    (a,), (b,) = load_dataset(f"{tmp_path / 'i.npy'},{tmp_path / 'd.npy'}", [KWS], Preprocess())[:2]
    assert a.dtype == np.float32 and b.dtype == np.float32
    np.testing.assert_array_equal(a, ints[:1].astype(np.float32))
    samples = load_dataset(str(tmp_path / "d.npy"), [KWS], Preprocess())
    np.testing.assert_array_equal(samples[0][0], doubles.astype(np.float32)[None])


def test_a_directory_is_sorted_by_name_not_recursive_and_ignores_other_files(tmp_path):
    for k, name in enumerate(["b.npy", "a.NPY", "c.npy"]):
        np.save(tmp_path / name, np.full((1, 49, 10, 1), k, np.float32))
    (tmp_path / "notes.txt").write_text("not data")
    (tmp_path / "sub").mkdir()
    np.save(tmp_path / "sub" / "z.npy", np.full((1, 49, 10, 1), 9, np.float32))
    samples = load_dataset(str(tmp_path), [KWS], Preprocess())
    assert [float(s[0].flat[0]) for s in samples] == [1.0, 0.0, 2.0]   # a.NPY, b.npy, c.npy


def test_a_comma_list_keeps_its_order_and_may_name_directories(tmp_path):
    (tmp_path / "d").mkdir()
    for k, name in enumerate(["x.npy", "y.npy", "d/z.npy"]):
        np.save(tmp_path / name, np.full((1, 49, 10, 1), k, np.float32))
    spec = f"{tmp_path / 'y.npy'}, {tmp_path / 'd'} ,{tmp_path / 'x.npy'}"
    assert [float(s[0].flat[0]) for s in load_dataset(spec, [KWS], Preprocess())] == [1.0, 2.0, 0.0]


def test_npz_every_array_in_saved_order_or_only_the_inputs_key(tmp_path):
    a, b = _rand((2, 49, 10, 1)), _rand((49, 10, 1))
    np.savez(tmp_path / "all.npz", second=a, first=b)
    samples = load_dataset(str(tmp_path / "all.npz"), [KWS], Preprocess())
    assert len(samples) == 3
    np.testing.assert_array_equal(samples[0][0], a[:1])
    np.testing.assert_array_equal(samples[2][0], b[None])
    # one archive for two inputs, each taking its own key
    x, y = TensorInfo("x", (1, 4), "float32"), TensorInfo("y", (1, 2, 3), "float32")
    np.savez(tmp_path / "both.npz", y=_rand((5, 2, 3)), x=_rand((5, 4)), other=_rand((7,)))
    npz = tmp_path / "both.npz"
    samples = load_dataset(f"{npz};{npz}", [x, y], Preprocess())
    assert len(samples) == 5 and [s.shape for s in samples[4]] == [(1, 4), (1, 2, 3)]
    with np.load(npz) as z:
        np.testing.assert_array_equal(samples[4][1][0], z["y"][4])


def test_several_inputs_take_semicolon_parts_in_model_input_order(tmp_path):
    x, y = TensorInfo("x", (1, 8), "float32"), TensorInfo("y", (1, 2), "float32")
    np.save(tmp_path / "x.npy", _rand((3, 8)))
    np.save(tmp_path / "y.npy", _rand((3, 1, 2)))
    samples = load_dataset(f"{tmp_path / 'x.npy'} ; {tmp_path / 'y.npy'};", [x, y], Preprocess())
    assert len(samples) == 3 and [a.shape for a in samples[1]] == [(1, 8), (1, 2)]
    np.testing.assert_array_equal(samples[1][1], np.load(tmp_path / "y.npy")[1])


def test_an_input_with_a_batch_of_two_groups_rows(tmp_path):
    info = TensorInfo("x", (2, 5), "float32")
    rows = _rand((6, 5))
    np.save(tmp_path / "rows.npy", rows)
    np.save(tmp_path / "stack.npy", rows.reshape(3, 2, 5))
    for name in ("rows.npy", "stack.npy"):
        samples = load_dataset(str(tmp_path / name), [info], Preprocess())
        assert len(samples) == 3
        np.testing.assert_array_equal(samples[2][0], rows[4:])
    np.save(tmp_path / "odd.npy", rows[:5])
    assert "shape 5x5 does not match input 'x' 2x5" in _error(tmp_path / "odd.npy", [info])


def test_limit_stops_reading_before_a_later_bad_file(tmp_path):
    np.save(tmp_path / "a.npy", _rand((3, 49, 10, 1)))
    (tmp_path / "b.npy").write_bytes(b"garbage")
    assert len(load_dataset(str(tmp_path), [KWS], Preprocess(), limit=2)) == 2
    assert len(load_dataset(str(tmp_path), [KWS], Preprocess(), limit=3)) == 3
    assert str(tmp_path / "b.npy") in _error(tmp_path, [KWS], limit=4)
    np.savez(tmp_path / "c.npz", a=_rand((49, 10, 1)), b=np.array(["text"]))
    assert len(load_dataset(str(tmp_path / "c.npz"), [KWS], Preprocess(), limit=1)) == 1
    assert "must be at least 1" in _error(tmp_path, [KWS], limit=0)


def test_float16_and_integer_inputs_keep_their_dtype(tmp_path):
    half = TensorInfo("h", (1, 3), "float16")
    np.save(tmp_path / "h.npy", np.array([[1.5, -2.0, 3.0]]))
    (got,), = load_dataset(str(tmp_path / "h.npy"), [half], Preprocess())
    assert got.dtype == np.float16 and got.tolist() == [[1.5, -2.0, 3.0]]
    np.save(tmp_path / "big.npy", np.array([[1.0, 7e4, 0.0]]))
    assert "beyond the float16 range of input 'h'" in _error(tmp_path / "big.npy", [half])
    ids = TensorInfo("ids", (1, 3), "int32")
    np.save(tmp_path / "ids.npy", np.array([[1.0, 2.0, 3.0]]))
    (got,), = load_dataset(str(tmp_path / "ids.npy"), [ids], Preprocess())
    assert got.dtype == np.int32 and got.tolist() == [[1, 2, 3]]
    np.save(tmp_path / "frac.npy", np.array([[1.5, 2.0, 3.0]]))
    assert "is int32: values must be whole numbers" in _error(tmp_path / "frac.npy", [ids])
    np.save(tmp_path / "wide.npy", np.array([[1, 2, 2**40]]))
    assert "beyond the int32 range" in _error(tmp_path / "wide.npy", [ids])


# --- errors --------------------------------------------------------------------------------


def test_the_shape_error_names_file_and_input(tmp_path):
    np.save(tmp_path / "a.npy", _rand((1, 49, 10)))
    message = _error(tmp_path / "a.npy", [KWS])
    assert message.startswith(f"-cd {tmp_path / 'a.npy'}: shape 1x49x10 does not match input 'x:0' 1x49x10x1")
    np.savez(tmp_path / "b.npz", good=_rand((49, 10, 1)), bad=_rand((2, 2)))
    assert f"-cd {tmp_path / 'b.npz'}['bad']: shape 2x2 does not match" in _error(tmp_path / "b.npz", [KWS])


def test_missing_paths_empty_directories_and_unknown_files(tmp_path):
    assert _error(tmp_path / "nope", [KWS]) == f"-cd {tmp_path / 'nope'}: no such file or directory"
    np.save(tmp_path / "a.npy", _rand((1, 49, 10, 1)))
    listed = f"{tmp_path / 'a.npy'},{tmp_path / 'gone.npy'}"
    assert f"-cd {tmp_path / 'gone.npy'}: no such file" in _error(listed, [KWS])
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "labels.txt").write_text("cat\n")
    assert _error(tmp_path / "empty", [KWS]).startswith(f"-cd {tmp_path / 'empty'}: no .npy, .npz, .jpg")
    labels = tmp_path / "empty" / "labels.txt"
    assert f"-cd {labels}: not a calibration file" in _error(labels, [KWS])
    np.save(tmp_path / "zero.npy", np.zeros((0, 49, 10, 1), np.float32))
    assert _error(tmp_path / "zero.npy", [KWS]) == f"-cd {tmp_path / 'zero.npy'}: no samples for input 'x:0'"
    assert "no calibration data given" in _error("", [KWS])


def test_files_that_do_not_decode(tmp_path):
    np.save(tmp_path / "whole.npy", _rand((1, 49, 10, 1)))
    data = (tmp_path / "whole.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[:len(data) // 2])
    (tmp_path / "text.npy").write_text("1 2 3")
    (tmp_path / "text.npz").write_text("not a zip")
    (tmp_path / "single.npz").write_bytes(data)      # an .npy under an .npz name
    np.savez(tmp_path / "z.npz", a=_rand((49, 10, 1)))
    raw = bytearray((tmp_path / "z.npz").read_bytes())
    at = raw.find(b"NUMPY")                          # damage the member's header, not the zip index
    raw[at:at + 5] = b"XXXXX"
    (tmp_path / "broken.npz").write_bytes(bytes(raw))
    (tmp_path / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    (tmp_path / "text.jpg").write_text("hello")
    _image(tmp_path / "ok.png", _pixels(8, 8))
    png = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "short.png").write_bytes(png[:len(png) // 2])
    image = TensorInfo("im", (1, 3, 8, 8), "float32")
    cases = [("cut.npy", KWS, "not a readable .npy file"), ("text.npy", KWS, "not a readable .npy file"),
             ("text.npz", KWS, "not a readable .npz file"), ("single.npz", KWS, "not a .npz archive"),
             ("broken.npz", KWS, "not a readable array"), ("garbage.png", image, "not a readable image"),
             ("text.jpg", image, "not a readable image"), ("short.png", image, "not a readable image")]
    for name, info, needle in cases:
        message = _error(tmp_path / name, [info])
        assert message.startswith(f"-cd {tmp_path / name}") and needle in message, (name, message)


def test_non_numeric_complex_and_non_finite_values(tmp_path):
    np.save(tmp_path / "c.npy", _rand((1, 49, 10, 1)).astype(np.complex64))
    np.save(tmp_path / "s.npy", np.full((1, 49, 10, 1), "a"))
    nan = _rand((1, 49, 10, 1))
    nan[0, 3, 2, 0] = np.nan
    nan[0, 4, 0, 0] = np.inf
    np.save(tmp_path / "nan.npy", nan)
    np.save(tmp_path / "huge.npy", np.full((1, 49, 10, 1), 1e300))
    assert "dtype complex64 is complex" in _error(tmp_path / "c.npy", [KWS])
    assert "dtype <U1 is not numeric" in _error(tmp_path / "s.npy", [KWS])
    assert _error(tmp_path / "nan.npy", [KWS]) == \
        f"-cd {tmp_path / 'nan.npy'}: 2 NaN/inf value(s) (the first at index (0, 3, 2, 0))"
    assert f"{tmp_path / 'huge.npy'}: values beyond the float32 range" in _error(tmp_path / "huge.npy", [KWS])


def test_wrong_part_counts_and_sample_counts_between_inputs(tmp_path):
    x, y = TensorInfo("x", (1, 2), "float32"), TensorInfo("y", (1, 3), "float32")
    np.save(tmp_path / "x.npy", _rand((4, 2)))
    np.save(tmp_path / "y.npy", _rand((5, 3)))
    message = _error(tmp_path / "x.npy", [x, y])
    assert "1 ';'-separated part(s) for a model with 2 input(s) ('x', 'y')" in message
    message = _error(f"{tmp_path / 'x.npy'};{tmp_path / 'y.npy'}", [x, y], option="--calibrate-dataset")
    assert message.startswith("--calibrate-dataset: input 'x' has 4 sample(s)") and "input 'y' has 5" in message
    assert str(tmp_path / "y.npy") in message
    assert "part 1 (input 'x') is empty" in _error(f";{tmp_path / 'y.npy'}", [x, y])


def test_quantized_and_dynamic_inputs_are_refused(tmp_path):
    np.save(tmp_path / "q.npy", np.zeros((1, 4), np.int8))
    assert "input 'q' is int8: calibration data is for float inputs" in \
        _error(tmp_path / "q.npy", [TensorInfo("q", (1, 4), "int8")])
    assert "input 'u' is uint8" in _error(tmp_path / "q.npy", [TensorInfo("u", (1, 4), "uint8")])
    assert "no static shape" in _error(tmp_path / "q.npy", [TensorInfo("d", (-1, 4), "float32")])


# --- images --------------------------------------------------------------------------------


def test_png_without_resize_rgb_nchw_and_nhwc(tmp_path):
    pixels = _pixels(6, 5)
    _image(tmp_path / "a.png", pixels)
    nchw = TensorInfo("im", (1, 3, 6, 5), "float32")
    nhwc = TensorInfo("im", (1, 6, 5, 3), "float32")
    (a,), = load_dataset(str(tmp_path / "a.png"), [nchw], Preprocess())
    (b,), = load_dataset(str(tmp_path / "a.png"), [nhwc], Preprocess())
    np.testing.assert_array_equal(a, pixels.transpose(2, 0, 1)[None].astype(np.float32))
    np.testing.assert_array_equal(b, pixels[None].astype(np.float32))


def test_mean_scale_and_bgr(tmp_path):
    pixels = _pixels(4, 4)
    _image(tmp_path / "a.bmp", pixels)
    info = TensorInfo("im", (1, 4, 4, 3), "float32")
    pre = Preprocess(mean=(103.94, 116.78, 123.68), scale=0.017, pixel_format="BGR")
    (got,), = load_dataset(str(tmp_path / "a.bmp"), [info], pre)
    bgr = pixels[..., ::-1].astype(np.float32)
    want = (bgr - np.array([103.94, 116.78, 123.68], np.float32)) * np.float32(0.017)
    np.testing.assert_allclose(got[0], want, rtol=0, atol=1e-5)
    (got,), = load_dataset(str(tmp_path / "a.bmp"), [info], Preprocess(mean=(128,), scale=1 / 128))
    np.testing.assert_allclose(got[0], (pixels.astype(np.float32) - 128) / 128, rtol=0, atol=1e-6)


def test_grayscale_inputs_take_the_luminance(tmp_path):
    rgb = _pixels(5, 7)
    gray = _pixels(5, 7, c=1)
    _image(tmp_path / "rgb.png", rgb)
    _image(tmp_path / "gray.png", gray)
    info = TensorInfo("im", (1, 1, 5, 7), "float32")
    (a,), (b,) = load_dataset(f"{tmp_path / 'gray.png'},{tmp_path / 'rgb.png'}", [info], Preprocess())
    np.testing.assert_array_equal(a[0, 0], gray.astype(np.float32))
    luma = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(b[0, 0], luma, rtol=0, atol=1e-3)
    # and a grayscale image feeding a colour input is replicated into three channels
    (c,), = load_dataset(str(tmp_path / "gray.png"), [TensorInfo("im", (1, 5, 7, 3), "float32")], Preprocess())
    assert all(np.array_equal(c[0, ..., k], gray.astype(np.float32)) for k in range(3))


def test_bilinear_resize_matches_the_formula_and_opencv(tmp_path):
    # 1 x 2 -> 1 x 4 with half-pixel centres: sources -0.25, 0.25, 0.75, 1.25 (clamped)
    _image(tmp_path / "two.png", np.array([[[0, 0, 0], [40, 80, 200]]], np.uint8))
    row = TensorInfo("im", (1, 1, 4, 3), "float32")   # 1 at axis 1 would infer NCHW: say NHWC
    (got,), = load_dataset(str(tmp_path / "two.png"), [row], Preprocess(layout="NHWC"))
    np.testing.assert_allclose(got[0, 0, :, 0], [0, 10, 30, 40])
    np.testing.assert_allclose(got[0, 0, :, 2], [0, 50, 150, 200])
    pixels = _pixels(37, 53)
    _image(tmp_path / "a.png", pixels)
    for h, w in ((16, 24), (64, 80), (37, 20)):
        (got,), = load_dataset(str(tmp_path / "a.png"), [TensorInfo("im", (1, h, w, 3), "float32")], Preprocess())
        want = cv2.resize(pixels.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        assert np.abs(got[0] - want).max() < 2e-3, (h, w)


def test_data_resize_scales_the_shorter_side_then_crops_the_centre(tmp_path):
    pixels = _pixels(30, 50)                      # landscape: height is the shorter side
    _image(tmp_path / "a.png", pixels)
    info = TensorInfo("im", (1, 3, 20, 24), "float32")
    (got,), = load_dataset(str(tmp_path / "a.png"), [info], Preprocess(resize=22))
    resized = cv2.resize(pixels.astype(np.float32), (36, 22), interpolation=cv2.INTER_LINEAR)  # int(50*22/30)
    want = resized[1:21, 6:30].transpose(2, 0, 1)   # (22-20)//2, (36-24)//2
    assert np.abs(got[0] - want).max() < 2e-3
    _image(tmp_path / "tall.png", _pixels(50, 30))
    message = _error(tmp_path / "tall.png", [info], Preprocess(resize=23))
    assert message == (f"-r 23: {tmp_path / 'tall.png'} (30x50 pixels) resized to 23x38 is smaller than "
                       f"input 'im' (24x20 pixels)")


def test_jpeg_decodes_as_pillow_does_and_exif_orientation_applies(tmp_path):
    pixels = _pixels(8, 12)
    Image.fromarray(pixels).save(tmp_path / "a.jpg", quality=90)
    decoded = np.asarray(Image.open(tmp_path / "a.jpg").convert("RGB"), np.float32)
    (got,), = load_dataset(str(tmp_path / "a.jpg"), [TensorInfo("im", (1, 3, 8, 12), "float32")], Preprocess())
    np.testing.assert_array_equal(got[0], decoded.transpose(2, 0, 1))
    exif = Image.Exif()
    exif[0x0112] = 6                                # "rotate 90 degrees clockwise to display"
    Image.fromarray(pixels).save(tmp_path / "r.jpeg", exif=exif, quality=95)
    assert decode_image(str(tmp_path / "r.jpeg"), gray=False).shape == (12, 8, 3)


def test_explicit_layout_images_per_batch_and_mixed_directories(tmp_path):
    for k in range(4):
        _image(tmp_path / f"img{k}.png", np.full((3, 3, 3), 10 * k, np.uint8))
    ambiguous = TensorInfo("im", (1, 3, 3, 3), "float32")
    (a,), = load_dataset(str(tmp_path / "img1.png"), [ambiguous], Preprocess(layout="NHWC"))
    assert a.shape == (1, 3, 3, 3) and np.all(a == 10)
    batch2 = TensorInfo("im", (2, 3, 3, 3), "float32")
    samples = load_dataset(str(tmp_path), [batch2], Preprocess())
    assert len(samples) == 2 and [float(s[0][1].max()) for s in samples] == [10.0, 30.0]
    message = _error(",".join(str(tmp_path / f"img{k}.png") for k in range(3)), [batch2])
    assert f"{tmp_path / 'img2.png'}: 1 image(s) left over: input 'im' 2x3x3x3 takes 2 images" in message
    np.save(tmp_path / "z.npy", np.zeros((1, 3, 3, 3), np.float32))   # sorts after the images
    samples = load_dataset(str(tmp_path), [ambiguous], Preprocess())
    assert len(samples) == 5


def test_inputs_images_cannot_feed(tmp_path):
    _image(tmp_path / "a.png", _pixels(4, 4))
    cases = [(TensorInfo("v", (1, 16), "float32"), Preprocess(), "input 'v' 1x16 is not 4-d"),
             (TensorInfo("v", (1, 4, 4, 4), "float32"), Preprocess(), "NHWC has 4 channels"),
             (TensorInfo("v", (1, 3, 4, 4), "float32"), Preprocess(layout="NHWC"),
              "with --data-layout NHWC has 4 channels"),
             (TensorInfo("v", (1, 1, 4, 4), "float32"), Preprocess(mean=(1, 2, 3)),
              "-m '1 2 3': 3 values for input 'v' with 1 channel(s)"),
             (TensorInfo("v", (1, 3, 4, 4), "int32"), Preprocess(), "is int32: images feed float inputs")]
    for info, pre, needle in cases:
        message = _error(tmp_path / "a.png", [info], pre)
        assert needle in message, message


# --- options -------------------------------------------------------------------------------


def _parse(*argv):
    p = argparse.ArgumentParser()
    add_dataset_options(p)
    return p.parse_args(list(argv))


def test_options_parse_into_a_preprocess():
    args = _parse("-cd", "calib/", "-m", "1 2,3", "-s", "0.5", "-r", "40", "--pixel-format", "bgr",
                  "--data-layout", "nhwc")
    assert args.calibrate_dataset == "calib/"
    assert preprocess_from_args(args) == Preprocess((1.0, 2.0, 3.0), 0.5, 40, "BGR", "NHWC")
    assert preprocess_from_args(_parse()) == Preprocess()
    assert preprocess_from_args(argparse.Namespace()) == Preprocess()
    assert preprocess_from_args(_parse("--data-mean", "-123.7 -116.8 -103.9")).mean == (-123.7, -116.8, -103.9)
    assert preprocess_from_args(_parse("--data-scale=0.0078125", "--data-resize=256")).resize == 256


@pytest.mark.parametrize("argv, needle", [
    (("-m", "1 2"), "-m '1 2': 2 values"),
    (("-m", "1 x 3"), "-m '1 x 3': x is not a finite number"),
    (("-m", "nan"), "-m 'nan': nan is not a finite number"),
    (("-m", " "), "no values"),
    (("-s", "0"), "-s 0: the scale must not be 0"),
    (("-s", "half"), "-s 'half': half is not a finite number"),
    (("-r", "0"), "-r 0: must be at least 1"),
    (("-r", "1.5"), "-r 1.5: must be a whole number"),
    (("--pixel-format", "YUV"), "--pixel-format YUV: unknown (hhbc has: RGB, BGR)"),
    (("--data-layout", "NCWH"), "--data-layout NCWH: unknown (hhbc has: NCHW, NHWC)"),
])
def test_bad_option_values_are_one_line(argv, needle):
    with pytest.raises(HhbcError) as err:
        preprocess_from_args(_parse(*argv))
    assert needle in str(err.value) and "\n" not in str(err.value)
