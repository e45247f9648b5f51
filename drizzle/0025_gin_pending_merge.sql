-- The search indexes' pending lists are merged by the server in the background
-- (SEARCH_INDEX_MERGE_MS, src/db/gin-pending-merge.ts), so their limit goes back to Postgres's
-- default (4 MB), now only a bound. At 128 kB (0024) inserts merged the lists often, and each
-- merge rewrites the posting lists of every key it touches: 13 kB of WAL per inbound text
-- against 6 kB at 4 MB, and 0.73 ms of Postgres CPU per text against 0.59 (bench/results.md,
-- tenth session). Merged in the background, no ingest statement carries a merge either.
ALTER INDEX "messages_tenant_body_trgm_idx" RESET (gin_pending_list_limit);--> statement-breakpoint
ALTER INDEX "contacts_tenant_name_trgm_idx" RESET (gin_pending_list_limit);--> statement-breakpoint
ALTER INDEX "contacts_tenant_phone_trgm_idx" RESET (gin_pending_list_limit);
