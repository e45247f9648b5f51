export type ConversationStatus = 'OPEN' | 'PENDING' | 'RESOLVED';
export type MessageStatus = 'QUEUED' | 'SENDING' | 'SENT' | 'DELIVERED' | 'READ' | 'UNDELIVERED' | 'FAILED' | 'RECEIVED';

export interface UserRef {
  id: string;
  name: string;
}

export interface MessageView {
  id: string;
  direction: 'INBOUND' | 'OUTBOUND';
  source: 'CUSTOMER' | 'AGENT' | 'AUTOMATION' | 'CAMPAIGN';
  body: string;
  status: MessageStatus;
  errorCode: number | null;
  errorMessage: string | null;
  createdAt: string;
  mediaDropped: number;
  media: { url: string; contentType: string }[];
}

export interface ConversationView {
  id: string;
  status: ConversationStatus;
  unreadCount: number;
  lastMessageAt: string;
  labels: string[];
  assignee: UserRef | null;
  team: { id: string; name: string } | null;
  contact: { id: string; phoneNumber: string; name: string | null; optedOut: boolean; blocked: boolean };
  phoneNumber: { e164: string; description: string | null };
  lastMessage: { body: string; direction: 'INBOUND' | 'OUTBOUND' } | null;
}

// Kept lean: the server's query cost limit (GRAPHQL_MAX_COST, 5000 by default) weighs nesting
// heavily, and a page of 50 conversations or messages must stay under it.
const CONVERSATION_FIELDS = `
  id status unreadCount lastMessageAt labels
  assignee { id name }
  team { id name }
  contact { id phoneNumber name optedOut blocked }
  phoneNumber { e164 description }
  lastMessage { body direction }
`;

const MESSAGE_FIELDS = `
  id direction source body status errorCode errorMessage createdAt mediaDropped
  media { url contentType }
`;

export const CONVERSATIONS = `
  query Conversations($status: ConversationStatus, $assigneeId: ID, $unassigned: Boolean, $teamId: ID, $label: String, $search: String, $after: String) {
    conversations(first: 50, status: $status, assigneeId: $assigneeId, unassigned: $unassigned, teamId: $teamId, label: $label, search: $search, after: $after) {
      edges { cursor node { ${CONVERSATION_FIELDS} } }
    }
  }`;

export const CONVERSATION_UPDATED = `subscription { conversationUpdated { ${CONVERSATION_FIELDS} } }`;

export const CONVERSATION = `query Conversation($id: ID!) { conversation(id: $id) { ${CONVERSATION_FIELDS} } }`;

export const THREAD_MESSAGES = `
  query ThreadMessages($id: ID!, $before: String) {
    conversation(id: $id) { id messages(first: 50, before: $before) { edges { cursor node { ${MESSAGE_FIELDS} } } } }
  }`;

/** Pages hold this many items; a full page means there may be more. */
export const PAGE_SIZE = 50;

/** The cursor to ask for the next page after this one: its last edge's when full, else none. */
export function nextPageCursor(edges: readonly { cursor: string }[]): string | null {
  return edges.length === PAGE_SIZE ? edges[edges.length - 1]!.cursor : null;
}

export const MESSAGE_ADDED = `subscription ($id: ID) { messageAdded(conversationId: $id) { ${MESSAGE_FIELDS} } }`;
export const MESSAGE_UPDATED = `subscription ($id: ID) { messageUpdated(conversationId: $id) { ${MESSAGE_FIELDS} } }`;

export const SEND_MESSAGE = `
  mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE_FIELDS} } }`;

export const ASSIGN = `
  mutation Assign($id: ID!, $assigneeId: ID) { assignConversation(conversationId: $id, assigneeId: $assigneeId) { ${CONVERSATION_FIELDS} } }`;

export const SET_STATUS = `
  mutation SetStatus($id: ID!, $status: ConversationStatus!) { setConversationStatus(conversationId: $id, status: $status) { ${CONVERSATION_FIELDS} } }`;

export const MARK_READ = `mutation Read($id: ID!) { markConversationRead(conversationId: $id) { id unreadCount } }`;

export const CONVERSATION_REMOVED = `subscription { conversationRemoved }`;

export type Availability = 'ONLINE' | 'AWAY' | 'OFFLINE';

export interface Person {
  id: string;
  name: string;
  role: 'ADMIN' | 'AGENT';
  availability: Availability;
  active: boolean;
}

export interface TeamView {
  id: string;
  name: string;
  strategy: 'ROUND_ROBIN' | 'LEAST_BUSY' | 'MANUAL';
  agentCapacity: number | null;
  members: { id: string }[];
}

const PERSON_FIELDS = 'id name role availability active';
export const PEOPLE = `{ users { ${PERSON_FIELDS} } teams { id name strategy agentCapacity members { id } } }`;
export const USER_UPDATED = `subscription { userUpdated { ${PERSON_FIELDS} } }`;
export const SET_AVAILABILITY = `mutation ($a: Availability!) { setAvailability(availability: $a) { ${PERSON_FIELDS} } }`;

export interface NoteView {
  id: string;
  body: string;
  createdAt: string;
  author: UserRef;
}
export const NOTES = `query Notes($id: ID!) { conversation(id: $id) { id notes(first: 100) { edges { node { id body createdAt author { id name } } } } } }`;
export const ADD_NOTE = `mutation ($id: ID!, $body: String!) { addNote(conversationId: $id, body: $body) { id body createdAt author { id name } } }`;

export const SET_LABELS = `
  mutation SetLabels($id: ID!, $labels: [String!]!) { setConversationLabels(conversationId: $id, labels: $labels) { ${CONVERSATION_FIELDS} } }`;

export const TRANSFER = `
  mutation Transfer($id: ID!, $teamId: ID, $assigneeId: ID) { transferConversation(conversationId: $id, teamId: $teamId, assigneeId: $assigneeId) { ${CONVERSATION_FIELDS} } }`;

export const UPDATE_CONTACT = `
  mutation UpdateContact($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { id name blocked optedOut } }`;

export interface QuickReplyView {
  id: string;
  title: string;
  body: string;
}
export const QUICK_REPLIES = `query QuickReplies($search: String) { quickReplies(search: $search) { id title body } }`;
export const RENDER_QUICK_REPLY = `query Render($c: ID!, $id: ID!) { renderQuickReply(conversationId: $c, id: $id) }`;
