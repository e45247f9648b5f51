-- A routing pass (issue 10) as one statement: the server calls route_pass() once per burst of
-- openings instead of sending BEGIN, four statements and COMMIT. Round trips were most of what
-- routing cost the server per opening webhook; the rules are those routeTeams() applied in
-- TypeScript before (see src/modules/routing/routing.repository.ts), statement by statement:
-- every statement in here takes its own snapshot (READ COMMITTED), so the loads are read after
-- the presence locks were granted, as before.
--
-- Arguments: the teams of the pass (tenant, team), the openings whose beforeRouting guards just
-- let them through (tenant, conversation; route_after still null), the most conversations a team
-- may take in this pass. Returns the assignments made, in pass order.
CREATE OR REPLACE FUNCTION route_pass(
  p_tenants uuid[], p_teams uuid[], p_checked_tenants uuid[], p_checked uuid[], p_batch int
) RETURNS TABLE (r_tenant_id uuid, r_team_id uuid, r_conversation_id uuid, r_assignee_id uuid)
  LANGUAGE plpgsql
  AS $$
DECLARE
  -- The automatic teams of the pass, locked, in (tenant, id) order.
  t_tenant uuid[]; t_team uuid[]; t_strategy text[]; t_capacity int[];
  -- Their ONLINE active members, one entry per (team, member), presence rows locked in (tenant, user) order.
  m_tenant uuid[]; m_team uuid[]; m_user uuid[]; m_turn bigint[]; m_load int[];
  -- Waiting conversations the spare capacity can take, per team in queue order, locked.
  w_tenant uuid[]; w_team uuid[]; w_id uuid[]; w_previous uuid[];
  -- The assignments chosen.
  a_tenant uuid[] := '{}'; a_team uuid[] := '{}'; a_id uuid[] := '{}'; a_user uuid[] := '{}';
  v_now timestamptz;
  v_seq bigint := 0;
  k int; w int; i int; j int; best int; v_count bigint;
  v_cap int;
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

    -- 3. The members' live load (OPEN and PENDING, across all teams) ...
    SELECT array_agg(coalesce(l.n, 0) ORDER BY m.ord) INTO m_load
    FROM unnest(m_tenant, m_user) WITH ORDINALITY AS m(tenant_id, user_id, ord)
    LEFT JOIN LATERAL (
      SELECT count(*)::int AS n FROM conversations c
      WHERE c.tenant_id = m.tenant_id AND c.assignee_id = m.user_id AND c.status <> 'RESOLVED'
    ) l ON true;

    -- ... and, per team, the waiting conversations its spare capacity can take, oldest first,
    -- locked (SKIP LOCKED: one being changed by a transfer is left to the next pass), with the
    -- previous assignee of the thread (a conversation the customer reopened goes back to them).
    -- Ready: the guards ran and any hold is over, or one of the openings just checked.
    WITH team AS (
      SELECT * FROM unnest(t_tenant, t_team, t_capacity) AS t(tenant_id, team_id, capacity)
    ),
    spare AS (
      SELECT team.tenant_id, team.team_id, least(p_batch, sum(greatest(0, team.capacity - m.load)))::int AS n
      FROM team JOIN unnest(m_tenant, m_team, m_load) AS m(tenant_id, team_id, load)
        ON m.tenant_id = team.tenant_id AND m.team_id = team.team_id
      GROUP BY team.tenant_id, team.team_id
    ),
    ranked AS (
      SELECT q.* FROM spare CROSS JOIN LATERAL (
        SELECT c.tenant_id, c.id, row_number() OVER (ORDER BY c.queued_at, c.id) AS rn
        FROM conversations c
        WHERE c.tenant_id = spare.tenant_id AND c.team_id = spare.team_id
          AND c.assignee_id IS NULL AND c.status <> 'RESOLVED'
          AND (c.route_after <= v_now OR (c.route_after IS NULL AND c.id = ANY (p_checked)))
        ORDER BY c.queued_at, c.id
        LIMIT spare.n) q
    ),
    waiting AS (
      SELECT c.tenant_id, c.team_id, c.id, ranked.rn, (
        SELECT previous.assignee_id FROM conversations previous
        WHERE previous.tenant_id = c.tenant_id AND previous.phone_number_id = c.phone_number_id
          AND previous.contact_id = c.contact_id AND previous.status = 'RESOLVED' AND previous.created_at < c.created_at
        ORDER BY previous.created_at DESC LIMIT 1) AS previous
      FROM conversations c JOIN ranked ON ranked.tenant_id = c.tenant_id AND ranked.id = c.id
      -- Checked again on the row found after a lock wait.
      WHERE c.team_id IS NOT NULL AND c.assignee_id IS NULL AND c.status <> 'RESOLVED'
        AND (c.route_after <= v_now OR (c.route_after IS NULL AND c.id = ANY (p_checked)))
      FOR UPDATE OF c SKIP LOCKED
    )
    SELECT array_agg(tenant_id ORDER BY tenant_id, team_id, rn), array_agg(team_id ORDER BY tenant_id, team_id, rn),
      array_agg(id ORDER BY tenant_id, team_id, rn), array_agg(previous ORDER BY tenant_id, team_id, rn)
    INTO w_tenant, w_team, w_id, w_previous
    FROM waiting;

    -- 4. The choice (was strategy.ts's pickAssignee), team by team: the previous assignee when
    -- still eligible; else ROUND_ROBIN takes the member whose turn is oldest, LEAST_BUSY the one
    -- with the fewest live conversations (ties: least recently assigned, then user id). Only
    -- members below capacity. A member of two teams of the pass has one load across both.
    IF w_id IS NOT NULL THEN
      FOR k IN 1 .. array_length(t_team, 1) LOOP
        v_cap := t_capacity[k];
        FOR w IN 1 .. array_length(w_id, 1) LOOP
          CONTINUE WHEN w_tenant[w] <> t_tenant[k] OR w_team[w] <> t_team[k];
          best := NULL;
          IF w_previous[w] IS NOT NULL THEN
            FOR i IN 1 .. array_length(m_user, 1) LOOP
              IF m_tenant[i] = t_tenant[k] AND m_team[i] = t_team[k] AND m_user[i] = w_previous[w] AND m_load[i] < v_cap THEN
                best := i;
              END IF;
            END LOOP;
          END IF;
          IF best IS NULL THEN
            FOR i IN 1 .. array_length(m_user, 1) LOOP
              CONTINUE WHEN m_tenant[i] <> t_tenant[k] OR m_team[i] <> t_team[k] OR m_load[i] >= v_cap;
              IF best IS NULL
                OR (t_strategy[k] = 'LEAST_BUSY' AND m_load[i] < m_load[best])
                OR ((t_strategy[k] <> 'LEAST_BUSY' OR m_load[i] = m_load[best])
                  AND (m_turn[i] < m_turn[best] OR (m_turn[i] = m_turn[best] AND m_user[i] < m_user[best])))
              THEN
                best := i;
              END IF;
            END LOOP;
          END IF;
          -- Nobody below capacity: the rest of this team's queue waits.
          EXIT WHEN best IS NULL;
          FOR j IN 1 .. array_length(m_user, 1) LOOP
            IF m_tenant[j] = m_tenant[best] AND m_user[j] = m_user[best] THEN
              m_load[j] := m_load[j] + 1;
            END IF;
          END LOOP;
          -- After every stored turn, in pass order.
          v_seq := v_seq + 1;
          m_turn[best] := 4000000000000000000 + v_seq;
          a_tenant := a_tenant || t_tenant[k];
          a_team := a_team || t_team[k];
          a_id := a_id || w_id[w];
          a_user := a_user || m_user[best];
        END LOOP;
      END LOOP;
    END IF;
  END IF;

  -- 5. The assignments, the CONVERSATION_ASSIGNED webhook events (where the tenant has an
  -- endpoint for them, committed with the assignments), each member's turn (their last
  -- assignment of this pass, in pass order, after every earlier pass: v_now is read after the
  -- locks), and the verdict of the checked openings left waiting (route_after = now(): checked).
  -- A row is updated once per statement: the checked ones assigned here are not in the last list.
  WITH v AS (
    SELECT * FROM unnest(a_tenant, a_team, a_id, a_user) WITH ORDINALITY AS v(tenant_id, team_id, id, assignee_id, ord)
  ),
  assigned AS (
    UPDATE conversations c SET assignee_id = v.assignee_id, updated_at = now(), route_after = coalesce(c.route_after, now())
    FROM v
    WHERE c.tenant_id = v.tenant_id AND c.id = v.id AND c.assignee_id IS NULL
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
  checked AS (
    UPDATE conversations c SET route_after = now()
    FROM unnest(p_checked_tenants, p_checked) AS ck(tenant_id, id)
    WHERE c.tenant_id = ck.tenant_id AND c.id = ck.id AND c.route_after IS NULL AND NOT (c.id = ANY (a_id))
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM assigned) + (SELECT count(*) FROM webhook_events_added) + (SELECT count(*) FROM turns)
    + (SELECT count(*) FROM checked)
  INTO v_count;

  RETURN QUERY SELECT * FROM unnest(a_tenant, a_team, a_id, a_user);
END
$$;
