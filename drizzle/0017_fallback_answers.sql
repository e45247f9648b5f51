CREATE TABLE "fallback_answers" (
	"tenant_id" uuid NOT NULL,
	"message_sid" text NOT NULL,
	"twilio_account_id" uuid NOT NULL,
	"contact_phone" text NOT NULL,
	"answered_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fallback_answers_tenant_id_message_sid_pk" PRIMARY KEY("tenant_id","message_sid")
);
--> statement-breakpoint
ALTER TABLE "fallback_answers" ADD CONSTRAINT "fallback_answers_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fallback_answers" ADD CONSTRAINT "fallback_answers_account_fk" FOREIGN KEY ("tenant_id","twilio_account_id") REFERENCES "public"."twilio_accounts"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "fallback_answers_contact_idx" ON "fallback_answers" USING btree ("tenant_id","twilio_account_id","contact_phone","answered_at");