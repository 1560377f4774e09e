// The "Proactive notifications" workbook, shared and listed under the Application Insights
// component: where a notification is, how fast it sends against the channel's 50 per second per
// tenant, how targets ended, which tenants were throttled or waited for their budget, how old
// work items were when picked up, and how long recent notifications took.
//
// Every query reads the names in shared/telemetry/names.py, as the Azure Monitor exporter maps
// them: SERVER and CONSUMER spans are rows of `requests` (their attributes in customDimensions,
// as strings), CLIENT spans of `dependencies`, metrics of `customMetrics` (one row per series and
// export interval: valueSum, valueCount, valueMax). The README's KQL repeats these queries, and
// tools/render_workbook.py draws the same panels from a local capture: the three change together.
@description('The Application Insights component the workbook reads and is listed under.')
param appInsightsId string
param location string
param tags object

// Every run that sent (a chunk, or any other run that sends) reports its targets' outcomes when
// it ends: notify.delivery.<outcome>. Added up by when runs ended, cumulatively.
var progressQuery = '''
let id = "{NotificationId}";
requests
| where isnotempty(customDimensions["notify.delivery.matched"])
| where isempty(id) or tostring(customDimensions["notify.notification.id"]) == id
| extend ended = bin(timestamp + duration * 1ms, 10s)
| mv-expand outcome = dynamic(["sent", "failed", "removed", "suspended", "skipped", "cancelled"]) to typeof(string)
| extend targets = coalesce(tolong(customDimensions[strcat("notify.delivery.", outcome)]), 0)
| summarize targets = sum(targets) by outcome, ended
| order by outcome asc, ended asc
| extend done = row_cumsum(targets, outcome != prev(outcome))
| project ended, outcome, done
'''

// A run's sends are known only at its end, so each second it lasted gets its share of them, in
// proportion to the time the run spent in that second. Without a notification id: the latest one
// that sent.
var sendRateQuery = '''
let id = "{NotificationId}";
let sending = requests
    | where isnotempty(customDimensions["notify.delivery.matched"])
    | extend notification = tostring(customDimensions["notify.notification.id"]);
let chosen = iff(isnotempty(id), id, tostring(toscalar(sending | top 1 by timestamp desc | project notification)));
sending
| where notification == chosen
| extend sent = coalesce(todouble(customDimensions["notify.delivery.sent"]), 0.0), started = timestamp, ended = timestamp + duration * 1ms
| where sent > 0
| mv-expand second = range(bin(started, 1s), ended, 1s) to typeof(datetime)
| extend share = iff(ended > started, sent * ((min_of(second + 1s, ended) - max_of(second, started)) / (ended - started)), sent)
| make-series sent_per_second = sum(share) default = 0 on second step 1s
| mv-expand second to typeof(datetime), sent_per_second to typeof(double)
| extend tenant_budget = 50.0
| project second, sent_per_second, tenant_budget
'''

// notify.sends counts every target's outcome once written, on every instance. The exporter sends
// a delta a minute: finer bins would only split those.
var sendRateMetricQuery = '''
customMetrics
| where name == "notify.sends"
| summarize
    sent = sumif(valueSum, tostring(customDimensions["notify.outcome"]) == "sent"),
    outcomes = sum(valueSum)
    by bin(timestamp, 1m)
| extend sent_per_second = sent / 60.0, outcomes_per_second = outcomes / 60.0, tenant_budget = 50.0
| project timestamp, sent_per_second, outcomes_per_second, tenant_budget
| order by timestamp asc
'''

var outcomesQuery = '''
customMetrics
| where name == "notify.sends"
| summarize targets = sum(valueSum) by outcome = tostring(customDimensions["notify.outcome"])
| order by targets desc
'''

var throttledQuery = '''
customMetrics
| where name == "notify.throttled"
| extend tenant = tostring(customDimensions["teams.tenant.hash"]), api = tostring(customDimensions["notify.api"])
| summarize responses_429 = sum(valueSum) by series = strcat(tenant, " ", api), bin(timestamp, 1m)
| order by timestamp asc
'''

