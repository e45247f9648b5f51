CREATE TYPE "public"."media_origin" AS ENUM('UPLOAD', 'INBOUND');--> statement-breakpoint
CREATE TYPE "public"."media_storage" AS ENUM('POSTGRES', 'S3');--> statement-breakpoint
CREATE TABLE "media_files" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"origin" "media_origin" NOT NULL,
	"content_type" text NOT NULL,
	"size" integer NOT NULL,
	"storage" "media_storage" NOT NULL,
	"bytes" "bytea",
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "media_copy_jobs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"media_index" integer NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"locked_by" text,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "media_files" ADD CONSTRAINT "media_files_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "media_copy_jobs" ADD CONSTRAINT "media_copy_jobs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "media_copy_jobs" ADD CONSTRAINT "media_copy_jobs_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "media_files_tenant_idx" ON "media_files" USING btree ("tenant_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "media_copy_jobs_item_uq" ON "media_copy_jobs" USING btree ("tenant_id","message_id","media_index");--> statement-breakpoint
CREATE INDEX "media_copy_jobs_due_idx" ON "media_copy_jobs" USING btree ("next_attempt_at");