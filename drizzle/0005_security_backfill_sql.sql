-- The row signUp created for each email: the first user of its tenant (the admin who signed up),
-- when no earlier row of that email exists elsewhere (sign-up refused emails already in use).
UPDATE users u SET signed_up = true
WHERE u.id = (SELECT f.id FROM users f WHERE f.tenant_id = u.tenant_id ORDER BY f.created_at, f.id LIMIT 1)
  AND NOT EXISTS (
    SELECT 1 FROM users e
    WHERE e.email = u.email AND e.id <> u.id AND (e.created_at, e.id) < (u.created_at, u.id)
  );