// One row per tenant (hashed): its 429s by service, its retries, and its sends' waits for the
// tenant's budget (a histogram: count, sum and max per export).
var tenantsQuery = '''
customMetrics
| where name in ("notify.tenant_budget.wait", "notify.throttled", "notify.send.retries")
| extend tenant = tostring(customDimensions["teams.tenant.hash"]), api = tostring(customDimensions["notify.api"])
| summarize
    throttled_connector = sumif(valueSum, name == "notify.throttled" and api == "connector"),
    throttled_graph = sumif(valueSum, name == "notify.throttled" and api == "graph"),
    retries = sumif(valueSum, name == "notify.send.retries"),
    waits = sumif(valueCount, name == "notify.tenant_budget.wait"),
    wait_total_s = sumif(valueSum, name == "notify.tenant_budget.wait"),
    wait_max_s = maxif(valueMax, name == "notify.tenant_budget.wait")
    by tenant
| extend wait_avg_s = iff(waits > 0, wait_total_s / waits, real(null))
| project tenant, throttled_connector, throttled_graph, retries, waits, wait_avg_s = round(wait_avg_s, 3), wait_max_s = round(wait_max_s, 3), wait_total_s = round(wait_total_s, 1)
| order by wait_total_s desc
'''

// Average and maximum from notify.queue.age; percentiles from the run spans' own
// notify.work.age_seconds (a metric row keeps no buckets).
var queueAgeQuery = '''
let percentiles = requests
    | where name startswith "process "
    | extend work_kind = tostring(customDimensions["notify.work.kind"]), age = todouble(customDimensions["notify.work.age_seconds"])
    | where isnotempty(work_kind)
    | summarize p50_s = percentile(age, 50), p95_s = percentile(age, 95) by work_kind;
customMetrics
| where name == "notify.queue.age"
| summarize items = sum(valueCount), total_s = sum(valueSum), max_s = max(valueMax) by work_kind = tostring(customDimensions["notify.work.kind"])
| join kind=leftouter percentiles on work_kind
| project work_kind, items, avg_s = round(total_s / items, 2), p50_s = round(p50_s, 2), p95_s = round(p95_s, 2), max_s = round(max_s, 2)
| order by work_kind asc
'''

var queueAgeOverTimeQuery = '''
customMetrics
| where name == "notify.queue.age"
| summarize max_s = max(valueMax) by work_kind = tostring(customDimensions["notify.work.kind"]), bin(timestamp, 1m)
| order by timestamp asc
'''

// From the first span that names a notification (its POST, or whichever run names it first) to
// the end of its last sending run; an inline one ends with its request. operation_Id is the
// request's trace, which its queue runs continue (the work items carry its traceparent).
var notificationsQuery = '''
requests
| extend id = tostring(customDimensions["notify.notification.id"])
| where isnotempty(id)
| extend ended = timestamp + duration * 1ms, path = tostring(customDimensions["notify.notification.path"]), sending = isnotempty(customDimensions["notify.delivery.matched"])
| summarize
    started = min(timestamp),
    last_send_ended = maxif(ended, sending),
    request_ended = maxif(ended, isnotempty(path)),
    path = take_anyif(path, isnotempty(path)),
    operation_Id = take_anyif(operation_Id, isnotempty(path)),
    runs = countif(sending),
    matched = sumif(tolong(customDimensions["notify.delivery.matched"]), sending),
    sent = sumif(tolong(customDimensions["notify.delivery.sent"]), sending),
    failed = sumif(tolong(customDimensions["notify.delivery.failed"]), sending),
    removed = sumif(tolong(customDimensions["notify.delivery.removed"]), sending),
    suspended = sumif(tolong(customDimensions["notify.delivery.suspended"]), sending),
    skipped = sumif(tolong(customDimensions["notify.delivery.skipped"]), sending),
    cancelled = sumif(tolong(customDimensions["notify.delivery.cancelled"]), sending)
    by id
| extend duration_s = round((coalesce(last_send_ended, request_ended) - started) / 1s, 1)
| project id, path, started, duration_s, matched, sent, failed, removed, suspended, skipped, cancelled, runs, operation_Id
| top 50 by started desc
'''

var intro = '''
## Proactive notifications

From the app's OpenTelemetry spans and metrics (their names: `shared/telemetry/names.py`). Give a **notification id** (the `id` that `POST /api/notify` answers) to follow one notification; left empty, the panels cover every notification in the time range, and the per-second rate shows the latest one. Tenants appear as hashes, never as ids. The tenant_budget line is one tenant's budget: 50 sends per second.
'''

