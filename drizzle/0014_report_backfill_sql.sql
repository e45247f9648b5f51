-- Reports read each conversation's first inbound text and first agent reply from columns kept
-- up to date by ingest and replies; fill them in for conversations that existed before.
UPDATE "conversations" c SET "first_inbound_at" = f."at"
FROM (
  SELECT "conversation_id", min("created_at") AS "at" FROM "messages" WHERE "direction" = 'INBOUND' GROUP BY "conversation_id"
) f
WHERE f."conversation_id" = c."id" AND c."first_inbound_at" IS NULL;
--> statement-breakpoint
UPDATE "conversations" c SET "first_response_at" = r."created_at", "first_responder_id" = r."author_id"
FROM (
  SELECT DISTINCT ON (m."conversation_id") m."conversation_id", m."created_at", m."author_id"
  FROM "messages" m JOIN "conversations" c2 ON c2."id" = m."conversation_id"
  WHERE m."direction" = 'OUTBOUND' AND m."source" = 'AGENT' AND c2."first_inbound_at" IS NOT NULL AND m."created_at" >= c2."first_inbound_at"
  ORDER BY m."conversation_id", m."created_at", m."id"
) r
WHERE r."conversation_id" = c."id" AND c."first_response_at" IS NULL;
