DROP INDEX "conversations_tenant_created_idx";--> statement-breakpoint
DROP INDEX "conversations_tenant_resolved_idx";--> statement-breakpoint
DROP INDEX "messages_tenant_created_idx";--> statement-breakpoint
ALTER TABLE "csat_surveys" ADD COLUMN "team_id" uuid;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "team_id" uuid;--> statement-breakpoint
-- Reports (issue 14): messages.team_id and csat_surveys.team_id are the conversation's team now,
-- kept by the database so that every path that writes them (ingest, replies, automations,
-- campaigns, surveys) and every path that moves a conversation (transfer, updatePhoneNumber,
-- deleteTeam) agree without knowing it. A team's report then reads one index, not a join.
-- Filled on insert from the conversation's row ...
CREATE OR REPLACE FUNCTION team_of_conversation() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  SELECT c.team_id INTO NEW.team_id FROM conversations c WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.conversation_id;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER messages_team_on_insert BEFORE INSERT ON messages
  FOR EACH ROW EXECUTE FUNCTION team_of_conversation();--> statement-breakpoint
CREATE TRIGGER csat_surveys_team_on_insert BEFORE INSERT ON csat_surveys
  FOR EACH ROW EXECUTE FUNCTION team_of_conversation();--> statement-breakpoint
-- ... and moved with it (through messages_tenant_conversation_idx and the surveys' primary key).
CREATE OR REPLACE FUNCTION conversations_team_to_rows() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  UPDATE messages SET team_id = NEW.team_id
  WHERE tenant_id = NEW.tenant_id AND conversation_id = NEW.id AND team_id IS DISTINCT FROM NEW.team_id;
  UPDATE csat_surveys SET team_id = NEW.team_id
  WHERE tenant_id = NEW.tenant_id AND conversation_id = NEW.id AND team_id IS DISTINCT FROM NEW.team_id;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER conversations_team_to_rows AFTER UPDATE OF team_id ON conversations
  FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id) EXECUTE FUNCTION conversations_team_to_rows();--> statement-breakpoint
UPDATE messages m SET team_id = c.team_id FROM conversations c
  WHERE c.tenant_id = m.tenant_id AND c.id = m.conversation_id AND c.team_id IS NOT NULL;--> statement-breakpoint
UPDATE csat_surveys s SET team_id = c.team_id FROM conversations c
  WHERE c.tenant_id = s.tenant_id AND c.id = s.conversation_id AND c.team_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "csat_surveys_period_idx" ON "csat_surveys" USING btree ("tenant_id","resolved_at","resolved_by_id","rating","team_id");--> statement-breakpoint
CREATE INDEX "conversations_tenant_created_idx" ON "conversations" USING btree ("tenant_id","created_at","team_id","first_responder_id","first_inbound_at","first_response_at");--> statement-breakpoint
CREATE INDEX "conversations_tenant_resolved_idx" ON "conversations" USING btree ("tenant_id","resolved_at","team_id","resolved_by_id","created_at");--> statement-breakpoint
CREATE INDEX "messages_tenant_created_idx" ON "messages" USING btree ("tenant_id","created_at","direction","team_id");