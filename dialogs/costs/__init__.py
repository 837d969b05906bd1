"""The costs flow: the cost lines of one scenario, entered and read back line by line."""

from dialogs.costs.flow import CostsFlow
from dialogs.costs.state import Draft, Stage

__all__ = ["CostsFlow", "Draft", "Stage"]
