DROP INDEX "conversations_tenant_activity_idx";--> statement-breakpoint
DROP INDEX "conversations_tenant_assignee_idx";--> statement-breakpoint
DROP INDEX "messages_tenant_conversation_idx";--> statement-breakpoint
CREATE INDEX "conversations_tenant_activity_idx" ON "conversations" USING btree ("tenant_id","last_message_at","id");--> statement-breakpoint
CREATE INDEX "conversations_tenant_assignee_idx" ON "conversations" USING btree ("tenant_id","assignee_id","last_message_at","id");--> statement-breakpoint
CREATE INDEX "messages_tenant_conversation_idx" ON "messages" USING btree ("tenant_id","conversation_id","created_at","id");