// Everything the app runs on, keyless: one user-assigned identity is the Function App's storage,
// monitoring and Key Vault identity and, as MicrosoftAppType=UserAssignedMSI, the bot's own.
//
// Role assignments take minutes to reach every Azure front end. All of them are made before the
// Function App, which depends on them; azd deploys the code only after provisioning ends; and a
// first start that still meets a missing role fails closed and recovers: the host and the app
// retry storage, and the app refuses an unresolved Key Vault reference (NOTIFY_WEBHOOK_SECRET)
// instead of taking it for the secret, until the platform resolves it (a restart does it at once).
param location string
param tags object
param resourceToken string
param pythonVersion string
param maximumInstanceCount int
// main.bicep always passes it; the default is for checkov, which reads each file alone.
param storageSku string = 'Standard_GRS'
param notifyTimerText string
param broadcastSchedule string
@secure()
param notifyWebhookSecret string
@secure()
param callbackSecret string
param callbackAllowedHosts string
param welcomeText string
param teamsAppId string

// The work queue's name is needed twice: the app setting the host resolves %NOTIFY_QUEUE% from,
// and the queues created below so that the host has them before the first notification.
var notifyQueue = 'notify-work'
var deploymentContainer = 'app-package'
var functionAppName = 'func-${resourceToken}'
var webhookSecretName = 'notify-webhook-secret'
var callbackSecretName = 'callback-secret'

// Built-in role definitions (ids are the same in every tenant).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${resourceToken}'
  location: location
  tags: tags
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: no virtual network here: Flex Consumption instances reach the account over its public endpoint, and it takes Entra tokens only (shared keys are off)
  // checkov:skip=CKV_AZURE_59: same reason: public network access stays on, authorization is Entra-only
  // checkov:skip=CKV_AZURE_43: the name is 'st' and uniqueString() in lower case, 15 letters and digits; checkov cannot evaluate it
  name: 'st${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  // Geo-redundant by default: the stored references are the app's whole audience.
  sku: {
    name: storageSku
  }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

// Flex Consumption deploys the app package to this container and runs from it.
resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource workQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: notifyQueue
}

resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: '${notifyQueue}-poison'
}

// Blob: the host's locks and keys, and the deployment package. Queue: the work queue. Table: the
// app's references, notifications and coordination rows.
resource blobRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, identity.id, storageBlobDataOwner)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
  }
}

resource queueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, identity.id, storageQueueDataContributor)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
  }
}

resource tableRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, identity.id, storageTableDataContributor)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
  }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${resourceToken}'
  location: location
  tags: tags
  properties: {
    retentionInDays: 30
    sku: {
      name: 'PerGB2018'
    }
  }
}

// Local (instrumentation key) authentication is off: the host sends telemetry with the identity.
resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

// The workbook that reads the app's traces and metrics (README, "Watching it run").
module workbook 'workbook.bicep' = {
  name: 'workbook'
  params: {
    appInsightsId: appInsights.id
    location: location
    tags: tags
  }
}

resource telemetryRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: appInsights
  name: guid(appInsights.id, identity.id, monitoringMetricsPublisher)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
  }
}

// The webhook secret lives here, not in the app's settings: the app setting is a Key Vault
// reference, resolved by the platform with the identity, which may only read secrets.
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: no virtual network here: the Functions platform resolves Key Vault references over the vault's public endpoint, and the vault takes Entra tokens only (RBAC, no access policies)
  // checkov:skip=CKV_AZURE_189: same reason: public network access stays on, authorization is Entra RBAC only
  // checkov:skip=CKV_AZURE_110: purge protection would keep a deleted vault's name for 90 days, so `azd down --purge` and a new `azd up` of the same environment could not work; it holds one secret the deployer sets again
  // checkov:skip=CKV_AZURE_42: same reason: soft delete stays on (7 days), purge protection is off
  name: 'kv-${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource webhookSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(notifyWebhookSecret)) {
  // checkov:skip=CKV_AZURE_114: contentType is set below; checkov reads no property of a conditional (`if`) resource
  // checkov:skip=CKV_AZURE_41: an expiry date would turn every signed request away the day it passes; the secret is rotated by setting a new one (azd provision), which callers must be given anyway
  parent: vault
  name: webhookSecretName
  properties: {
    value: notifyWebhookSecret
    contentType: 'text/plain'
  }
}

resource callbackSigningSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(callbackSecret)) {
  // checkov:skip=CKV_AZURE_114: contentType is set below; checkov reads no property of a conditional (`if`) resource
  // checkov:skip=CKV_AZURE_41: an expiry date would stop every callback the day it passes; the secret is rotated by setting a new one (azd provision), which receivers must be given anyway
  parent: vault
  name: callbackSecretName
  properties: {
    value: callbackSecret
    contentType: 'text/plain'
  }
}

