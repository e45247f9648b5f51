ALTER TABLE "automated_messages" DROP CONSTRAINT "automated_messages_phone_number_id_phone_numbers_id_fk";
--> statement-breakpoint
ALTER TABLE "automation_sends" DROP CONSTRAINT "automation_sends_message_id_messages_id_fk";
--> statement-breakpoint
ALTER TABLE "automation_sends" DROP CONSTRAINT "automation_sends_contact_id_contacts_id_fk";
--> statement-breakpoint
ALTER TABLE "csat_surveys" DROP CONSTRAINT "csat_surveys_conversation_id_conversations_id_fk";
--> statement-breakpoint
DROP INDEX "operating_hours_tenant_id_uq";--> statement-breakpoint
ALTER TABLE "automated_messages" ADD CONSTRAINT "automated_messages_phone_number_fk" FOREIGN KEY ("tenant_id","phone_number_id") REFERENCES "public"."phone_numbers"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_sends" ADD CONSTRAINT "automation_sends_message_fk" FOREIGN KEY ("tenant_id","message_id") REFERENCES "public"."messages"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_sends" ADD CONSTRAINT "automation_sends_contact_fk" FOREIGN KEY ("tenant_id","contact_id") REFERENCES "public"."contacts"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "csat_surveys" ADD CONSTRAINT "csat_surveys_conversation_fk" FOREIGN KEY ("tenant_id","conversation_id") REFERENCES "public"."conversations"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "csat_surveys" ADD CONSTRAINT "csat_surveys_resolver_tenant_fk" FOREIGN KEY ("tenant_id","resolved_by_id") REFERENCES "public"."users"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automated_messages" ADD CONSTRAINT "automated_messages_tenant_id_uq" UNIQUE("tenant_id","id");--> statement-breakpoint
ALTER TABLE "operating_hours" ADD CONSTRAINT "operating_hours_tenant_id_uq" UNIQUE("tenant_id","id");