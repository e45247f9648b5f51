CREATE TYPE "public"."automated_message_trigger" AS ENUM('GREETING', 'OUT_OF_HOURS', 'ALL_AGENTS_BUSY', 'RESOLVED', 'CSAT_SURVEY', 'FAILURE');--> statement-breakpoint
CREATE TYPE "public"."survey_state" AS ENUM('WAITING', 'REQUESTED', 'SKIPPED');--> statement-breakpoint
CREATE TABLE "automated_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"phone_number_id" uuid NOT NULL,
	"trigger" "automated_message_trigger" NOT NULL,
	"body" text NOT NULL,
	"enabled" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "automated_messages_tenant_id_uq" UNIQUE("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "automation_sends" (
	"tenant_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"contact_id" uuid NOT NULL,
	"trigger" "automated_message_trigger" NOT NULL,
	"answers_message_id" uuid,
	"sent_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "automation_sends_tenant_id_message_id_pk" PRIMARY KEY("tenant_id","message_id")
);
--> statement-breakpoint
CREATE TABLE "csat_surveys" (
	"tenant_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"state" "survey_state" NOT NULL,
	"resolved_by_id" uuid,
	"resolved_at" timestamp with time zone NOT NULL,
	"resolved_message_id" uuid,
	"survey_message_id" uuid,
	"requested_at" timestamp with time zone,
	"rating" smallint,
	"rated_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "csat_surveys_tenant_id_conversation_id_pk" PRIMARY KEY("tenant_id","conversation_id")
);
--> statement-breakpoint
CREATE TABLE "operating_hours" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"time_zone" text NOT NULL,
	"weekly" jsonb NOT NULL,
	"closed_dates" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "operating_hours_tenant_id_uq" UNIQUE("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "phone_numbers" ADD COLUMN "operating_hours_id" uuid;--> statement-breakpoint
ALTER TABLE "automated_messages" ADD CONSTRAINT "automated_messages_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automated_messages" ADD CONSTRAINT "automated_messages_phone_number_fk" FOREIGN KEY ("tenant_id","phone_number_id") REFERENCES "public"."phone_numbers"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_sends" ADD CONSTRAINT "automation_sends_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_sends" ADD CONSTRAINT "automation_sends_message_fk" FOREIGN KEY ("tenant_id","message_id") REFERENCES "public"."messages"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_sends" ADD CONSTRAINT "automation_sends_contact_fk" FOREIGN KEY ("tenant_id","contact_id") REFERENCES "public"."contacts"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "csat_surveys" ADD CONSTRAINT "csat_surveys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "csat_surveys" ADD CONSTRAINT "csat_surveys_resolved_by_id_users_id_fk" FOREIGN KEY ("resolved_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "csat_surveys" ADD CONSTRAINT "csat_surveys_conversation_fk" FOREIGN KEY ("tenant_id","conversation_id") REFERENCES "public"."conversations"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "csat_surveys" ADD CONSTRAINT "csat_surveys_resolver_tenant_fk" FOREIGN KEY ("tenant_id","resolved_by_id") REFERENCES "public"."users"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "operating_hours" ADD CONSTRAINT "operating_hours_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "automated_messages_number_trigger_uq" ON "automated_messages" USING btree ("tenant_id","phone_number_id","trigger");--> statement-breakpoint
CREATE INDEX "automation_sends_contact_idx" ON "automation_sends" USING btree ("tenant_id","contact_id","sent_at");--> statement-breakpoint
CREATE UNIQUE INDEX "automation_sends_answer_uq" ON "automation_sends" USING btree ("tenant_id","answers_message_id") WHERE "automation_sends"."answers_message_id" is not null;--> statement-breakpoint
CREATE INDEX "csat_surveys_resolver_idx" ON "csat_surveys" USING btree ("tenant_id","resolved_by_id","resolved_at");--> statement-breakpoint
CREATE INDEX "csat_surveys_waiting_idx" ON "csat_surveys" USING btree ("created_at") WHERE "csat_surveys"."state" = 'WAITING';--> statement-breakpoint
ALTER TABLE "phone_numbers" ADD CONSTRAINT "phone_numbers_operating_hours_fk" FOREIGN KEY ("tenant_id","operating_hours_id") REFERENCES "public"."operating_hours"("tenant_id","id") ON DELETE no action ON UPDATE no action;