resource vaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identity.id, keyVaultSecretsUser)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: not every Flex Consumption region has availability zones, and with zone redundancy always-ready instances (paid while idle) come in twos at least; turn it on per deployment where wanted
  name: 'plan-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_17: Bot Framework channels and webhook callers present no client certificates
  // checkov:skip=CKV_AZURE_222: the Bot Framework channel and webhook callers reach the app over the internet
  // checkov:skip=CKV_AZURE_78: Flex Consumption has no FTP at all (ftpsState is among its deprecated properties)
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales to zero and out on demand (up to maximumInstanceCount); a standing minimum would be always-ready instances paid while idle
  // checkov:skip=CKV_AZURE_213: the app has no health endpoint, and one that always answers 200 would probe nothing the Functions host does not already watch
  name: functionAppName
  location: location
  // azd deploys the `api` service of azure.yaml to the app carrying this tag.
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references are resolved as this identity (a site has no system identity here).
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: 2048
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      http20Enabled: true
      // Every setting of README's table. Flex Consumption refuses FUNCTIONS_WORKER_RUNTIME and
      // FUNCTIONS_EXTENSION_VERSION (functionAppConfig.runtime says both), so neither is here.
      appSettings: [
        // Keyless storage, as the host and shared/settings.py read it.
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storage.name
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identity.properties.clientId
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'Authorization=AAD;ClientId=${identity.properties.clientId}'
        }
        // OpenTelemetry (host.json's telemetryMode): the worker hands each invocation the host's
        // trace context, the app's spans continue it and go to the component above.
        {
          name: 'PYTHON_ENABLE_OPENTELEMETRY'
          value: 'true'
        }
        {
          name: 'OTEL_SERVICE_NAME'
          value: functionAppName
        }
        {
          name: 'TRACE_SENDS_PER_RUN'
          value: '20'
        }
        // The bot is the identity: no password, no secret to rotate.
        {
          name: 'MicrosoftAppType'
          value: 'UserAssignedMSI'
        }
        {
          name: 'MicrosoftAppId'
          value: identity.properties.clientId
        }
        {
          name: 'MicrosoftAppPassword'
          value: ''
        }
        {
          name: 'MicrosoftAppTenantId'
          value: tenant().tenantId
        }
        {
          name: 'CONVERSATION_TABLE'
          value: 'ConversationReferences'
        }
        {
          name: 'NOTIFICATIONS_TABLE'
          value: 'Notifications'
        }
        {
          name: 'PERSONAL_CHATS_TABLE'
          value: 'PersonalChats'
        }
        {
          name: 'COORDINATION_TABLE'
          value: 'Coordination'
        }
        {
          name: 'NOTIFY_QUEUE'
          value: notifyQueue
        }
        {
          name: 'NOTIFY_SCHEDULE'
          value: '0 * * * * *'
        }
        {
          name: 'NOTIFY_TIMER_TEXT'
          value: notifyTimerText
        }
        {
          name: 'BROADCAST_SCHEDULE'
          value: broadcastSchedule
        }
        {
          name: 'NOTIFY_CONCURRENCY'
          value: '32'
        }
        {
          name: 'NOTIFY_MAX_RPS_PER_TENANT'
          value: '50'
        }
        {
          name: 'NOTIFY_MAX_ATTEMPTS'
          value: '4'
        }
        {
          name: 'UNREACHABLE_DELETE_AFTER_FAILURES'
          value: '3'
        }
        {
          name: 'UNREACHABLE_DELETE_AFTER_DAYS'
          value: '7'
        }
        {
          name: 'NOTIFY_SEND_TIMEOUT_SECONDS'
          value: '30'
        }
        {
          // Versionless: a new secret version reaches the app within a day, or at its restart.
          name: 'NOTIFY_WEBHOOK_SECRET'
          value: empty(notifyWebhookSecret) ? '' : '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${webhookSecretName}/)'
        }
        {
          name: 'CALLBACK_SECRET'
          value: empty(callbackSecret) ? '' : '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${callbackSecretName}/)'
        }
        {
          name: 'CALLBACK_ALLOWED_HOSTS'
          value: callbackAllowedHosts
        }
        {
          name: 'CALLBACK_MAX_ATTEMPTS'
          value: '8'
        }
        {
          name: 'CALLBACK_RETRY_SECONDS'
          value: '60'
        }
        {
          name: 'NOTIFY_INLINE_MAX_TARGETS'
          value: '100'
        }
        {
          name: 'PROMPT_EXPIRY_HOURS'
          value: '168'
        }
        {
          name: 'ALLOWED_SERVICE_URLS'
          value: ''
        }
        {
          name: 'WELCOME_TEXT'
          value: welcomeText
        }
        {
          // This cloud's Microsoft Graph (national clouds have their own).
          name: 'GRAPH_ENDPOINT'
          value: environment().graph
        }
        {
          name: 'GRAPH_MAX_RPS_PER_TENANT'
          value: '30'
        }
        {
          name: 'TEAMS_APP_ID'
          value: teamsAppId
        }
        {
          name: 'TEAMS_SERVICE_URL'
          value: 'https://smba.trafficmanager.net/teams/'
        }
      ]
    }
  }
  // The host reads its storage with these roles from its first start.
  dependsOn: [
    blobRole
    queueRole
    tableRole
    telemetryRole
    vaultRole
    webhookSecret
    packageContainer
    workQueue
    poisonQueue
  ]
}

// The Azure Bot resource: the channel's registration of /api/messages, signed in as the identity.
resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: 'bot-${resourceToken}'
  location: 'global'
  tags: tags
  kind: 'azurebot'
  sku: {
    name: 'F0'
  }
  properties: {
    displayName: 'Proactive notifications'
    endpoint: 'https://${functionApp.properties.defaultHostName}/api/messages'
    msaAppType: 'UserAssignedMSI'
    msaAppId: identity.properties.clientId
    msaAppTenantId: tenant().tenantId
    msaAppMSIResourceId: identity.id
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
    }
  }
}

output functionAppName string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output messagingEndpoint string = bot.properties.endpoint
output botAppId string = identity.properties.clientId
// The identity's service principal: what Microsoft Graph permissions are granted to.
output identityPrincipalId string = identity.properties.principalId
output notifyUrl string = 'https://${functionApp.properties.defaultHostName}/api/notify'
output keyVaultName string = vault.name
