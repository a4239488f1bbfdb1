"""Scanning a model folder of 1,000 files cold, then again with the SQLite cache warm, and the look
the app takes at the folders every few seconds to pick up new files by itself.

The folder holds small generated llama GGUFs, a few with a 32k-token vocabulary, split models,
projectors and some debris (a README, a fake .gguf). The cold scan reads every header and fills
the cache; the cached scan only lists, stats and looks up; the look only lists and stats (it scans
only when that listing changed). Prints the times, their ratios, and the look's share of one core
at the default pace.
Run: .venv/bin/python bench/discovery_scan.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import gguf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tortoise.context import TortoiseContext

from discovery.cache import TortoiseScanCache
from discovery.scan import ScanResult, list_model_dirs, scan_model_dirs
from settings import Settings
from tests.discovery.gguf_files import write_clip_projector
from tests.tiny_gguf import write_tiny_llama


def write_large_vocab(path: Path, n_tokens: int = 32_000) -> Path:
    """A header as big as a real 7B model's (32k tokens with scores), without its weights."""
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("large-vocab")
    writer.add_token_list([f"piece{i}" for i in range(n_tokens)])
    writer.add_token_scores([0.0] * n_tokens)
    writer.add_tensor("output_norm.weight", gguf.np.ones(8, dtype=gguf.np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def build_folder(root: Path, count: int) -> None:
    """`count` files: copies of a few templates under model-like names, in folders of 100."""
    templates = root / "templates"
    small = write_tiny_llama(templates / "small.gguf", n_embd=8, n_layer=1, n_head=2, n_head_kv=1, n_ff=8).read_bytes()
    large = write_large_vocab(templates / "large.gguf").read_bytes()
    projector = write_clip_projector(templates / "mmproj.gguf").read_bytes()
    write_tiny_llama(root / "models" / "split" / "big.gguf", n_embd=8, n_layer=1, n_head=2, n_head_kv=1, n_ff=8,
                     split_max_tensors=4)  # 3 parts
    written = 3
    for index in range(count - written):
        folder = root / "models" / f"shelf-{index // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        if index % 100 == 0:
            (folder / "README.md").write_text("notes\n")  # not a candidate: ignored
        if index % 250 == 1:
            (folder / f"broken-{index}.gguf").write_text("not a model\n")
        elif index % 50 == 2:
            (folder / f"mmproj-{index}.gguf").write_bytes(projector)
        elif index % 20 == 3:
            (folder / f"large-{index}.gguf").write_bytes(large)
        else:
            (folder / f"small-{index}.gguf").write_bytes(small)


async def timed_scan(db_file: Path, models: Path) -> tuple[float, ScanResult]:
    async with TortoiseContext() as context:
        await context.init(db_url=f"sqlite://{db_file}?synchronous=NORMAL", modules={"models": ["db.gguf_cache"]})
        await context.generate_schemas(safe=True)
        started = time.perf_counter()
        result = await scan_model_dirs([models], cache=TortoiseScanCache())
        return time.perf_counter() - started, result


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="modeldeck-scan-bench-") as tmp:
        root = Path(tmp)
        build_folder(root, count)
        db_file = root / "cache.sqlite3"
        cold, first = await timed_scan(db_file, root / "models")
        cached, again = await timed_scan(db_file, root / "models")
        assert again.models == first.models and again.files_read == 0
        print(f"files: {first.files_read} read; {len(first.models)} models, {len(first.projectors)} projectors, "
              f"{len(first.refused)} refused")
        print(f"cold scan:   {cold:7.3f} s  ({cold / first.files_read * 1000:.2f} ms a file)")
        print(f"cached scan: {cached:7.3f} s  ({again.files_cached} files from the cache)")
        print(f"ratio cold / cached: {cold / cached:.1f}x")
        looks = 5
        started = time.perf_counter()
        for _ in range(looks):
            assert list_model_dirs([root / "models"]) == again.listing
        look = (time.perf_counter() - started) / looks
        every = Settings().rescan_s
        print(f"look (list + stat, no change): {look:7.3f} s  (ratio cached scan / look: {cached / look:.1f}x; "
              f"every {every:g} s: {look / every * 100:.2f} % of one core)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="files in the folder (default 1000)")
    asyncio.run(main(parser.parse_args().files))
