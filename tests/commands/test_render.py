"""`nerfblend-render` on a tiny trained avatar: every subcommand's outputs, and what it refuses."""

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import write_workspace
from PIL import Image

from nerfblend_ns.avatar.frame_rendering import ground_truth_rgb, render_rgb
from nerfblend_ns.avatar.loading import load_avatar
from nerfblend_ns.commands.render import entrypoint
from nerfblend_ns.commands.render_modes.summary import enlarged

# The install script provides it; a GPU machine set up with the runtime packages only may not.
av = pytest.importorskip("av")

pytestmark = pytest.mark.slow

SIZE = 48  # training frames; the driving workspace's are 32


def render(avatar, monkeypatch, *args: str) -> None:
    monkeypatch.chdir(avatar.root)
    entrypoint(list(args))


def refused(avatar, monkeypatch, capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        render(avatar, monkeypatch, *args)
    assert exit_info.value.code == 2
    return " ".join(capsys.readouterr().err.split())


def video_frames(path: Path) -> list:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def head_pixels(image: np.ndarray) -> int:
    """Pixels that are not background white."""
    return int((image < 200).any(axis=-1).sum())


def test_reenact_renders_every_driving_frame(tiny_avatar, monkeypatch):
    render(tiny_avatar, monkeypatch, "reenact", "--load-config", str(tiny_avatar.config), "--driving", "driving",
           "--downscale", "4", "--output-format", "both", "--output-path", "renders/reenact.mp4")
    frames = video_frames(tiny_avatar.root / "renders/reenact.mp4")
    pngs = sorted((tiny_avatar.root / "renders/reenact").glob("*.png"))
    assert len(frames) == len(pngs) == 5
    assert frames[0].shape == (SIZE // 4, SIZE // 4, 3) and Image.open(pngs[0]).size == (SIZE // 4, SIZE // 4)


def test_reenact_can_film_through_the_driving_cameras(tiny_avatar, monkeypatch):
    render(tiny_avatar, monkeypatch, "reenact", "--load-config", str(tiny_avatar.config), "--driving", "driving",
           "--use-driving-poses", "--max-frames", "2", "--downscale", "2", "--output-path", "renders/posed.mp4")
    frames = video_frames(tiny_avatar.root / "renders/posed.mp4")
    assert len(frames) == 2 and frames[0].shape == (16, 16, 3)


def test_reenact_refuses_other_coefficients(tiny_avatar, monkeypatch, capsys, tmp_path):
    other = write_workspace(tmp_path / "other", num_coefficients=3)
    message = refused(tiny_avatar, monkeypatch, capsys, "reenact", "--load-config", str(tiny_avatar.config),
                      "--driving", str(other))
    assert "are not the model's 4" in message and "missing jawOpen" in message


def test_edit_sets_scales_and_animates_on_the_test_frames(tiny_avatar, monkeypatch, capsys):
    render(tiny_avatar, monkeypatch, "edit", "--load-config", str(tiny_avatar.shaped_config), "--downscale", "2",
           "--set", "jawOpen=1", "--scale", "browRaise=2", "--animate", "mouthSmile:0:1",
           "--output-path", "renders/edit.mp4")
    frames = video_frames(tiny_avatar.root / "renders/edit.mp4")
    assert len(frames) == 2 and frames[0].shape == (SIZE // 2, SIZE // 2, 3)  # 16 frames × 0.125 held out
    assert "edit: wrote 2 frames" in capsys.readouterr().out
    message = refused(tiny_avatar, monkeypatch, capsys, "edit", "--load-config", str(tiny_avatar.config),
                      "--set", "jawOpn=1")
    assert "no coefficient 'jawOpn'; did you mean jawOpen?" in message


def test_orbit_writes_the_requested_frames(tiny_avatar, monkeypatch):
    render(tiny_avatar, monkeypatch, "orbit", "--load-config", str(tiny_avatar.config), "--frame", "1",
           "--yaw-degrees", "60", "--num-frames", "3", "--downscale", "4", "--output-format", "png",
           "--output-path", "renders/orbit.mp4")
    pngs = sorted((tiny_avatar.root / "renders/orbit").glob("*.png"))
    assert [png.name for png in pngs] == ["00000.png", "00001.png", "00002.png"]
    assert not (tiny_avatar.root / "renders/orbit.mp4").exists()


def test_bases_grid_has_a_labelled_tile_per_basis(tiny_avatar, monkeypatch):
    render(tiny_avatar, monkeypatch, "bases", "--load-config", str(tiny_avatar.shaped_config), "--downscale", "2",
           "--output-path", "renders/bases.png")
    grid = np.asarray(Image.open(tiny_avatar.root / "renders/bases.png").convert("RGB"))
    tile, caption = SIZE // 2, 14
    assert grid.shape == (2 * (tile + caption), 3 * tile, 3)  # h0 and 4 bases, 3 per row
    neutral, jaw = grid[:tile, :tile], grid[:tile, tile : 2 * tile]
    # The fitted geometry grows from the neutral ball to the jawOpen ball.
    assert head_pixels(jaw) > 1.5 * head_pixels(neutral) > 0
    assert head_pixels(grid[tile : tile + caption]) > 0  # captions are drawn


def test_compare_puts_ground_truth_beside_prediction(tiny_avatar, monkeypatch):
    render(tiny_avatar, monkeypatch, "compare", "--load-config", str(tiny_avatar.config), "--downscale", "2",
           "--output-path", "renders/compare.mp4")
    frames = video_frames(tiny_avatar.root / "renders/compare.mp4")
    assert len(frames) == 2 and frames[0].shape == (SIZE // 2, SIZE, 3)


def test_summary_writes_a_picture_of_the_test_frames_and_a_clip_driven_by_them(tiny_avatar, monkeypatch, capsys):
    render(tiny_avatar, monkeypatch, "summary", "--load-config", str(tiny_avatar.shaped_config), "--downscale", "2",
           "--blend-steps", "3", "--min-width", str(SIZE), "--output-path", "renders/summary.mp4")
    printed = capsys.readouterr().out
    picture = np.asarray(Image.open(tiny_avatar.root / "renders/summary.png").convert("RGB"))
    # Both test frames (16 × 0.125), each ground truth | prediction | error, renders of SIZE / 2 enlarged twice.
    assert picture.shape == (2 * SIZE, 3 * SIZE, 3)
    dataset = load_avatar(tiny_avatar.shaped_config).pipeline.datamanager.eval_dataset
    for row, index in enumerate((0, 1)):
        truth = enlarged(ground_truth_rgb(dataset, index, SIZE // 2, SIZE // 2), SIZE)
        assert np.array_equal(picture[row * SIZE : (row + 1) * SIZE, :SIZE], truth)
    frames = video_frames(tiny_avatar.root / "renders/summary.mp4")
    assert len(frames) == 4 and frames[0].shape == (SIZE, SIZE, 3)  # 3 steps from the first test frame to the second
    assert "test frames [0, 1] in renders/summary.png" in printed
    assert "summary: wrote 4 frames to renders/summary.mp4" in printed


def test_refuses_a_run_without_checkpoint(tiny_avatar, monkeypatch, capsys, tmp_path):
    config = yaml.load((tiny_avatar.root / tiny_avatar.config).read_text(), Loader=yaml.Loader)
    config.timestamp = "never-trained"
    orphan = tmp_path / "config.yml"
    orphan.write_text(yaml.dump(config))
    message = refused(tiny_avatar, monkeypatch, capsys, "orbit", "--load-config", str(orphan))
    assert "no checkpoint in out/ws/nerfblend-small/never-trained/nerfstudio_models" in message


def test_refuses_a_run_of_another_method(tiny_avatar, monkeypatch, capsys, tmp_path):
    from nerfstudio.configs.method_configs import all_methods

    other = tmp_path / "config.yml"
    other.write_text(yaml.dump(all_methods["instant-ngp"]))
    message = refused(tiny_avatar, monkeypatch, capsys, "bases", "--load-config", str(other))
    assert "a 'instant-ngp' run; this command needs a run of a nerfblend method" in message


def test_viewer_controls_drive_cameras_without_coefficients(tiny_avatar, monkeypatch):
    monkeypatch.chdir(tiny_avatar.root)
    avatar = load_avatar(tiny_avatar.shaped_config)
    model, cameras = avatar.model, avatar.pipeline.datamanager.eval_dataset.cameras
    neutral = head_pixels(render_without_coefficients(model, cameras[0:1]))
    jaw = model.expression_controls.sliders.shown[0]
    jaw.value = jaw.max
    jaw.cb_hook(jaw)
    assert head_pixels(render_without_coefficients(model, cameras[0:1])) > 1.5 * neutral
    # A camera's own coefficients still come first.
    assert head_pixels(render_rgb(model, cameras[0], torch.zeros(model.expression_space.num_coefficients))) < 1.2 * neutral


def render_without_coefficients(model, camera) -> np.ndarray:
    """[H, W, 3] uint8 render of a camera carrying no coefficients, as the viewer's and ns-render's cameras."""
    camera.metadata = None
    with torch.no_grad():
        return (model.get_outputs_for_camera(camera.to(model.device))["rgb"] * 255).byte().cpu().numpy()
