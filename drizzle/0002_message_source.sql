CREATE TYPE "public"."message_source" AS ENUM('CUSTOMER', 'AGENT', 'AUTOMATION', 'CAMPAIGN');--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "source" "message_source" DEFAULT 'CUSTOMER' NOT NULL;--> statement-breakpoint
UPDATE "messages" SET "source" = 'AGENT' WHERE "direction" = 'OUTBOUND';