-- The sockets-per-user cap across instances: each instance's heartbeat updated every row of its
-- sockets (10,000 rows, ~175 ms of Postgres every 20 s at 10,000 sockets, bench scenario 5). Now
-- each instance keeps one row alive in live_instances, a socket counts while its instance's row
-- is alive, and an expired instance's sockets go with its row (cascade). Socket rows are
-- ephemeral (every instance registers its sockets again as they connect): the old ones, without
-- an instance row, are dropped before the foreign key is added.
CREATE TABLE "live_instances" (
	"instance_id" uuid PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
DELETE FROM "live_sockets";--> statement-breakpoint
ALTER TABLE "live_sockets" ADD CONSTRAINT "live_sockets_instance_id_live_instances_instance_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."live_instances"("instance_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "live_sockets" DROP COLUMN "expires_at";
