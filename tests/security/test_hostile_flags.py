"""Over the runner's real HTTP API with the real llama-server: flags and variables that would run programs,
write files, download, connect out or steer the loader are refused at once, and nothing appears on disk.

The runner is set up the way the dashboard embeds it: its work folder under the data folder, started
from a folder of its own (its cwd), the model folder beside them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psutil
import pytest

from protocol.config import ModelConfig
from protocol.flag_policy import ENV_ALLOWED
from protocol.status import ModelStatus
from runner.embedded import EmbeddedRunner, start_embedded_runner
from tests.runner.conftest import FAST, RunnerClient
from tests.tiny_gguf import write_tiny_llama


@dataclass
class Host:
    root: Path
    models: Path
    data: Path
    runner_home: Path  # the runner's working directory
    model: Path
    canary: Path  # exists only if something ran a program

    def files(self) -> set[Path]:
        """Every file and folder under the three places a mistake could write to."""
        return {path for place in (self.models, self.data, self.runner_home) for path in place.rglob("*")}


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Host:
    models = tmp_path / "models"
    model = write_tiny_llama(models / "tiny.gguf")
    write_tiny_llama(models / "adapter.gguf")
    (models / "mcp.json").write_text(json.dumps({"mcpServers": {"x": {"command": "touch",
                                                                       "args": [str(tmp_path / "PWNED")]}}}))
    (models / "escape.gguf").symlink_to(write_tiny_llama(tmp_path / "outside" / "secret.gguf"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "modeldeck.sqlite3").write_bytes(b"")  # what lives next to the runner's folder
    home = tmp_path / "runner-home"
    home.mkdir()
    monkeypatch.chdir(home)
    monkeypatch.setenv("MODELDECK_RUNNER_TOKEN", "the-dashboards-secret")
    monkeypatch.setenv("SOME_SECRET", "not for a model server")
    return Host(tmp_path, models, tmp_path / "data", home, Path(model), tmp_path / "PWNED")


@pytest.fixture
async def runner(host: Host, llama_server_binary: Path) -> AsyncIterator[RunnerClient]:
    embedded: EmbeddedRunner = await start_embedded_runner(
        llama_server=llama_server_binary, model_dirs=[host.models], work_dir=host.data / "runner",
        metrics_interval=0.2, allow_build=False, timing=FAST)
    async with aiohttp.ClientSession() as session:
        client = RunnerClient(embedded, session)
        try:
            await client.flags_known()
            yield client
        finally:
            await client.close()
            await embedded.close()


def hostile_arguments(host: Host) -> list[list[str]]:
    mcp = json.dumps({"mcpServers": {"x": {"command": "touch", "args": [str(host.canary)]}}})
    return [
        # programs and tools
        ["--mcp-servers-json", mcp], ["--mcp_servers_json", mcp],
        ["--mcp-servers-config", str(host.models / "mcp.json")], ["--tools", "all"], ["--tools", "exec_shell_command"],
        ["--tools-runtime", "ssh:attacker"], ["--agent"], ["-ag"],
        ["--video-ffmpeg-dir", str(host.models)], ["--temp", "--agent"], ["--alias", "x", "--agent"],
        # writing files
        ["--slot-save-path", str(host.data)], ["--log-file", str(host.data / "server.log")], ["--log-file", "x.log"],
        [f"--log-file={host.models / 'x.log'}"], ["--log-prompts-dir", str(host.models)],
        ["-lcd", str(host.models / "cache.bin")],
        # downloading
        ["-hf", "ggml-org/gemma-3-270m-GGUF"], ["--hf-repo", "ggml-org/gemma-3-270m-GGUF"],
        ["-mu", "http://127.0.0.1:9/x.gguf"], ["--model-url", "http://127.0.0.1:9/x.gguf"], ["-dr", "gemma3"],
        ["-mmu", "http://127.0.0.1:9/p.gguf"], ["-hfd", "ggml-org/x"], ["--gpt-oss-20b-default"], ["-hft", "hf_x"],
        # connecting out, and the server's network face
        ["--rpc", "127.0.0.1:50052"], ["--ui-mcp-proxy"], ["--host", "0.0.0.0"], ["--port", "80"],
        ["--api-key-file", str(host.models / "mcp.json")], ["--ssl-key-file", "/etc/ssl/private/key.pem"],
        ["--path", str(host.root)], ["--media-path", str(host.models)], ["--cors-origins", "*"],
        # other models, files outside the folders, flags the binary does not have
        ["-md", str(host.model)], ["--models-dir", str(host.models)], ["--lora", "/etc/passwd"],
        ["--lora", "adapter.gguf"], ["--lora", str(host.models / "escape.gguf")],
        ["--chat-template-file", str(host.models / ".." / "outside" / "secret.gguf")], ["--foo"],
    ]


HOSTILE_ENV = ["LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GLIBC_TUNABLES", "MALLOC_ARENA_MAX", "PATH", "HOME",
               "LLAMA_ARG_MCP_SERVERS_JSON", "LLAMA_ARG_LOG_FILE", "LLAMA_ARG_HOST", "HF_TOKEN", "LLAMA_CACHE",
               "OMP_TOOL_LIBRARIES", "GGML_BACKEND_PATH", "GGML_BACKTRACE_LLDB", "GGML_OPENCL_KERNEL_CACHE_DIR"]


async def test_hostile_flags_and_variables_are_refused_and_nothing_is_written(runner: RunnerClient,
                                                                              host: Host) -> None:
    before = host.files()
    refusals: dict[str, str] = {}
    configs = [ModelConfig(name="a", model_path=str(host.model), extra_args=args) for args in hostile_arguments(host)]
    configs += [ModelConfig(name="e", model_path=str(host.model), env={name: str(host.canary)})
                for name in HOSTILE_ENV]
    for config in configs:
        status, reply = await runner.post("/v1/start", {"config": config.model_dump(mode="json")})
        assert status == 409 and reply["accepted"] is False, (config.extra_args, config.env, reply)
        refusals[" ".join(config.extra_args) or next(iter(config.env))] = reply["reason"]
    for args in hostile_arguments(host):
        offender = "--agent" if "--agent" in args[1:] else args[0].split("=")[0]
        assert offender in refusals[" ".join(args)], refusals[" ".join(args)]
    for name in HOSTILE_ENV:
        assert refusals[name].startswith(f"{name} cannot be set for a model"), refusals[name]
    assert refusals[hostile_arguments(host)[0][0] + " " + hostile_arguments(host)[0][1]] == (
        "--mcp-servers-json is not allowed: it runs programs or tools")
    assert refusals["--foo"] == "llama-server 0.6.0-dev has no --foo"
    assert runner.runner.supervisor.servers == {}  # nothing was even prepared
    assert host.files() == before
    assert not host.canary.exists()


async def test_an_allowed_start_runs_in_its_own_empty_folder_with_a_clean_environment(
        runner: RunnerClient, host: Host) -> None:
    feed = await runner.feed()
    config = ModelConfig(name="ok", model_path=str(host.model), ctx_size=256, threads=1, batch_size=64,
                         extra_args=["--temp", "0.5", "-a", "org/tiny", "--chat-template-file",
                                     str(host.models / "template.jinja")], env={"OMP_NUM_THREADS": "1"})
    (host.models / "template.jinja").write_text("{% for m in messages %}{{ m.content }}{% endfor %}")
    before = host.files()
    status, reply = await runner.post("/v1/start", {"config": config.model_dump(mode="json")})
    assert status == 200, reply
    running = await feed.status(config.uid, ModelStatus.RUNNING, ModelStatus.ERROR, within=20)
    assert running.status is ModelStatus.RUNNING, running.reason
    server = psutil.Process(running.pid)
    work = (host.data / "runner" / config.uid).resolve()
    assert Path(server.cwd()) == work
    env = server.environ()
    assert env["OMP_NUM_THREADS"] == "1" and env["HOME"] == env["TMPDIR"] == str(work)
    assert set(env) <= {*ENV_ALLOWED, "HOME", "TMPDIR", "LD_LIBRARY_PATH", "LLAMA_API_KEY"}  # no token, no SOME_SECRET
    assert env["LLAMA_API_KEY"] == running.api_key  # its own key, added after the allowlist
    assert "--alias" not in server.cmdline()  # the configuration's own -a names it
    assert list(work.iterdir()) == []  # llama-server, loaded and serving, wrote nothing, even in its own folder
    assert host.files() - before == {work}
    await runner.stop(config.uid)
    await feed.status(config.uid, ModelStatus.STOPPED)
    assert host.files() == before  # its folder went with it
