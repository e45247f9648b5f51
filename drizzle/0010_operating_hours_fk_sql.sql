-- Deleting a schedule makes its numbers always open: null the reference, keep the tenant_id
-- (a plain SET NULL on the composite key would null phone_numbers.tenant_id too).
ALTER TABLE "phone_numbers" DROP CONSTRAINT "phone_numbers_operating_hours_fk";--> statement-breakpoint
ALTER TABLE "phone_numbers" ADD CONSTRAINT "phone_numbers_operating_hours_fk" FOREIGN KEY ("tenant_id","operating_hours_id") REFERENCES "public"."operating_hours"("tenant_id","id") ON DELETE SET NULL ("operating_hours_id");
