// `azd up` entry point: a resource group and everything the app runs on (app.bicep).
// Checked statically by `make lint` (tools/check_bicep.py); never deployed by CI.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Region of every resource but the bot (global). It must offer Flex Consumption.')
param location string

@description('Python of the Flex Consumption worker; the app is tested on 3.10-3.13.')
@allowed([
  '3.10'
  '3.11'
  '3.12'
  '3.13'
])
param pythonVersion string = '3.12'

@description('Most instances Flex Consumption scales the app out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Replication of the storage account. Regions without a paired region offer no GRS: pick ZRS or LRS there.')
@allowed([
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_ZRS'
  'Standard_LRS'
])
param storageSku string = 'Standard_GRS'

@description('NOTIFY_TIMER_TEXT: what the scheduled broadcast sends. Empty: no broadcast.')
param notifyTimerText string = ''

@description('BROADCAST_SCHEDULE: six-field NCRONTAB (UTC) of that broadcast, e.g. 0 0 9 * * 1-5.')
param broadcastSchedule string = ''

@secure()
@description('NOTIFY_WEBHOOK_SECRET: when set, /api/notify requires an HMAC-SHA256 signature.')
param notifyWebhookSecret string = ''

@description('Put the notify endpoint key in the outputs (NOTIFY_KEY_OUTPUT). Leave it off for the first `azd up`: reading keys needs the host running deployed code, and azd provisions before it deploys.')
param outputNotifyKey bool = false

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module app 'app.bicep' = {
  name: 'app'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    pythonVersion: pythonVersion
    maximumInstanceCount: maximumInstanceCount
    storageSku: storageSku
    notifyTimerText: notifyTimerText
    broadcastSchedule: broadcastSchedule
    notifyWebhookSecret: notifyWebhookSecret
    outputNotifyKey: outputNotifyKey
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.functionAppName
output BOT_MESSAGING_ENDPOINT string = app.outputs.messagingEndpoint
output BOT_APP_ID string = app.outputs.botAppId
output NOTIFY_URL string = app.outputs.notifyUrl
output NOTIFY_FUNCTION_KEY string = app.outputs.notifyFunctionKey
