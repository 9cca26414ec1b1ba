"""Wake-ups: tell waiting claimers that a queue has work. In-process, or across nodes through
PostgreSQL LISTEN/NOTIFY."""

from jobyard.notify.local import LocalNotifier
from jobyard.notify.protocol import Notifier

__all__ = ["LocalNotifier", "Notifier"]
