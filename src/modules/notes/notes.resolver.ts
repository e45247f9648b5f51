import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Conversation } from '../conversations/conversation.type.js';
import { notePageLoader, required, userLoader } from '../../graphql/loaders.js';
import { decodeCursor, pageSize, toPage } from '../../graphql/pagination.js';
import { User } from '../users/user.type.js';
import { Note, NoteConnection } from './note.type.js';

@Resolver(() => Note)
export class NoteResolver {
  @Authorized()
  @Mutation(() => Note, { description: 'An internal note (1 to 5,000 characters) by the caller; publishes conversationUpdated.' })
  addNote(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('body', () => String) body: string,
    @Ctx() ctx: RequestContext,
  ): Promise<Note> {
    return ctx.tenant().notesService.add(conversationId, body);
  }

  @FieldResolver(() => User)
  author(@Root() note: Note, @Ctx() ctx: RequestContext): User | Promise<User> {
    return required(userLoader(ctx).loadNow(note.authorId), () => `author ${note.authorId} of note ${note.id} is missing`);
  }
}

/** Conversation.notes lives here: notes depend on conversations, not the reverse. */
@Resolver(() => Conversation)
export class ConversationNotesResolver {
  @FieldResolver(() => NoteConnection, { description: 'Oldest first.' })
  async notes(
    @Root() conversation: Conversation,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<NoteConnection> {
    const limit = pageSize(first);
    const cursor = decodeCursor(after, 'after');
    const rows = await notePageLoader(ctx, limit, cursor).load(conversation.id);
    return toPage(rows, limit, cursor !== null);
  }
}
