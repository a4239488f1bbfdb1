"""Model discovery: find GGUF files in the allowed folders, describe them, suggest a config, estimate fit.

The public surface; the modules behind it each hold one idea (metadata, scan, cache, suggest, fit).
"""

from discovery.cache import ScanCache, TortoiseScanCache
from discovery.fit import FitEstimate, FreeMemory, estimate_fit, free_memory, kv_cache_bytes
from discovery.metadata import GgufError, GgufInfo, read_gguf_info
from discovery.scan import FolderListing, FoundModel, RefusedFile, ScanResult, list_model_dirs, scan_model_dirs
from discovery.suggest import NotAModelError, default_context, suggest_config

__all__ = [
    "FitEstimate",
    "FolderListing",
    "FoundModel",
    "FreeMemory",
    "GgufError",
    "GgufInfo",
    "NotAModelError",
    "RefusedFile",
    "ScanCache",
    "ScanResult",
    "TortoiseScanCache",
    "default_context",
    "estimate_fit",
    "free_memory",
    "kv_cache_bytes",
    "list_model_dirs",
    "read_gguf_info",
    "scan_model_dirs",
    "suggest_config",
]
