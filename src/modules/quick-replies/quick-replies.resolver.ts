import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Role } from '../users/role.js';
import { CreateQuickReplyInput, QuickReply, UpdateQuickReplyInput } from './quick-reply.type.js';

@Resolver(() => QuickReply)
export class QuickReplyResolver {
  @Authorized()
  @Query(() => [QuickReply], { description: 'At most 1,000 per tenant, by title; `search` (at least 2 characters) matches title or body.' })
  quickReplies(@Arg('search', () => String, { nullable: true }) search: string | null, @Ctx() ctx: RequestContext): Promise<QuickReply[]> {
    return ctx.tenant().quickRepliesService.list(search);
  }

  @Authorized()
  @Query(() => String, { description: "A quick reply's body with its placeholders filled in for this conversation." })
  renderQuickReply(
    @Arg('id', () => ID) id: string,
    @Arg('conversationId', () => ID) conversationId: string,
    @Ctx() ctx: RequestContext,
  ): Promise<string> {
    return ctx.tenant().quickRepliesService.render(id, conversationId);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => QuickReply)
  createQuickReply(@Arg('input', () => CreateQuickReplyInput) input: CreateQuickReplyInput, @Ctx() ctx: RequestContext): Promise<QuickReply> {
    return ctx.tenant().quickRepliesService.create(input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => QuickReply)
  updateQuickReply(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateQuickReplyInput) input: UpdateQuickReplyInput,
    @Ctx() ctx: RequestContext,
  ): Promise<QuickReply> {
    return ctx.tenant().quickRepliesService.update(id, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean)
  deleteQuickReply(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<boolean> {
    return ctx.tenant().quickRepliesService.delete(id);
  }
}
