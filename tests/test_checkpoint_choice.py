"""The newest checkpoint that reads whole is chosen; newer damaged ones are skipped with the reason."""

import torch

from nerfblend_ns.checkpoint_choice import checkpoint_problem, newest_readable_checkpoint


def _save(folder, step: int) -> None:
    torch.save({"step": step, "pipeline": {"w": torch.arange(1000.0)}}, folder / f"step-{step:09d}.ckpt")


def test_a_truncated_newest_checkpoint_is_skipped(tmp_path):
    for step in (100, 200, 300):
        _save(tmp_path, step)
    newest = tmp_path / "step-000000300.ckpt"
    newest.write_bytes(newest.read_bytes()[:-100])
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    chosen, skipped = newest_readable_checkpoint(tmp_path)
    assert chosen == tmp_path / "step-000000200.ckpt"
    assert [path for path, _ in skipped] == [newest] and "not a whole checkpoint" in skipped[0][1]


def test_a_checkpoint_with_a_flipped_byte_is_damaged(tmp_path):
    _save(tmp_path, 1)
    path = tmp_path / "step-000000001.ckpt"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the stored tensor: only the CRC tells
    path.write_bytes(bytes(data))
    assert checkpoint_problem(path) is not None


def test_no_whole_checkpoint(tmp_path):
    (tmp_path / "step-000000001.ckpt").write_bytes(b"")
    chosen, skipped = newest_readable_checkpoint(tmp_path)
    assert chosen is None and len(skipped) == 1
