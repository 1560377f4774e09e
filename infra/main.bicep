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

@description('Most instances Flex Consumption scales the app out to: 40 to 1000, the range Flex Consumption takes.')
@minValue(40)
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
@description('NOTIFY_WEBHOOK_SECRET: when set, /api/notify requires an HMAC-SHA256 signature. Kept in the Key Vault; the app reads it through a Key Vault reference.')
param notifyWebhookSecret string = ''

@secure()
@description('CALLBACK_SECRET: the key notification callbacks are signed with (Standard Webhooks). Kept in the Key Vault; without it a notification with a callback is refused.')
param callbackSecret string = ''

@description('CALLBACK_ALLOWED_HOSTS: comma-separated hosts (or *.domain) callbacks may be sent to, over https.')
param callbackAllowedHosts string = ''

// The same text as shared/settings.py's DEFAULT_WELCOME_TEXT (tests/test_infra.py holds them equal).
@description('WELCOME_TEXT: what a conversation is told when the app is installed there. azd passes an empty WELCOME_TEXT as this default; set the app setting to nothing in the portal for no greeting.')
param welcomeText string = 'Hi! I\'m here to send you notifications in this conversation. You\'re subscribed; say "stop" any time to unsubscribe.'

@description('The app\'s id in your organisation\'s Teams app catalog (Teams admin center, Manage apps): needed to install the app for people reached through to.groups or e-mail addresses who have no 1:1 with the bot yet.')
param teamsAppId string = ''

@description('GRANT_GRAPH_PERMISSIONS: grant the bot\'s identity the Microsoft Graph permissions people audiences need (User.Read.All, GroupMember.Read.All, TeamsAppInstallation.ReadWriteSelfForUser.All). An admin consent: the deployer needs Privileged Role Administrator. Left false, an admin grants them (README).')
param grantGraphPermissions bool = false

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
    callbackSecret: callbackSecret
    callbackAllowedHosts: callbackAllowedHosts
    welcomeText: welcomeText
    teamsAppId: teamsAppId
  }
}

// Granted in the tenant (Microsoft Graph objects, not Azure resources), only when asked.
module graphPermissions 'graph-permissions.bicep' = if (grantGraphPermissions) {
  name: 'graph-permissions'
  scope: rg
  params: {
    principalId: app.outputs.identityPrincipalId
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.functionAppName
output BOT_MESSAGING_ENDPOINT string = app.outputs.messagingEndpoint
output BOT_APP_ID string = app.outputs.botAppId
// The messaging endpoint's host: the Teams app package's validDomains (azure.yaml's hook).
output BOT_DOMAIN string = app.outputs.defaultHostName
output NOTIFY_URL string = app.outputs.notifyUrl
output AZURE_KEY_VAULT_NAME string = app.outputs.keyVaultName
// No key here: outputs are readable by anyone who can read the deployment. azure.yaml's
// postdeploy hook reads the notify key with the deployer's own sign-in instead.
