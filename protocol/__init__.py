"""The vocabulary every part of ModelDeck shares: statuses, model configurations, runner messages.

db, store, ui, the live-sync client and the runner all import from here, so there is one
status enum and one configuration schema and never a mapping table between layers.
"""

from protocol.config import ModelConfig, RestartPolicy
from protocol.status import ModelStatus

__all__ = ["ModelConfig", "ModelStatus", "RestartPolicy"]
