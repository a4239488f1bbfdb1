"""Inputs that try to break ModelDeck: shell syntax, paths out of the model folders, flags the runner owns,
NUL bytes, huge strings, look-alike characters. Each must be refused with a message or kept literally."""

from __future__ import annotations

HUGE = "x" * 10_000_000


def hostile_inputs(canary: str) -> list[str]:
    """`canary`: a file that exists only if something ran a shell command."""
    return [
        f"; touch {canary}", f"$(touch {canary})", f"`touch {canary}`", f"| touch {canary}", f"&& touch {canary} &",
        "../../../../etc/passwd", "/etc/passwd", "..", "~/.ssh/id_rsa", "~nobody0/x.gguf", "models/../../secret.gguf",
        "--host 0.0.0.0", "--port=80", "--model /etc/passwd", "-m /etc/passwd", "--api-key secret", "--api_key=x",
        "--ssl-key-file=/etc/ssl/private/key.pem", "--lora ../evil.gguf",
        "a\x00b", "\x00", "line\nbreak", HUGE,
        # look-alikes: full-width '--host', em dash, minus signs, full-width letters
        "\uff0d\uff0dhost 0.0.0.0", "\u2014host 0.0.0.0", "\u2212\u2212model x", "--\uff48\uff4f\uff53\uff54=0.0.0.0",
        "' OR 1=1; DROP TABLE model_config; --", "<script>alert(1)</script>", "{{7*7}}", "\u202egguf.exe",
        "LD_PRELOAD=/tmp/evil.so", "LLAMA_ARG_HOST=0.0.0.0", "PATH=/tmp",
    ]
