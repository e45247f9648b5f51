DROP INDEX "conversations_tenant_created_idx";--> statement-breakpoint
DROP INDEX "conversations_tenant_resolved_idx";--> statement-breakpoint
DROP INDEX "messages_tenant_created_idx";--> statement-breakpoint
CREATE INDEX "csat_surveys_period_idx" ON "csat_surveys" USING btree ("tenant_id","resolved_at","resolved_by_id","rating","conversation_id");--> statement-breakpoint
CREATE INDEX "conversations_tenant_created_idx" ON "conversations" USING btree ("tenant_id","created_at","team_id","first_responder_id","first_inbound_at","first_response_at");--> statement-breakpoint
CREATE INDEX "conversations_tenant_resolved_idx" ON "conversations" USING btree ("tenant_id","resolved_at","team_id","resolved_by_id","created_at");--> statement-breakpoint
CREATE INDEX "messages_tenant_created_idx" ON "messages" USING btree ("tenant_id","created_at","direction","conversation_id");