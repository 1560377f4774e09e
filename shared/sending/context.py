"""What the pipeline's steps share, grouped so that no constructor takes a long list of parts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.channel.connector import BotConnector
from shared.channel.service_urls import ServiceUrlPolicy
from shared.notifications.notification_store import NotificationStore
from shared.notifications.outcome_store import OutcomeStore
from shared.notifications.outcome_writer import OutcomeWriter
from shared.notifications.prompt_store import PromptStore
from shared.sending.cancellation import CancelWatch
from shared.storage.queues import WorkQueue
from shared.storage.reference_store import ReferenceStore


@dataclass(frozen=True)
class WorkContext:
    """The records every step reads and writes, the queue it hands work on through, and the clock
    it stamps them with: one set per process."""

    notifications: NotificationStore
    outcomes: OutcomeStore
    outcome_writer: OutcomeWriter  # the process's one: see outcome_writer
    prompts: PromptStore
    references: ReferenceStore
    queue: WorkQueue
    cancel_watch: CancelWatch
    clock: Callable[[], datetime]


@dataclass(frozen=True)
class TeamsAccess:
    """How a step asks Teams itself (rosters, channel lists), and which hosts it may ask."""

    connector: BotConnector
    service_urls: ServiceUrlPolicy
