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
  assignee: UserRef | null;
  contact: { phoneNumber: string; name: string | null; optedOut: boolean };
  phoneNumber: { e164: string; description: string | null };
  lastMessage: { body: string; direction: 'INBOUND' | 'OUTBOUND' } | null;
}

// Kept lean: the server's query cost limit (GRAPHQL_MAX_COST, 5000 by default) weighs nesting
// heavily, and a page of 50 conversations or messages must stay under it.
const CONVERSATION_FIELDS = `
  id status unreadCount lastMessageAt
  assignee { id name }
  contact { phoneNumber name optedOut }
  phoneNumber { e164 description }
  lastMessage { body direction }
`;

const MESSAGE_FIELDS = `
  id direction source body status errorCode errorMessage createdAt mediaDropped
  media { url contentType }
`;

export const CONVERSATIONS = `
  query Conversations($status: ConversationStatus, $assigneeId: ID, $after: String) {
    conversations(first: 50, status: $status, assigneeId: $assigneeId, after: $after) {
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

export const MESSAGE_ADDED = `subscription ($id: ID) { messageAdded(conversationId: $id) { ${MESSAGE_FIELDS} } }`;
export const MESSAGE_UPDATED = `subscription ($id: ID) { messageUpdated(conversationId: $id) { ${MESSAGE_FIELDS} } }`;

export const SEND_MESSAGE = `
  mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE_FIELDS} } }`;

export const ASSIGN = `
  mutation Assign($id: ID!, $assigneeId: ID) { assignConversation(conversationId: $id, assigneeId: $assigneeId) { ${CONVERSATION_FIELDS} } }`;

export const SET_STATUS = `
  mutation SetStatus($id: ID!, $status: ConversationStatus!) { setConversationStatus(conversationId: $id, status: $status) { ${CONVERSATION_FIELDS} } }`;

export const MARK_READ = `mutation Read($id: ID!) { markConversationRead(conversationId: $id) { id unreadCount } }`;
