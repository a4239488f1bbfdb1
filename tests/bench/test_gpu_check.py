"""bench/gpu_check.sh runs only where a GPU is lent, so its CPU dry run is kept working here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.tiny_gguf import write_tiny_llama

ROOT = Path(__file__).resolve().parents[2]


def test_the_gpu_check_dry_run_starts_a_model_twice_and_prints_the_ratio(llama_server_binary: Path,
                                                                          tmp_path: Path) -> None:
    model = write_tiny_llama(tmp_path / "models" / "check.gguf")
    env = {**os.environ, "GPU_CHECK_CPU_ONLY": "1", "PY": sys.executable,
           "PATH": f"{llama_server_binary.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh"), str(model)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.count("card: running") == 2
    assert "llama-server's own timings:" in done.stdout
    assert "== generation speed, all layers offloaded / the CPU:" in done.stdout
