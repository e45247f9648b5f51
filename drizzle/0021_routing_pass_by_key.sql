-- route_pass() (migration 0020) again, for two costs the routing bench measured in the database
-- (issue 10): together about 0.13 ms of Postgres CPU per routed opening, a third more than the
-- webhook's own ingest.
-- 1. Rows by key. The pass updates a few hundred conversations it knows by key, but under a burst
--    of openings the statistics of conversations lag its growth, and the planner hashed the whole
--    table to join them: two sequential scans of every conversation per pass (41 ms a pass at
--    30,000 rows, and growing with the table). Turning those plans off (enable_seqscan and the
--    like, tried) made it a nested loop over a filtered copy of the table, worse. Now the rows
--    are addressed by ctid: the queued ones where the queue's index found and locked them, the
--    checked ones where a LIMIT 1 probe of the primary key found them. A join on ctid is a TID
--    fetch per row unless the table is really smaller than the list (its cost comes from the
--    table's actual size, not from column statistics that lag), and a LIMIT 1 probe is never a
--    scan.
-- 2. The choice in linear time. The loop visited every waiting conversation of the pass for
--    every team, and every member of every team for each; it now walks the queue once, team by
--    team, over that team's members only, and appends in place.
-- The rules are unchanged (strategy.ts states them; test/routing/route-pass.test.ts holds the
-- function to them).
CREATE OR REPLACE FUNCTION route_pass(
  p_tenants uuid[], p_teams uuid[], p_checked_tenants uuid[], p_checked uuid[], p_batch int
) RETURNS TABLE (r_tenant_id uuid, r_team_id uuid, r_conversation_id uuid, r_assignee_id uuid)
  LANGUAGE plpgsql
  AS $$
DECLARE
  -- The automatic teams of the pass, locked, in (tenant, id) order; k below is a position in these.
  t_tenant uuid[]; t_team uuid[]; t_strategy text[]; t_capacity int[];
  -- Their ONLINE active members, one entry per (team, member), presence rows locked in (tenant, user) order.
  m_tenant uuid[]; m_team uuid[]; m_user uuid[]; m_turn bigint[];
  -- The same entries by team (k), then user: e_slot is the agent's slot (one per (tenant, user):
  -- a member of two teams of the pass has one load), k_first/k_last each team's range of entries.
  e_k int[]; e_user uuid[]; e_turn bigint[]; e_slot int[];
  k_first int[]; k_last int[]; k_full boolean[];
  -- Per agent slot: who, and their live load.
  s_tenant uuid[]; s_user uuid[]; s_load int[];
  -- Waiting conversations the spare capacity can take, by team (k) in queue order, locked.
  -- w_row: where each row is (ctid; the lock keeps it there until the pass commits).
  w_k int[]; w_id uuid[]; w_row tid[]; w_previous uuid[];
  -- The assignments chosen.
  a_tenant uuid[] := '{}'; a_team uuid[] := '{}'; a_id uuid[] := '{}'; a_row tid[] := '{}'; a_user uuid[] := '{}';
  v_n int := 0;
  v_now timestamptz;
  v_seq bigint := 0;
  v_k int; v_w int; v_i int; v_best int; v_count bigint;
  v_cap int; v_least_busy boolean;
