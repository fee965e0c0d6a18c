"""The ledger of a run's own files: the user's files are never claimed, replaced or deleted."""

import pytest

from nerfblend_ns.tracking.errors import TrackingError
from nerfblend_ns.tracking.workspace.written_files import WrittenFiles


def test_claims_survive_and_deletion_reaches_only_claimed_files(tmp_path):
    ledger = tmp_path / ".cache" / "written.txt"
    (tmp_path / "mine.txt").write_text("the user's")
    written = WrittenFiles(tmp_path, ledger)
    written.claim(["transforms.json", "images/000000.jpg"])
    (tmp_path / "transforms.json").write_text("{}")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "000000.jpg").write_bytes(b"jpg")
    reread = WrittenFiles(tmp_path, ledger)
    assert "transforms.json" in reread and "mine.txt" not in reread
    assert reread.foreign(["mine.txt", "transforms.json", "absent.png"]) == ["mine.txt"]
    assert reread.delete_all() == 2
    assert (tmp_path / "mine.txt").read_text() == "the user's" and not (tmp_path / "transforms.json").exists()
    assert not ledger.exists()


def test_a_users_file_cannot_be_claimed(tmp_path):
    (tmp_path / "transforms.json").write_text("the user's")
    with pytest.raises(TrackingError, match="transforms.json was not written by this tool"):
        WrittenFiles(tmp_path, tmp_path / "written.txt").claim(["masks/000001.png", "transforms.json"])
    assert not (tmp_path / "written.txt").exists()


def test_a_partial_last_line_grants_nothing(tmp_path):
    ledger = tmp_path / "written.txt"
    ledger.write_text("images/000000.jpg\ntransforms.js")  # killed mid-append
    (tmp_path / "transforms.json").write_text("the user's")
    assert WrittenFiles(tmp_path, ledger).foreign(["transforms.json", "images/000000.jpg"]) == ["transforms.json"]


def test_a_dangling_link_of_the_user_is_theirs(tmp_path):
    (tmp_path / "transforms.json").symlink_to(tmp_path / "elsewhere.json")
    assert WrittenFiles(tmp_path, tmp_path / "written.txt").foreign(["transforms.json"]) == ["transforms.json"]


def test_an_edited_ledger_cannot_reach_outside_the_folder(tmp_path):
    folder = tmp_path / "workspace"
    (folder / ".cache").mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (folder / ".hidden").write_text("keep")
    ledger = folder / ".cache" / "written.txt"
    ledger.write_text(f"../outside.txt\n{outside}\n.hidden\nimages/../../outside.txt\n")
    assert WrittenFiles(folder, ledger).delete_all() == 0
    assert outside.read_text() == "keep" and (folder / ".hidden").read_text() == "keep"
