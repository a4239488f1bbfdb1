"""Scanning the allowed folders: what a person sees on the Discover page."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from discovery.cache import TortoiseScanCache
from discovery.scan import ScanResult, scan_model_dirs
from tests.discovery.gguf_files import write_clip_projector, write_truncated_copy
from tests.tiny_gguf import write_tiny_llama


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    """A model folder as people keep them: models, a split model, a projector, a cache blob and debris."""
    root = tmp_path / "models"
    write_tiny_llama(root / "tiny.gguf")
    write_tiny_llama(root / "qwen" / "qwen-tiny.gguf", arch="qwen2", name="Qwen Tiny")
    write_tiny_llama(root / "big" / "split.gguf", name="Split Tiny", split_max_tensors=8)
    write_clip_projector(root / "qwen" / "mmproj-qwen-tiny.gguf")
    blob_dir = root / "hub" / "blobs"
    blob_dir.mkdir(parents=True)
    shutil.copy(root / "tiny.gguf", blob_dir / "9f2c1e")  # a GGUF without the extension
    (root / "README.md").write_text("my models\n")
    (root / "fake.gguf").write_text("this is not a model\n")
    write_truncated_copy(root / "tiny.gguf", root / "partial.gguf")
    write_tiny_llama(root / ".trash" / "old.gguf")  # hidden folders are not scanned
    return root


def paths(result: ScanResult, root: Path) -> dict[str, list[str]]:
    def rel(path: str) -> str:
        return str(Path(path).relative_to(root))

    return {"models": [rel(m.path) for m in result.models], "projectors": [rel(p.path) for p in result.projectors],
            "refused": [rel(r.path) for r in result.refused]}


async def test_finds_models_by_content_and_explains_refusals(models_dir: Path) -> None:
    result = await scan_model_dirs([models_dir])

    assert paths(result, models_dir) == {
        "models": ["big/split-00001-of-00003.gguf", "hub/blobs/9f2c1e", "qwen/qwen-tiny.gguf", "tiny.gguf"],
        "projectors": ["qwen/mmproj-qwen-tiny.gguf"],
        "refused": ["fake.gguf", "partial.gguf"],
    }
    reasons = {Path(r.path).name: r.reason for r in result.refused}
    assert reasons["fake.gguf"] == "not a GGUF file (it does not start with the GGUF magic bytes)"
    assert reasons["partial.gguf"].startswith("the file is truncated")
    qwen = next(m for m in result.models if m.info.architecture == "qwen2")
    assert qwen.info.name == "Qwen Tiny"


async def test_a_split_model_is_one_entry_covering_all_parts(models_dir: Path) -> None:
    result = await scan_model_dirs([models_dir])

    split = next(m for m in result.models if m.info.name == "Split Tiny")
    whole = next(m for m in result.models if m.path.endswith("tiny.gguf"))
    part_files = sorted((models_dir / "big").iterdir())
    assert [Path(p).name for p in split.parts] == [p.name for p in part_files]
    assert split.info.file_size == sum(p.stat().st_size for p in part_files)
    assert split.info.parameter_count == whole.info.parameter_count
    assert split.info.tensor_count == 21


async def test_a_split_model_with_a_missing_part_is_refused(models_dir: Path) -> None:
    (models_dir / "big" / "split-00002-of-00003.gguf").unlink()

    result = await scan_model_dirs([models_dir / "big"])

    assert result.models == ()
    assert [(Path(r.path).name, r.reason) for r in result.refused] == [
        ("split-00001-of-00003.gguf", "split model incomplete: part 2 of 3 missing")]


async def test_a_renamed_split_part_is_refused(models_dir: Path) -> None:
    big = models_dir / "big"
    (big / "split-00003-of-00003.gguf").rename(big / "last-part.gguf")

    result = await scan_model_dirs([big])

    reasons = {Path(r.path).name: r.reason for r in result.refused}
    assert reasons["last-part.gguf"] == ("part of a split model, but not named NAME-00001-of-0000N.gguf, "
                                         "so llama-server cannot find the other parts")
    assert reasons["split-00001-of-00003.gguf"] == "split model incomplete: part 3 of 3 missing"


async def test_a_link_is_listed_once_under_its_gguf_name(tmp_path: Path, models_dir: Path) -> None:
    snapshot = models_dir / "hub" / "snapshots"
    snapshot.mkdir()
    (snapshot / "tiny-q8.gguf").symlink_to(models_dir / "hub" / "blobs" / "9f2c1e")
    outside = write_tiny_llama(tmp_path / "elsewhere" / "secret.gguf")
    (models_dir / "escape.gguf").symlink_to(outside)

    result = await scan_model_dirs([models_dir])

    listed = paths(result, models_dir)
    assert "hub/snapshots/tiny-q8.gguf" in listed["models"]
    assert "hub/blobs/9f2c1e" not in listed["models"]
    reasons = {Path(r.path).name: r.reason for r in result.refused}
    assert reasons["escape.gguf"] == "links to a file outside the allowed model folders"


async def test_progress_counts_every_candidate_file(models_dir: Path) -> None:
    seen: list[tuple[int, int]] = []

    await scan_model_dirs([models_dir], on_progress=lambda done, total: seen.append((done, total)))

    candidates = 1 + 1 + 3 + 1 + 1 + 2  # tiny, qwen, split parts, projector, blob, fake + partial
    assert seen[0] == (0, candidates)
    assert seen[-1] == (candidates, candidates)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


async def test_a_missing_folder_gives_an_empty_result(tmp_path: Path) -> None:
    result = await scan_model_dirs([tmp_path / "not-there"])

    assert (result.models, result.projectors, result.refused) == ((), (), ())


async def scan_with_cache(db_file: Path, root: Path) -> ScanResult:
    """One start of the app: open the cache database, scan, close it again."""
    async with TortoiseContext() as context:
        await context.init(db_url=f"sqlite://{db_file}", modules={"models": ["db.gguf_cache"]})
        await context.generate_schemas(safe=True)
        return await scan_model_dirs([root], cache=TortoiseScanCache())


async def test_a_rescan_reads_only_changed_files_even_after_a_restart(tmp_path: Path, models_dir: Path) -> None:
    db_file = tmp_path / "cache.sqlite3"
    first = await scan_with_cache(db_file, models_dir)
    assert (first.files_read, first.files_cached) == (9, 0)

    again = await scan_with_cache(db_file, models_dir)  # a new app start on the same database
    assert (again.files_read, again.files_cached) == (0, 9)
    assert again.models == first.models
    assert again.refused == first.refused

    write_tiny_llama(models_dir / "tiny.gguf", name="Tiny Renamed")
    os.utime(models_dir / "fake.gguf", ns=(0, 1))  # touched: same content, new mtime
    changed = await scan_with_cache(db_file, models_dir)

    assert (changed.files_read, changed.files_cached) == (2, 7)
    tiny = next(m for m in changed.models if m.path.endswith("/tiny.gguf"))
    assert tiny.info.name == "Tiny Renamed"
