export type ConversationStatus = 'OPEN' | 'PENDING' | 'RESOLVED';
export type MessageStatus = 'QUEUED' | 'SENDING' | 'SENT' | 'DELIVERED' | 'READ' | 'UNDELIVERED' | 'FAILED' | 'RECEIVED';

export interface UserRef {
  id: string;
  name: string;
}

export interface MessageView {
  id: string;
  conversationId: string;
  direction: 'INBOUND' | 'OUTBOUND';
  source: 'CUSTOMER' | 'AGENT' | 'AUTOMATION' | 'CAMPAIGN';
  body: string;
  status: MessageStatus;
  errorCode: number | null;
  errorMessage: string | null;
  createdAt: string;
  segments: number;
  mediaDropped: number;
  media: { url: string; contentType: string }[];
  author: UserRef | null;
}

export interface ConversationView {
  id: string;
  status: ConversationStatus;
  unreadCount: number;
  lastMessageAt: string;
  assignee: UserRef | null;
  contact: { id: string; phoneNumber: string; name: string | null; optedOut: boolean };
  phoneNumber: { id: string; e164: string; description: string | null };
  lastMessage: { id: string; body: string; direction: 'INBOUND' | 'OUTBOUND'; media: { contentType: string }[] } | null;
}

const CONVERSATION_FIELDS = `
  id status unreadCount lastMessageAt
  assignee { id name }
  contact { id phoneNumber name optedOut }
  phoneNumber { id e164 description }
  lastMessage { id body direction media { contentType } }
`;

const MESSAGE_FIELDS = `
  id conversationId direction source body status errorCode errorMessage createdAt segments mediaDropped
  media { url contentType }
  author { id name }
`;

export const CONVERSATIONS = `
  query Conversations($status: ConversationStatus, $assigneeId: ID, $after: String) {
    conversations(first: 50, status: $status, assigneeId: $assigneeId, after: $after) {
      edges { node { ${CONVERSATION_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

export const CONVERSATION_UPDATED = `subscription { conversationUpdated { ${CONVERSATION_FIELDS} } }`;

export const THREAD = `
  query Thread($id: ID!, $before: String) {
    conversation(id: $id) {
      ${CONVERSATION_FIELDS}
      messages(first: 50, before: $before) { edges { node { ${MESSAGE_FIELDS} } } pageInfo { hasNextPage endCursor } }
    }
  }`;

export const MESSAGE_ADDED = `subscription ($id: ID) { messageAdded(conversationId: $id) { ${MESSAGE_FIELDS} } }`;
export const MESSAGE_UPDATED = `subscription ($id: ID) { messageUpdated(conversationId: $id) { ${MESSAGE_FIELDS} } }`;

export const SEND_MESSAGE = `
  mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE_FIELDS} } }`;

export const ASSIGN = `
  mutation Assign($id: ID!, $assigneeId: ID) { assignConversation(conversationId: $id, assigneeId: $assigneeId) { ${CONVERSATION_FIELDS} } }`;

export const SET_STATUS = `
  mutation SetStatus($id: ID!, $status: ConversationStatus!) { setConversationStatus(conversationId: $id, status: $status) { ${CONVERSATION_FIELDS} } }`;

export const MARK_READ = `mutation Read($id: ID!) { markConversationRead(conversationId: $id) { id unreadCount } }`;
