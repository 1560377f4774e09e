"""Every name the app's telemetry is read back by: spans, their attributes, metrics, units.

The workbook (infra/workbook.bicep) and the README's KQL query these names; they change together.
Attribute names follow OpenTelemetry's semantic conventions where one exists (http.*, server.*,
messaging.*, error.type); the rest are the app's own, under `notify.` and `teams.`.
"""

from __future__ import annotations

# The instrumentation scope: the tracer and meter name every span and metric carries.
SCOPE = "proactive-notify"

# Span names. HTTP spans are named "<METHOD> <route>"; a work item's is "process <kind>".
PROCESS = "process"
TIMER_RUN = "notify_timer"

# Span attributes.
NOTIFICATION_ID = "notify.notification.id"
NOTIFICATION_PATH = "notify.notification.path"  # INLINE or QUEUED
INLINE = "inline"  # sent within the request that asked for it
QUEUED = "queued"  # sent by work items on the queue
WORK_KIND = "notify.work.kind"
WORK_REDELIVERED = "notify.work.redelivered"
WORK_AGE = "notify.work.age_seconds"
DELIVERY_MATCHED = "notify.delivery.matched"
DELIVERY_OUTCOME_PREFIX = "notify.delivery."  # + an outcome: how many targets ended so in a run
TENANT_HASH = "teams.tenant.hash"
CHANNEL = "notify.channel"  # the Bot Framework channel id ("msteams"), not a Teams channel
OUTCOME = "notify.outcome"
API = "notify.api"  # which service a client call or a throttle was: "connector" or "graph"
NOTIFICATION_STATE = "notify.notification.state"

HTTP_METHOD = "http.request.method"
HTTP_ROUTE = "http.route"
HTTP_STATUS = "http.response.status_code"
URL_TEMPLATE = "url.template"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"
MESSAGING_SYSTEM = "messaging.system"
MESSAGING_DESTINATION = "messaging.destination.name"
MESSAGING_OPERATION = "messaging.operation.type"
MESSAGING_MESSAGE_ID = "messaging.message.id"
MESSAGING_DELIVERY_COUNT = "messaging.message.delivery_count"
AZURE_QUEUE = "azure.storage.queue"

CONNECTOR = "connector"
GRAPH = "graph"
CALLBACK = "callback"
# A callback's client span is named by this, never by the caller's URL (its query may hold a key).
CALLBACK_TEMPLATE = "{callback url}"

# Metrics (instrument name, unit).
SENDS = "notify.sends"  # counter: a target's outcome, once written; by outcome and channel
RETRIES = "notify.send.retries"  # counter: a send tried again; by tenant and status
THROTTLED = "notify.throttled"  # counter: 429s answered; by tenant and api
BUDGET_WAIT = "notify.tenant_budget.wait"  # histogram (s): a send's wait for its tenant's turn
QUEUE_AGE = "notify.queue.age"  # histogram (s): a work item's age when a run picks it up
NOTIFICATION_DURATION = "notify.notification.duration"  # histogram (s): creation to settled
CALLBACK_DELIVERIES = "notify.callback.deliveries"  # counter: by outcome

SECONDS = "s"
SENDS_UNIT = "{send}"
RETRIES_UNIT = "{retry}"
RESPONSES_UNIT = "{response}"
DELIVERIES_UNIT = "{delivery}"

# A callback delivery tried again later (notify.outcome of CALLBACK_DELIVERIES; the others are
# the engagement store's settled states, "delivered" and "gaveUp").
RETRYING = "retrying"
