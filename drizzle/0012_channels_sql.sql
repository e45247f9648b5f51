-- A campaign text names its campaign within its own tenant. Declared here rather than in
-- messages.schema.ts: the campaigns module depends on messages, not the other way round.
ALTER TABLE "messages" ADD CONSTRAINT "messages_campaign_fk" FOREIGN KEY ("tenant_id", "campaign_id") REFERENCES "public"."campaigns"("tenant_id", "id") ON DELETE NO ACTION ON UPDATE NO ACTION;--> statement-breakpoint
CREATE INDEX "messages_tenant_campaign_idx" ON "messages" USING btree ("tenant_id", "campaign_id") WHERE "campaign_id" IS NOT NULL;
