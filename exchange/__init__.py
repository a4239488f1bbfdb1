"""Configurations as files: ModelDeck's own export, a llama-swap config.yaml, a llama-server models preset (INI),
and a llama-server command line, each read into candidates for the store to check and import.

Nothing here touches the database or the deck: the readers are pure functions of the file's bytes and the
runner's flag catalog. Every way a file can be unreadable is an UnreadableFile with a message for a person.
"""

from exchange.candidates import Candidate, ImportFile, UnreadableFile
from exchange.command_line import read_command_line, split_command_line
from exchange.document import export_document
from exchange.reading import FILE_MAX, read_import

__all__ = ["FILE_MAX", "Candidate", "ImportFile", "UnreadableFile", "export_document", "read_command_line",
           "read_import", "split_command_line"]
