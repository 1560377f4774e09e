// Microsoft Graph application permissions for the bot's own identity (the user-assigned managed
// identity, MicrosoftAppType=UserAssignedMSI), for people audiences (README, "People of an
// organisation"): reading users and group members, and installing the app for a person.
// Granting them is an admin consent: the deployer needs the Privileged Role Administrator role
// (or another holding AppRoleAssignment.ReadWrite.All). Without it, deploy with
// GRANT_GRAPH_PERMISSIONS unset and have an admin grant the three permissions to the identity.
extension 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0'

@description('The service principal (object id) of the identity that is granted the permissions.')
param principalId string

var graphAppId = '00000003-0000-0000-c000-000000000000'
var appRoles = [
  'User.Read.All'
  'GroupMember.Read.All'
  'TeamsAppInstallation.ReadWriteSelfForUser.All'
]

resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: graphAppId
}

resource grants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [
  for appRole in appRoles: {
    appRoleId: (filter(graph.appRoles, role => role.value == appRole)[0]).id
    principalId: principalId
    resourceId: graph.id
  }
]
