"""Bad tensors given to the Python API get one clear line, before any model runs."""

import pytest
import torch

from xstyle.data import load_digits
from xstyle.explain.attribution.targets import StyleLossTarget
from xstyle.gan import GANConfig, GANTrainer
from xstyle.gan.classifier import DigitClassifier, evaluate_classifier
from xstyle.gan.dcgan import Generator
from xstyle.gan.metrics import evaluate_generator
from xstyle.images import ImageError, check_rgb, resize_image, save_image, to_pil
from xstyle.losses import content_loss, gram_matrix, style_loss
from xstyle.report.gan import GANReportConfig
from xstyle.report.style import StyleReportConfig
from xstyle.stylizer import stylize
from xstyle.transfer import TransferConfig

IMAGE = torch.rand(1, 3, 20, 24, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(
    ("image", "error", "match"),
    [
        ("a.png", TypeError, "must be a torch.Tensor"),
        (IMAGE[0], ValueError, r"unsqueeze\(0\)"),
        (torch.rand(1, 4, 8, 8), ValueError, r"got \(1, 4, 8, 8\).*load_image"),
        ((IMAGE * 255).to(torch.uint8), TypeError, "divide 0..255 pixels by 255"),
        (IMAGE * 255, ValueError, r"values in \[0, 1\].*divide 0..255"),
        (IMAGE * float("nan"), ValueError, "NaN"),
    ],
)
def test_check_rgb_names_the_problem_and_the_fix(image, error, match):
    with pytest.raises(error, match=match) as info:
        check_rgb(image, name="photo")
    assert "\n" not in str(info.value)


def test_check_rgb_accepts_images_and_rounding_overshoot():
    check_rgb(IMAGE, name="photo")
    check_rgb((IMAGE * 1.0005).clamp(max=1.0005), name="photo")
    with pytest.raises(ValueError, match=r"\(1, 3, H, W\)"):
        check_rgb(IMAGE.repeat(2, 1, 1, 1), name="photo", single=True)


def test_writing_nan_or_0_255_images_is_refused(tmp_path):
    with pytest.raises(ValueError, match="NaN"):
        save_image(IMAGE * float("nan"), tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"divide 0\.\.255"):
        to_pil(IMAGE * 255)
    assert not list(tmp_path.iterdir())
    assert to_pil(IMAGE * 1.01).getextrema()[0][1] == 255  # slight overshoot is clipped


def test_stylize_and_targets_check_their_images(caffe_vgg):
    with pytest.raises(ValueError, match=r"divide 0\.\.255"):
        stylize(torch.nn.Identity(), IMAGE * 255)
    with pytest.raises(ValueError, match="style contains NaN"):
        StyleLossTarget(caffe_vgg, IMAGE * float("nan"))


def test_vgg_refuses_non_rgb_and_float64_inputs(caffe_vgg):
    with pytest.raises(ValueError, match=r"RGB images \(N, 3, H, W\).*got shape \(1, 4, 16, 16\)"):
        caffe_vgg(torch.rand(1, 4, 16, 16))
    with pytest.raises(ValueError, match=r"float64 image \(call \.float\(\)"):
        caffe_vgg(torch.rand(1, 3, 16, 16, dtype=torch.float64))


def test_resize_image_checks_shape_and_size():
    with pytest.raises(ImageError, match=r"\(N, 3, H, W\)"):
        resize_image(IMAGE[0], 20)
    for size in [(0, 10), (-4, 10), (20,)]:
        with pytest.raises(ImageError, match="pair of ints"):
            resize_image(IMAGE, size)
    assert resize_image(IMAGE, (16, 18)).shape == (1, 3, 16, 18)


@pytest.mark.parametrize("size", ["32", 32.5])
def test_transfer_config_size_must_be_an_int(size):
    with pytest.raises(TypeError, match="whole number of pixels"):
        TransferConfig(size=size)


def test_gan_functions_want_digit_data_not_tensors():
    images = load_digits("heldout").images[:20]
    with pytest.raises(TypeError, match="must be DigitData"):
        evaluate_generator(Generator(), DigitClassifier(), images, n_samples=4)
    with pytest.raises(TypeError, match="must be DigitData"):
        evaluate_classifier(DigitClassifier(), images)
    with pytest.raises(TypeError, match="must be DigitData"):
        GANTrainer(images, config=GANConfig(epochs=1))


def test_losses_name_a_missing_layer_and_mismatched_shapes():
    f = {"relu1_1": torch.rand(1, 4, 6, 6)}
    with pytest.raises(ValueError, match=r"no layer 'relu2_1'.*it has 'relu1_1'"):
        content_loss(f, {"relu2_1": torch.rand(1, 4, 6, 6)})
    with pytest.raises(ValueError, match="same size"):
        content_loss(f, {"relu1_1": torch.rand(1, 4, 5, 6)})
    with pytest.raises(ValueError, match=r"need \(1, 4, 4\)"):
        style_loss(f, {"relu1_1": torch.rand(1, 3, 3)})
    good = style_loss(f, {"relu1_1": gram_matrix(torch.rand(1, 4, 6, 6))})
    assert good.total.shape == (1,)


def test_a_layer_past_a_truncated_vgg_says_where_the_model_stops():
    from xstyle.hooks import resolve_layers
    from xstyle.models.vgg import load_vgg19

    short = load_vgg19("random", last_layer="relu2_1", seed=0)
    with pytest.raises(ValueError, match=r"stops at 'relu2_1', before 'relu4_2'.*last_layer='relu4_2'"):
        resolve_layers(short, ["relu1_1", "relu4_2"])
    with pytest.raises(ValueError, match=r"must be a layer name from list_layers\(model\); got 'relu1_9'"):
        resolve_layers(short, "relu1_9")


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: StyleReportConfig(n_steps=0), "n_steps must be an integer >= 1; got 0"),
        (lambda: StyleReportConfig(top_pairs=2.0), "top_pairs must be an integer >= 1; got 2.0"),
        (lambda: StyleReportConfig(size=16), "size must be a whole number of pixels >= 32; got 16"),
        (lambda: GANReportConfig(digits=True), "digits must be an integer >= 1; got True"),
        (lambda: GANReportConfig(n_quality=1), "n_quality must be at least 2; got 1"),
    ],
)
def test_report_configs_reject_bad_counts(make, match):
    with pytest.raises(ValueError, match=match):
        make()