// The panels, in order, two to a row; each a KQL query over the component in the time range.
var panels = [
  {
    name: 'progress'
    title: 'Progress: targets done by outcome (notify.delivery.*, cumulative)'
    query: progressQuery
    visualization: 'areachart'
    width: '50'
  }
  {
    name: 'send-rate'
    title: 'Sends per second of one notification (its runs\' spans) against one tenant\'s budget'
    query: sendRateQuery
    visualization: 'timechart'
    width: '50'
  }
  {
    name: 'send-rate-metric'
    title: 'Sends per second, every instance (notify.sends, per minute)'
    query: sendRateMetricQuery
    visualization: 'timechart'
    width: '50'
  }
  {
    name: 'outcomes'
    title: 'Outcomes (notify.sends)'
    query: outcomesQuery
    visualization: 'piechart'
    width: '50'
  }
  {
    name: 'throttled'
    title: '429s per tenant hash and service (notify.throttled, per minute)'
    query: throttledQuery
    visualization: 'timechart'
    width: '50'
  }
  {
    name: 'tenants'
    title: 'Tenants: 429s, retries and budget waits (notify.tenant_budget.wait)'
    query: tenantsQuery
    visualization: 'table'
    width: '50'
  }
  {
    name: 'queue-age'
    title: 'Queue age at pickup by work kind (notify.queue.age, notify.work.age_seconds)'
    query: queueAgeQuery
    visualization: 'table'
    width: '50'
  }
  {
    name: 'queue-age-over-time'
    title: 'Oldest work item picked up per minute, by kind (notify.queue.age)'
    query: queueAgeOverTimeQuery
    visualization: 'timechart'
    width: '50'
  }
  {
    name: 'notifications'
    title: 'Recent notifications: first span to last send, and their targets'
    query: notificationsQuery
    visualization: 'table'
    width: '100'
  }
]

var header = [
  {
    type: 1
    name: 'intro'
    content: {
      json: trim(intro)
    }
  }
  {
    type: 9
    name: 'parameters'
    content: {
      version: 'KqlParameterItem/1.0'
      style: 'pills'
      queryType: 0
      resourceType: 'microsoft.insights/components'
      parameters: [
        {
          id: '6cedc30c-932e-46a1-ab09-3bb100149179'
          version: 'KqlParameterItem/1.0'
          name: 'TimeRange'
          label: 'Time range'
          type: 4
          isRequired: true
          value: {
            durationMs: 14400000
          }
          typeSettings: {
            allowCustom: true
            selectableValues: [
              { durationMs: 900000 }
              { durationMs: 3600000 }
              { durationMs: 14400000 }
              { durationMs: 43200000 }
              { durationMs: 86400000 }
              { durationMs: 259200000 }
              { durationMs: 604800000 }
            ]
          }
        }
        {
          id: '6b1aa82d-5edc-44a9-9072-b0c931fe5e91'
          version: 'KqlParameterItem/1.0'
          name: 'NotificationId'
          label: 'Notification id'
          description: 'The id POST /api/notify answered; empty for every notification'
          type: 1
          isRequired: false
          value: ''
        }
      ]
    }
  }
]

var panelItems = [
  for panel in panels: {
    type: 3
    name: panel.name
    customWidth: panel.width
    content: {
      version: 'KqlItem/1.0'
      title: panel.title
      query: panel.query
      size: 0
      queryType: 0
      resourceType: 'microsoft.insights/components'
      visualization: panel.visualization
      timeContextFromParameter: 'TimeRange'
      timeContext: {
        durationMs: 0
      }
    }
  }
]

var definition = {
  version: 'Notebook/1.0'
  items: concat(header, panelItems)
  fallbackResourceIds: [
    appInsightsId
  ]
  '$schema': 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json'
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name is a GUID; this one stays the same across deployments of the component.
  name: guid(appInsightsId, 'proactive-notifications-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Proactive notifications'
    category: 'workbook'
    // In lower case, as the portal writes it (Terraform's azurerm provider requires it so).
    sourceId: toLower(appInsightsId)
    version: 'Notebook/1.0'
    serializedData: string(definition)
  }
}
