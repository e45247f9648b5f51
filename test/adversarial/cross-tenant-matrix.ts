/**
 * The cross-tenant matrix: ONE LINE PER ROOT OPERATION THAT TAKES AN ID (an ID argument, or an
 * ID field anywhere in its input). cross-tenant.test.ts fails when an operation of the built
 * schema takes an id and has no line here, so a new operation cannot ship unchecked.
 *
 * Each line: the document, the variables built from the victim tenant's ids (`a`), and what the
 * attacker (another tenant's ADMIN) must get: an error code (NOT_FOUND, FORBIDDEN...), `null`
 * data, or an empty list (`empty`). `agent` says what an AGENT of the victim's own tenant gets
 * where the operation is ADMIN-only. Every call must also leave the victim's rows unchanged.
 */
export interface VictimIds {
  tenantId: string;
  adminId: string;
  agentId: string;
  conversationId: string;
  messageId: string;
  contactId: string;
  phoneNumberId: string;
  twilioAccountId: string;
  teamId: string;
  quickReplyId: string;
  operatingHoursId: string;
  campaignId: string;
  apiKeyId: string;
  webhookEndpointId: string;
}

export type Outcome = 'NOT_FOUND' | 'FORBIDDEN' | 'null' | 'empty' | 'BAD_USER_INPUT';

export interface MatrixLine {
  kind: 'query' | 'mutation' | 'subscription';
  document: string;
  variables: (a: VictimIds) => Record<string, unknown>;
  /** What the other tenant's ADMIN gets (any of these). */
  crossTenant: Outcome[];
  /** ADMIN-only operations: what the victim tenant's AGENT gets. */
  agent?: Outcome[];
  /**
   * Operations on a conversation: what an AGENT of the victim's tenant in ANOTHER team gets (the
   * victim conversation is in the victim's team and assigned to the victim's agent, so it is
   * outside this agent's visibility).
   */
  otherTeam?: Outcome[];
}

const NF: Outcome[] = ['NOT_FOUND'];

