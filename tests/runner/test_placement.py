"""Where a model runs, read from the lines llama-server logs while loading it (formats from llama.cpp's source:
llama.cpp `"%s: using device %s (%s) (%s) - %zu MiB free"`, llama-model.cpp `"%s: offloaded %d/%d layers to GPU"`).
A CPU build prints neither: the real-server case is in test_build (a model started during a build)."""

from __future__ import annotations

from protocol.messages import Placement
from runner.logs import parse_line, read_placement
from ui.components.card_face import placement_line

CUDA_LOAD = [
    "0.00.120.001 I llama_model_load_from_file_impl: using device CUDA0 (NVIDIA H200) (0000:19:00.0) - 142000 MiB free",
    "0.00.120.002 I llama_model_load_from_file_impl: using device CUDA1 (NVIDIA H200) (0000:3b:00.0) - 142000 MiB free",
    "0.00.300.000 I load_tensors: offloading output layer to GPU",
    "0.00.300.001 I load_tensors: offloading 32 repeating layers to GPU",
    "0.00.300.002 I load_tensors: offloaded 33/33 layers to GPU",
    "0.00.300.003 I load_tensors:        CUDA0 model buffer size =  4096.00 MiB",
]


def _placement(lines: list[str]) -> Placement | None:
    placement = None
    for raw in lines:
        placement = read_placement(parse_line(raw).text, placement)
    return placement


def test_the_gpus_used_and_the_layers_offloaded_come_from_the_load_lines() -> None:
    assert _placement(CUDA_LOAD) == Placement(devices=["CUDA0 (NVIDIA H200)", "CUDA1 (NVIDIA H200)"],
                                              layers_offloaded=33, layers_total=33)


def test_a_model_kept_on_the_cpu_by_a_gpu_build_says_none_offloaded() -> None:
    lines = [CUDA_LOAD[0], "0.00.300.002 I load_tensors: offloaded 0/33 layers to GPU"]
    assert _placement(lines) == Placement(devices=["CUDA0 (NVIDIA H200)"], layers_offloaded=0, layers_total=33)


def test_other_lines_say_nothing_about_placement() -> None:
    assert _placement(["0.00.010.615 I srv  llama_server: model loaded",
                       "0.00.013.403 I load_tensors:   CPU_Mapped model buffer size =     0.49 MiB"]) is None


def test_the_card_says_where_the_model_runs() -> None:
    assert placement_line(_placement(CUDA_LOAD)) == "on CUDA0 (NVIDIA H200), CUDA1 (NVIDIA H200) · 33 of 33 layers"
    assert placement_line(Placement()) == "on the CPU"
    assert placement_line(Placement(devices=["CUDA0 (NVIDIA H200)"], layers_offloaded=0, layers_total=33)) == (
        "on the CPU (0 of 33 layers on a GPU)")
    assert placement_line(None) == ""  # not said (the log was turned down): the card says nothing
