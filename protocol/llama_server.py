"""The words for the llama-server binary a runner uses: where it stands, how it is built, for which accelerator."""

from enum import StrEnum


class LlamaBackend(StrEnum):
    """What a llama-server build computes on (llama.cpp's GGML backends)."""

    CPU = "cpu"
    CUDA = "cuda"
    ROCM = "rocm"
    VULKAN = "vulkan"
    METAL = "metal"


class ServerPhase(StrEnum):
    """The runner's binary: being looked for, ready, being built from source, or unavailable (with a reason)."""

    LOOKING = "looking"
    READY = "ready"
    BUILDING = "building"
    FAILED = "failed"


class BuildStage(StrEnum):
    """The steps of a build from source, in order."""

    DOWNLOADING = "downloading"
    UNPACKING = "unpacking"
    CONFIGURING = "configuring"
    COMPILING = "compiling"
    INSTALLING = "installing"