BEGIN
  -- 1. The team rows, sorted: passes of one team run one at a time, on any instance. Not FOR
  -- UPDATE: that would also block the foreign-key checks (FOR KEY SHARE) of every ingest opening
  -- a conversation in the team until the pass commits.
  SELECT array_agg(x.tenant_id ORDER BY x.tenant_id, x.id), array_agg(x.id ORDER BY x.tenant_id, x.id),
    array_agg(x.strategy::text ORDER BY x.tenant_id, x.id), array_agg(coalesce(x.agent_capacity, 2000000000) ORDER BY x.tenant_id, x.id)
  INTO t_tenant, t_team, t_strategy, t_capacity
  FROM (
    SELECT tm.tenant_id, tm.id, tm.strategy, tm.agent_capacity FROM teams tm
    WHERE (tm.tenant_id, tm.id) IN (SELECT * FROM unnest(p_tenants, p_teams))
    ORDER BY tm.tenant_id, tm.id
    FOR NO KEY UPDATE
  ) x
  WHERE x.strategy <> 'MANUAL';

  -- 2. Their ONLINE members' presence rows, sorted by (tenant, user): every automatic assignment
  -- to an agent, from any team and instance, is serialised on that row; one global order (teams
  -- first, then presence rows) rules out deadlocks between passes of any shape. A deactivated
  -- user may still be marked ONLINE: never eligible.
  IF t_team IS NOT NULL THEN
    SELECT array_agg(x.tenant_id ORDER BY x.tenant_id, x.user_id, x.team_id), array_agg(x.team_id ORDER BY x.tenant_id, x.user_id, x.team_id),
      array_agg(x.user_id ORDER BY x.tenant_id, x.user_id, x.team_id), array_agg(x.turn ORDER BY x.tenant_id, x.user_id, x.team_id)
    INTO m_tenant, m_team, m_user, m_turn
    FROM (
      SELECT tmm.tenant_id, tmm.team_id, ap.user_id,
        -- Never assigned sorts first.
        coalesce((extract(epoch FROM tmm.last_assigned_at) * 1000000)::bigint, -1) AS turn
      FROM team_members tmm
      JOIN agent_presence ap ON ap.tenant_id = tmm.tenant_id AND ap.user_id = tmm.user_id
      JOIN users u ON u.tenant_id = tmm.tenant_id AND u.id = tmm.user_id AND u.active
      WHERE (tmm.tenant_id, tmm.team_id) IN (SELECT * FROM unnest(t_tenant, t_team))
        AND ap.availability = 'ONLINE'
      ORDER BY ap.tenant_id, ap.user_id, tmm.team_id
      FOR UPDATE OF ap
    ) x;
  END IF;

  IF m_user IS NOT NULL THEN
    -- Read after the locks were granted, and compared with the queued conversations' route_after.
    v_now := clock_timestamp();

    -- The entries by team, then user, with their agent slot.
    SELECT array_agg(x.k ORDER BY x.k, x.user_id), array_agg(x.user_id ORDER BY x.k, x.user_id),
      array_agg(x.turn ORDER BY x.k, x.user_id), array_agg(x.slot ORDER BY x.k, x.user_id)
    INTO e_k, e_user, e_turn, e_slot
    FROM (
      SELECT t.k::int AS k, m.user_id, m.turn, dense_rank() OVER (ORDER BY m.tenant_id, m.user_id)::int AS slot
      FROM unnest(m_tenant, m_team, m_user, m_turn) AS m(tenant_id, team_id, user_id, turn)
      JOIN unnest(t_tenant, t_team) WITH ORDINALITY AS t(tenant_id, team_id, k)
        ON t.tenant_id = m.tenant_id AND t.team_id = m.team_id
    ) x;
    k_first := array_fill(NULL::int, ARRAY[array_length(t_team, 1)]);
    k_last := array_fill(NULL::int, ARRAY[array_length(t_team, 1)]);
    k_full := array_fill(false, ARRAY[array_length(t_team, 1)]);
    FOR v_i IN 1 .. array_length(e_k, 1) LOOP
      IF k_first[e_k[v_i]] IS NULL THEN k_first[e_k[v_i]] := v_i; END IF;
      k_last[e_k[v_i]] := v_i;
    END LOOP;

    -- 3. The agents' live load (OPEN and PENDING, across all teams) ...
    SELECT array_agg(s.tenant_id ORDER BY s.tenant_id, s.user_id), array_agg(s.user_id ORDER BY s.tenant_id, s.user_id),
      array_agg(coalesce(l.n, 0) ORDER BY s.tenant_id, s.user_id)
    INTO s_tenant, s_user, s_load
    FROM (SELECT DISTINCT m.tenant_id, m.user_id FROM unnest(m_tenant, m_user) AS m(tenant_id, user_id)) s
    LEFT JOIN LATERAL (
      SELECT count(*)::int AS n FROM conversations c
      WHERE c.tenant_id = s.tenant_id AND c.assignee_id = s.user_id AND c.status <> 'RESOLVED'
    ) l ON true;

    -- ... and, per team, the waiting conversations its spare capacity can take, oldest first,
    -- locked (SKIP LOCKED: one being changed by a transfer is left to the next pass), with the
    -- previous assignee of the thread (a conversation the customer reopened goes back to them).
    -- Ready: the guards ran and any hold is over, or one of the openings just checked.
    WITH team AS (
      SELECT * FROM unnest(t_tenant, t_team, t_capacity) WITH ORDINALITY AS t(tenant_id, team_id, capacity, k)
    ),
    spare AS (
      SELECT team.tenant_id, team.team_id, team.k, least(p_batch, sum(greatest(0, team.capacity - s_load[e.slot])))::int AS n
      FROM team JOIN unnest(e_k, e_slot) AS e(k, slot) ON e.k = team.k
      GROUP BY team.tenant_id, team.team_id, team.k
    ),
    ranked AS (
      SELECT spare.k, q.* FROM spare CROSS JOIN LATERAL (
        SELECT c.ctid AS row_ctid, c.id, row_number() OVER (ORDER BY c.queued_at, c.id) AS rn
        FROM conversations c
        WHERE c.tenant_id = spare.tenant_id AND c.team_id = spare.team_id
          AND c.assignee_id IS NULL AND c.status <> 'RESOLVED'
          AND (c.route_after <= v_now OR (c.route_after IS NULL AND c.id = ANY (p_checked)))
        ORDER BY c.queued_at, c.id
        LIMIT spare.n) q
    ),
    -- The rows the queue's index found are locked where they are (by ctid, see above); one updated
    -- meanwhile is no longer there and is skipped, as a locked one is, for the next pass.
    waiting AS (
      SELECT ranked.k, c.id, c.ctid AS row_ctid, ranked.rn, (
        SELECT previous.assignee_id FROM conversations previous
        WHERE previous.tenant_id = c.tenant_id AND previous.phone_number_id = c.phone_number_id
          AND previous.contact_id = c.contact_id AND previous.status = 'RESOLVED' AND previous.created_at < c.created_at
        ORDER BY previous.created_at DESC LIMIT 1) AS previous
      FROM ranked JOIN conversations c ON c.ctid = ranked.row_ctid
      -- Checked again on the row found after a lock wait.
      WHERE c.team_id IS NOT NULL AND c.assignee_id IS NULL AND c.status <> 'RESOLVED'
        AND (c.route_after <= v_now OR (c.route_after IS NULL AND c.id = ANY (p_checked)))
      FOR UPDATE OF c SKIP LOCKED
    )
    SELECT array_agg(k ORDER BY k, rn), array_agg(id ORDER BY k, rn), array_agg(row_ctid ORDER BY k, rn), array_agg(previous ORDER BY k, rn)
    INTO w_k, w_id, w_row, w_previous
    FROM waiting;

    -- 4. The choice (strategy.ts's pickAssignee), the queue in order, team by team, among that
    -- team's entries only: the previous assignee when still eligible; else ROUND_ROBIN takes the
    -- member whose turn is oldest, LEAST_BUSY the one with the fewest live conversations (ties:
    -- least recently assigned, then user id). Only members below capacity; once nobody is, the
    -- rest of that team's queue waits.
    IF w_id IS NOT NULL THEN
      FOR v_w IN 1 .. array_length(w_id, 1) LOOP
        v_k := w_k[v_w];
        CONTINUE WHEN k_full[v_k];
        v_cap := t_capacity[v_k];
        v_least_busy := t_strategy[v_k] = 'LEAST_BUSY';
        v_best := NULL;
        IF w_previous[v_w] IS NOT NULL THEN
          FOR v_i IN k_first[v_k] .. k_last[v_k] LOOP
            IF e_user[v_i] = w_previous[v_w] AND s_load[e_slot[v_i]] < v_cap THEN
              v_best := v_i;
            END IF;
          END LOOP;
        END IF;
        IF v_best IS NULL THEN
          FOR v_i IN k_first[v_k] .. k_last[v_k] LOOP
            CONTINUE WHEN s_load[e_slot[v_i]] >= v_cap;
            IF v_best IS NULL
              OR (v_least_busy AND s_load[e_slot[v_i]] < s_load[e_slot[v_best]])
              OR ((NOT v_least_busy OR s_load[e_slot[v_i]] = s_load[e_slot[v_best]])
                AND (e_turn[v_i] < e_turn[v_best] OR (e_turn[v_i] = e_turn[v_best] AND e_user[v_i] < e_user[v_best])))
            THEN
              v_best := v_i;
            END IF;
          END LOOP;
        END IF;
        IF v_best IS NULL THEN
          k_full[v_k] := true;
          CONTINUE;
        END IF;
        s_load[e_slot[v_best]] := s_load[e_slot[v_best]] + 1;
        -- After every stored turn, in pass order.
        v_seq := v_seq + 1;
        e_turn[v_best] := 4000000000000000000 + v_seq;
        v_n := v_n + 1;
        a_tenant[v_n] := t_tenant[v_k];
        a_team[v_n] := t_team[v_k];
        a_id[v_n] := w_id[v_w];
        a_row[v_n] := w_row[v_w];
        a_user[v_n] := e_user[v_best];
      END LOOP;
    END IF;
  END IF;

  -- 5. The assignments, the CONVERSATION_ASSIGNED webhook events (where the tenant has an
  -- endpoint for them, committed with the assignments), each member's turn (their last
  -- assignment of this pass, in pass order, after every earlier pass: v_now is read after the
  -- locks), and the verdict of the checked openings left waiting (route_after = now(): checked).
  -- A row is updated once per statement: the checked ones assigned here are not in the last list.
  -- Rows are addressed by ctid (see the top of this file): the assigned ones where step 3 locked
  -- them, the checked ones where a probe of the primary key finds them.
  WITH v AS (
    SELECT * FROM unnest(a_tenant, a_team, a_id, a_row, a_user) WITH ORDINALITY AS v(tenant_id, team_id, id, row_ctid, assignee_id, ord)
  ),
  assigned AS (
    UPDATE conversations c SET assignee_id = v.assignee_id, updated_at = now(), route_after = coalesce(c.route_after, now())
    FROM v
    WHERE c.ctid = v.row_ctid AND c.assignee_id IS NULL
    RETURNING c.tenant_id, c.id, v.ord
  ),
  webhook_events_added AS (
    INSERT INTO webhook_events (tenant_id, event_type, subject_id, conversation_id)
    SELECT r.tenant_id, 'CONVERSATION_ASSIGNED', r.id, r.id FROM assigned r
    WHERE EXISTS (
      SELECT 1 FROM webhook_endpoints we
      WHERE we.tenant_id = r.tenant_id AND we.enabled AND 'CONVERSATION_ASSIGNED' = ANY (we.events)
    )
    ORDER BY r.ord
    RETURNING 1
  ),
  turns AS (
    UPDATE team_members tmm SET last_assigned_at = coalesce(v_now, clock_timestamp()) + last.ord * interval '1 microsecond'
    FROM (SELECT tenant_id, team_id, assignee_id, max(ord) AS ord FROM v GROUP BY tenant_id, team_id, assignee_id) last
    WHERE tmm.tenant_id = last.tenant_id AND tmm.team_id = last.team_id AND tmm.user_id = last.assignee_id
    RETURNING 1
  ),
  -- (A checked opening updated meanwhile by someone else is no longer where the probe found it
  -- and stays unchecked: the sweep runs its guards again.)
  checked_rows AS (
    SELECT r.row_ctid FROM unnest(p_checked_tenants, p_checked) AS ck(tenant_id, id)
    CROSS JOIN LATERAL (
      SELECT c.ctid AS row_ctid FROM conversations c WHERE c.tenant_id = ck.tenant_id AND c.id = ck.id LIMIT 1) r
    WHERE NOT (ck.id = ANY (a_id))
  ),
  checked AS (
    UPDATE conversations c SET route_after = now()
    FROM checked_rows
    WHERE c.ctid = checked_rows.row_ctid AND c.route_after IS NULL
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM assigned) + (SELECT count(*) FROM webhook_events_added) + (SELECT count(*) FROM turns)
    + (SELECT count(*) FROM checked)
  INTO v_count;

  RETURN QUERY SELECT * FROM unnest(a_tenant, a_team, a_id, a_user);
END
$$;
