import { Field, ObjectType } from 'type-graphql';
import { PageInfo } from '../../graphql/pagination.js';
import { Message } from './message.type.js';

@ObjectType('MessageEdge', { simpleResolvers: true })
export class MessageEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Message)
  node!: Message;
}

@ObjectType('MessageConnection', { simpleResolvers: true })
export class MessageConnection {
  @Field(() => [MessageEdge])
  edges!: MessageEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
