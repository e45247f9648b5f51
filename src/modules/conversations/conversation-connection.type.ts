import { Field, ObjectType } from 'type-graphql';
import { PageInfo } from '../../graphql/pagination.js';
import { Conversation } from './conversation.type.js';

@ObjectType('ConversationEdge', { simpleResolvers: true })
export class ConversationEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Conversation)
  node!: Conversation;
}

@ObjectType('ConversationConnection', { simpleResolvers: true })
export class ConversationConnection {
  @Field(() => [ConversationEdge])
  edges!: ConversationEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
