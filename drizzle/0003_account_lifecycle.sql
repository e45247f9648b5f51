ALTER TABLE "phone_numbers" ADD COLUMN "configured_sms_url" text;--> statement-breakpoint
ALTER TABLE "phone_numbers" ADD COLUMN "configured_sms_fallback_url" text;--> statement-breakpoint
ALTER TABLE "twilio_accounts" ADD COLUMN "previous_auth_token_sealed" text;--> statement-breakpoint
ALTER TABLE "twilio_accounts" ADD COLUMN "previous_token_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "twilio_accounts" ADD COLUMN "disconnected_at" timestamp with time zone;