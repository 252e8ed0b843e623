import type { SqlMigration } from '../../sandbox/store/migrate.ts';

/**
 * Control database migrations (the coordinator's own data: users, sessions, catalog metadata,
 * reference geography; later pipelines, jobs, approvals, policies, budgets, audit).
 * It never holds a domain's rows.
 */
export const CONTROL_MIGRATIONS: readonly SqlMigration[] = [
  {
    name: '0001-users-catalog',
    up: `
CREATE TABLE app_user (
  id bigserial PRIMARY KEY,
  username text NOT NULL UNIQUE CHECK (username ~ '^[a-z][a-z0-9._-]{1,63}$'),
  display_name text NOT NULL,
  role text NOT NULL CHECK (role IN ('analyst', 'officer', 'researcher', 'steward', 'admin')),
  domain text CHECK (domain IS NULL OR domain IN ('registry', 'social', 'health', 'civil', 'housing', 'grid')),
  password_hash text NOT NULL,
  disabled boolean NOT NULL DEFAULT false,
  failed_logins integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'steward') = (domain IS NOT NULL))
);
CREATE TABLE user_session (
  id text PRIMARY KEY,              -- SHA-256 of the cookie token; the token itself is never stored
  user_id bigint NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_session_user ON user_session(user_id);
CREATE TABLE catalog_dataset (
  id text PRIMARY KEY,
  domain text NOT NULL,
  table_name text NOT NULL,
  label_zh text NOT NULL,
  label_en text NOT NULL,
  description_zh text NOT NULL,
  description_en text NOT NULL,
  unit_column text NOT NULL,
  unit_kind text NOT NULL
);
CREATE TABLE catalog_column (
  dataset_id text NOT NULL REFERENCES catalog_dataset(id) ON DELETE CASCADE,
  name text NOT NULL,
  position integer NOT NULL,
  col_type text NOT NULL,
  semantic text NOT NULL,
  level text NOT NULL CHECK (level IN ('L1', 'L2', 'L3', 'L4')),
  label_zh text NOT NULL,
  label_en text NOT NULL,
  nullable boolean NOT NULL,
  code_values jsonb,
  bounds jsonb,
  geo_level text,
  PRIMARY KEY (dataset_id, name)
);
CREATE TABLE geo_unit (
  code text PRIMARY KEY,
  level text NOT NULL CHECK (level IN ('district', 'street', 'community', 'grid')),
  parent_code text,
  name_zh text NOT NULL,
  name_en text NOT NULL,
  urban_village boolean NOT NULL DEFAULT false
);
-- The synthetic city loaded into the domains (seed, size, snapshot date); metadata only.
CREATE TABLE city_snapshot (
  id integer PRIMARY KEY CHECK (id = 1),
  seed text NOT NULL,
  persons bigint NOT NULL,
  as_of date NOT NULL,
  generator_version text NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    name: '0002-pipelines-jobs',
    up: `
CREATE TABLE pipeline (
  id text PRIMARY KEY,
  owner_id bigint NOT NULL REFERENCES app_user(id),
  name text NOT NULL,
  spec jsonb NOT NULL,
  spec_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pipeline_owner ON pipeline(owner_id);
-- A job runs a snapshot of the pipeline document (spec), so later edits never change a run.
CREATE TABLE job (
  id text PRIMARY KEY,
  pipeline_id text NOT NULL REFERENCES pipeline(id),
  owner_id bigint NOT NULL REFERENCES app_user(id),
  spec jsonb NOT NULL,
  spec_hash text NOT NULL,
  state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  error jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX job_owner ON job(owner_id, created_at DESC);
CREATE TABLE job_stage (
  job_id text NOT NULL REFERENCES job(id) ON DELETE CASCADE,
  stage_id text NOT NULL,
  domain text NOT NULL,
  state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  error jsonb,
  result jsonb,              -- the released (guarded) table; nothing else from a domain is stored
  finished_at timestamptz,
  PRIMARY KEY (job_id, stage_id)
);
-- Progress events for SSE; the id is the SSE event id (Last-Event-ID resumes after it).
CREATE TABLE job_event (
  id bigserial PRIMARY KEY,
  job_id text NOT NULL REFERENCES job(id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT now(),
  kind text NOT NULL,
  data jsonb NOT NULL
);
CREATE INDEX job_event_job ON job_event(job_id, id);
`,
  },
  {
    name: '0003-audit',
    up: `
-- Audit trail (DESIGN I5). Append-only and hash-chained: each entry's hash is SHA-256 over the
-- previous entry's hash and the canonical JSON of the entry (server/services/audit.service.ts).
-- seq is assigned under the lock on audit_head (not from a sequence: a rolled-back append would
-- leave a gap, and a gap is what a deleted entry looks like).
CREATE TABLE audit_entry (
  seq bigint PRIMARY KEY CHECK (seq >= 1),
  at timestamptz NOT NULL,
  actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'system', 'anonymous')),  -- anonymous: a failed login
  actor_user_id bigint,
  actor_username text,
  actor_role text,
  action text NOT NULL,
  resource_type text NOT NULL,
  resource_id text,
  decision text CHECK (decision IS NULL OR decision IN ('allow', 'needs-approval', 'deny')),
  policy_version text,
  pipeline_hash text,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb,
  prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX audit_entry_at ON audit_entry(at);
-- One row: the chain's head. Appends lock it (SELECT … FOR UPDATE), so the chain never forks.
CREATE TABLE audit_head (
  id integer PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  hash text NOT NULL,
  checkpoint_id bigint NOT NULL
);
INSERT INTO audit_head (id, seq, hash, checkpoint_id) VALUES (1, 0, repeat('0', 64), 0);
-- Signed checkpoints: the head (seq, hash) at a moment, signed with the coordinator's Ed25519 key;
-- each one also covers the previous checkpoint's signature, so the checkpoints form a chain too.
CREATE TABLE audit_checkpoint (
  id bigint PRIMARY KEY CHECK (id >= 1),
  seq bigint NOT NULL,
  head_hash text NOT NULL,
  at timestamptz NOT NULL,
  key_id text NOT NULL,
  prev_signature text NOT NULL,
  signature text NOT NULL
);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
-- The migrations run as the application role (Postgres mode: the control database's owner), so
-- this takes the rights from the role the server uses. PGlite has only its superuser; the
-- triggers still apply there.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_entry, audit_checkpoint FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_entry, audit_checkpoint FROM CURRENT_USER;
REVOKE DELETE, TRUNCATE ON audit_head FROM CURRENT_USER;
`,
  },
  {
    name: '0004-policies-approvals-budgets',
    up: `
-- Policy versions (DESIGN §5: policies and disclosure parameters are versioned; every decision
-- records the version that made it). The highest version is the one in force.
CREATE TABLE policy_version (
  version integer PRIMARY KEY CHECK (version >= 1),
  cedar text NOT NULL,
  params jsonb NOT NULL,
  hash text NOT NULL,
  created_by bigint REFERENCES app_user(id),
  comment text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Researchers work in projects; the privacy budget is kept per researcher and project.
CREATE TABLE project (
  id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9-]{1,63}$'),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE project_member (
  project_id text NOT NULL REFERENCES project(id),
  user_id bigint NOT NULL REFERENCES app_user(id),
  PRIMARY KEY (project_id, user_id)
);
-- ε as exact decimals; the CHECK makes overspending impossible even for concurrent charges.
CREATE TABLE dp_budget (
  user_id bigint NOT NULL REFERENCES app_user(id),
  project_id text NOT NULL REFERENCES project(id),
  total numeric(12, 6) NOT NULL CHECK (total >= 0),
  spent numeric(12, 6) NOT NULL DEFAULT 0 CHECK (spent >= 0),
  CHECK (spent <= total),
  PRIMARY KEY (user_id, project_id)
);
-- The job's state machine grows: awaiting_approval (an officer must approve first) and rejected.
ALTER TABLE job DROP CONSTRAINT job_state_check;
ALTER TABLE job ADD CONSTRAINT job_state_check
  CHECK (state IN ('awaiting_approval', 'rejected', 'queued', 'running', 'succeeded', 'failed', 'cancelled'));
ALTER TABLE job
  ADD COLUMN requester_role text,
  ADD COLUMN policy_version integer REFERENCES policy_version(version),
  ADD COLUMN decision jsonb,            -- what the policy engine decided, and which policies
  ADD COLUMN bound_hash text,           -- approvals are bound to it: DAG, parameters, inputs, policy version
  ADD COLUMN approvals_required integer NOT NULL DEFAULT 0,
  ADD COLUMN max_level integer,
  ADD COLUMN domains jsonb,
  ADD COLUMN project_id text REFERENCES project(id),
  ADD COLUMN epsilon numeric(12, 6),
  -- researchers' outputs: pending → released | returned | rejected (Airlock-like), null for staff
  ADD COLUMN review_state text CHECK (review_state IN ('pending', 'released', 'returned', 'rejected'));
-- One charge per job: a retried dispatch never charges twice.
CREATE TABLE dp_charge (
  job_id text PRIMARY KEY REFERENCES job(id),
  user_id bigint NOT NULL REFERENCES app_user(id),
  project_id text NOT NULL REFERENCES project(id),
  epsilon numeric(12, 6) NOT NULL CHECK (epsilon > 0),
  at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE approval (
  id bigserial PRIMARY KEY,
  job_id text NOT NULL REFERENCES job(id),
  officer_id bigint NOT NULL REFERENCES app_user(id),
  decision text NOT NULL CHECK (decision IN ('approve', 'reject')),
  reason text NOT NULL DEFAULT '',
  bound_hash text NOT NULL,
  policy_version integer NOT NULL REFERENCES policy_version(version),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  UNIQUE (job_id, officer_id)
);
CREATE TABLE output_review (
  id bigserial PRIMARY KEY,
  job_id text NOT NULL REFERENCES job(id),
  reviewer_id bigint NOT NULL REFERENCES app_user(id),
  from_state text NOT NULL,
  to_state text NOT NULL CHECK (to_state IN ('released', 'returned', 'rejected')),
  reason text NOT NULL DEFAULT '',
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_awaiting ON job(state) WHERE state = 'awaiting_approval';
CREATE INDEX job_review ON job(review_state) WHERE review_state = 'pending';
`,
  },
  {
    name: '0005-pipeline-deleted',
    up: `
-- A deleted pipeline that has jobs is kept (its jobs and the audit trail name it) but hidden from
-- its owner's list and no longer opened, renamed or run; one without jobs is removed.
ALTER TABLE pipeline ADD COLUMN deleted_at timestamptz;
`,
  },
];
