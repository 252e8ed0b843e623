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
];
