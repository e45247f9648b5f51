-- Whether an attempt of the job may have reached Twilio without our recording the answer. The
-- dispatcher had taken any message found SENDING for that, and looked it up in Twilio's Messages
-- list before every retry, also after Twilio had answered an error (a 429 storm doubled the
-- calls) and for jobs given back unstarted at shutdown. Jobs whose message is SENDING now are
-- taken as maybe sent, as before.
ALTER TABLE "outbox" ADD COLUMN "maybe_sent" boolean DEFAULT false NOT NULL;--> statement-breakpoint
UPDATE "outbox" SET "maybe_sent" = true FROM "messages"
  WHERE "messages"."tenant_id" = "outbox"."tenant_id" AND "messages"."id" = "outbox"."message_id" AND "messages"."status" = 'SENDING';
