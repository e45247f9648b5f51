-- The trigram indexes written by every inbound text keep a smaller pending list (128 kB, against
-- Postgres's 4 MB default). New entries of a GIN index with fastupdate wait in that list until it
-- overflows, and the insert that overflows it merges the whole list into the index: at 500 texts
-- a second that was an ingest statement of 55-95 ms about every four seconds (the live window's
-- maximum webhook latency, 100 ms). With 128 kB the merges are small and the slowest statement
-- stayed under 45 ms, at the same Postgres CPU per message (bench/results.md, seventh session).
-- A search also reads the pending list sequentially, so a short one serves it too.
ALTER INDEX "messages_tenant_body_trgm_idx" SET (gin_pending_list_limit = 128);--> statement-breakpoint
ALTER INDEX "contacts_tenant_name_trgm_idx" SET (gin_pending_list_limit = 128);--> statement-breakpoint
ALTER INDEX "contacts_tenant_phone_trgm_idx" SET (gin_pending_list_limit = 128);