export const crossTenantMatrix: Record<string, MatrixLine> = {
  // Queries
  conversation: { kind: 'query', document: 'query($id: ID!) { conversation(id: $id) { id } }', variables: (a) => ({ id: a.conversationId }), crossTenant: ['null', 'NOT_FOUND'], otherTeam: ['null', 'NOT_FOUND'] },
  conversations: { kind: 'query', document: 'query($id: ID) { conversations(first: 50, assigneeId: $id) { edges { node { id } } } }', variables: (a) => ({ id: a.agentId }), crossTenant: ['empty'], otherTeam: ['empty'] },
  // Mutations
  assignConversation: { kind: 'mutation', document: 'mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, assigneeId: $u) { id } }', variables: (a) => ({ c: a.conversationId, u: a.agentId }), crossTenant: NF, otherTeam: NF },
  setConversationStatus: { kind: 'mutation', document: 'mutation($c: ID!) { setConversationStatus(conversationId: $c, status: RESOLVED) { id } }', variables: (a) => ({ c: a.conversationId }), crossTenant: NF, otherTeam: NF },
  markConversationRead: { kind: 'mutation', document: 'mutation($c: ID!) { markConversationRead(conversationId: $c) { id } }', variables: (a) => ({ c: a.conversationId }), crossTenant: NF, otherTeam: NF },
  sendMessage: { kind: 'mutation', document: 'mutation($c: ID!) { sendMessage(input: { conversationId: $c, body: "pwned" }) { id } }', variables: (a) => ({ c: a.conversationId }), crossTenant: NF, otherTeam: NF },
  startConversation: { kind: 'mutation', document: 'mutation($p: ID!) { startConversation(input: { phoneNumberId: $p, to: "+14155550111", body: "pwned" }) { id } }', variables: (a) => ({ p: a.phoneNumberId }), crossTenant: NF },
  addPhoneNumber: { kind: 'mutation', document: 'mutation($t: ID!) { addPhoneNumber(input: { twilioAccountId: $t, phoneNumber: "+14155550112" }) { id } }', variables: (a) => ({ t: a.twilioAccountId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  removePhoneNumber: { kind: 'mutation', document: 'mutation($id: ID!) { removePhoneNumber(id: $id) }', variables: (a) => ({ id: a.phoneNumberId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  updateUser: { kind: 'mutation', document: 'mutation($id: ID!) { updateUser(id: $id, input: { active: false, role: AGENT }) { id } }', variables: (a) => ({ id: a.adminId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  resetUserPassword: { kind: 'mutation', document: 'mutation($id: ID!) { resetUserPassword(id: $id, newPassword: "taken over pw") }', variables: (a) => ({ id: a.adminId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  // Teams and routing
  createTeam: { kind: 'mutation', document: 'mutation($u: ID!) { createTeam(input: { name: "Stolen", memberIds: [$u] }) { id } }', variables: (a) => ({ u: a.agentId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  updateTeam: { kind: 'mutation', document: 'mutation($id: ID!) { updateTeam(id: $id, input: { name: "pwned" }) { id } }', variables: (a) => ({ id: a.teamId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  deleteTeam: { kind: 'mutation', document: 'mutation($id: ID!) { deleteTeam(id: $id) }', variables: (a) => ({ id: a.teamId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  transferConversation: { kind: 'mutation', document: 'mutation($c: ID!, $t: ID) { transferConversation(conversationId: $c, teamId: $t) { id } }', variables: (a) => ({ c: a.conversationId, t: a.teamId }), crossTenant: NF, otherTeam: NF },
  updatePhoneNumber: { kind: 'mutation', document: 'mutation($id: ID!) { updatePhoneNumber(id: $id, input: { description: "pwned" }) { id } }', variables: (a) => ({ id: a.phoneNumberId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  // Inbox tools
  contact: { kind: 'query', document: 'query($id: ID!) { contact(id: $id) { id } }', variables: (a) => ({ id: a.contactId }), crossTenant: ['null', 'NOT_FOUND'] },
  updateContact: { kind: 'mutation', document: 'mutation($id: ID!) { updateContact(id: $id, input: { name: "pwned", blocked: true }) { id } }', variables: (a) => ({ id: a.contactId }), crossTenant: NF },
  setConversationLabels: { kind: 'mutation', document: 'mutation($c: ID!) { setConversationLabels(conversationId: $c, labels: ["pwned"]) { id } }', variables: (a) => ({ c: a.conversationId }), crossTenant: NF, otherTeam: NF },
  addNote: { kind: 'mutation', document: 'mutation($c: ID!) { addNote(conversationId: $c, body: "pwned") { id } }', variables: (a) => ({ c: a.conversationId }), crossTenant: NF, otherTeam: NF },
  renderQuickReply: { kind: 'query', document: 'query($id: ID!, $c: ID!) { renderQuickReply(id: $id, conversationId: $c) }', variables: (a) => ({ id: a.quickReplyId, c: a.conversationId }), crossTenant: NF, otherTeam: NF },
  updateQuickReply: { kind: 'mutation', document: 'mutation($id: ID!) { updateQuickReply(id: $id, input: { body: "pwned" }) { id } }', variables: (a) => ({ id: a.quickReplyId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  deleteQuickReply: { kind: 'mutation', document: 'mutation($id: ID!) { deleteQuickReply(id: $id) }', variables: (a) => ({ id: a.quickReplyId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  // Operating hours and automated messages
  updateOperatingHours: { kind: 'mutation', document: 'mutation($id: ID!) { updateOperatingHours(id: $id, input: { name: "pwned", timeZone: "UTC", weekly: [] }) { id } }', variables: (a) => ({ id: a.operatingHoursId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  deleteOperatingHours: { kind: 'mutation', document: 'mutation($id: ID!) { deleteOperatingHours(id: $id) }', variables: (a) => ({ id: a.operatingHoursId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  setAutomatedMessage: { kind: 'mutation', document: 'mutation($p: ID!) { setAutomatedMessage(input: { phoneNumberId: $p, trigger: GREETING, body: "pwned", enabled: true }) { id } }', variables: (a) => ({ p: a.phoneNumberId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  // Channels and campaigns
  updateTwilioAccount: { kind: 'mutation', document: 'mutation($id: ID!) { updateTwilioAccount(id: $id, input: { friendlyName: "pwned" }) { id } }', variables: (a) => ({ id: a.twilioAccountId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  disconnectTwilioAccount: { kind: 'mutation', document: 'mutation($id: ID!) { disconnectTwilioAccount(id: $id) }', variables: (a) => ({ id: a.twilioAccountId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  campaign: { kind: 'query', document: 'query($id: ID!) { campaign(id: $id) { id } }', variables: (a) => ({ id: a.campaignId }), crossTenant: ['null', 'NOT_FOUND'] },
  createCampaign: { kind: 'mutation', document: 'mutation($p: ID!) { createCampaign(input: { name: "x", phoneNumberId: $p, body: "pwned", recipients: [{ phoneNumber: "+14155550113" }] }) { id } }', variables: (a) => ({ p: a.phoneNumberId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  addCampaignRecipients: { kind: 'mutation', document: 'mutation($id: ID!) { addCampaignRecipients(id: $id, recipients: [{ phoneNumber: "+14155550114" }]) { id } }', variables: (a) => ({ id: a.campaignId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  scheduleCampaign: { kind: 'mutation', document: 'mutation($id: ID!) { scheduleCampaign(id: $id, at: "2099-01-01T00:00:00Z") { id } }', variables: (a) => ({ id: a.campaignId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  startCampaign: { kind: 'mutation', document: 'mutation($id: ID!) { startCampaign(id: $id) { id } }', variables: (a) => ({ id: a.campaignId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  pauseCampaign: { kind: 'mutation', document: 'mutation($id: ID!) { pauseCampaign(id: $id) { id } }', variables: (a) => ({ id: a.campaignId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  cancelCampaign: { kind: 'mutation', document: 'mutation($id: ID!) { cancelCampaign(id: $id) { id } }', variables: (a) => ({ id: a.campaignId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  // Integrations and governance
  revokeApiKey: { kind: 'mutation', document: 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', variables: (a) => ({ id: a.apiKeyId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  updateWebhookEndpoint: { kind: 'mutation', document: 'mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: false }) { id } }', variables: (a) => ({ id: a.webhookEndpointId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  deleteWebhookEndpoint: { kind: 'mutation', document: 'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', variables: (a) => ({ id: a.webhookEndpointId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  exportContact: { kind: 'query', document: 'query($id: ID!) { exportContact(id: $id) }', variables: (a) => ({ id: a.contactId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  eraseContact: { kind: 'mutation', document: 'mutation($id: ID!) { eraseContact(id: $id) }', variables: (a) => ({ id: a.contactId }), crossTenant: NF, agent: ['FORBIDDEN'] },
  auditLog: { kind: 'query', document: 'query($u: ID) { auditLog(first: 50, actorId: $u) { edges { node { id } } } }', variables: (a) => ({ u: a.adminId }), crossTenant: ['empty'], agent: ['FORBIDDEN'] },
  report: { kind: 'query', document: 'query($t: ID) { report(from: "2026-11-01T00:00:00Z", to: "2026-12-31T00:00:00Z", teamId: $t) { conversationsOpened } }', variables: (a) => ({ t: a.teamId }), crossTenant: NF },
  // Subscriptions
  campaignUpdated: { kind: 'subscription', document: 'subscription($id: ID) { campaignUpdated(campaignId: $id) { id } }', variables: (a) => ({ id: a.campaignId }), crossTenant: NF },
  messageAdded: { kind: 'subscription', document: 'subscription($c: ID) { messageAdded(conversationId: $c) { id } }', variables: (a) => ({ c: a.conversationId }), crossTenant: NF, otherTeam: NF },
  messageUpdated: { kind: 'subscription', document: 'subscription($c: ID) { messageUpdated(conversationId: $c) { id } }', variables: (a) => ({ c: a.conversationId }), crossTenant: NF, otherTeam: NF },
};

/** Operations that take an id but cannot reach another tenant's object at all (with why). */
export const exemptFromMatrix: Record<string, string> = {};
