import { Field, ID, ObjectType } from 'type-graphql';
import { PageInfo } from '../../graphql/pagination.js';

/** `author` is a field resolver (notes resolver). */
@ObjectType('Note', { simpleResolvers: true, description: "An agent's internal note on a conversation; never sent to the customer." })
export class Note {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  conversationId!: string;

  @Field(() => String)
  body!: string;

  @Field(() => Date)
  createdAt!: Date;

  authorId!: string;
}

@ObjectType('NoteEdge', { simpleResolvers: true })
export class NoteEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Note)
  node!: Note;
}

@ObjectType('NoteConnection', { simpleResolvers: true })
export class NoteConnection {
  @Field(() => [NoteEdge])
  edges!: NoteEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
