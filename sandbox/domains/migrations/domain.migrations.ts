import type { SqlMigration } from '../../store/migrate.ts';
import type { DomainId } from '../domain-ids.ts';

/**
 * Domain database migrations. 0001 is the v1 catalog (sandbox/domains/catalog) frozen as SQL:
 * change a dataset by adding a migration here and editing the catalog; a test checks that every
 * migrated database matches the catalog column for column. Tables carry no indexes at creation:
 * the loader builds them after COPY (see generator/load.ts), which keeps bulk loads fast.
 */
const COMMON = `-- Reference geography (public, L1): district → street → community → grid.
CREATE TABLE geo_unit (
  code text PRIMARY KEY,
  level text NOT NULL CHECK (level IN ('district', 'street', 'community', 'grid')),
  parent_code text,
  name_zh text NOT NULL,
  name_en text NOT NULL,
  urban_village boolean NOT NULL DEFAULT false
);
-- What was loaded into this domain: seed, size, snapshot date, generator version, content hash.
CREATE TABLE lab_meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
`;

const V1_MIGRATIONS: Record<DomainId, readonly SqlMigration[]> = {
  registry: [{ name: '0001-initial', up: COMMON + `
CREATE TABLE household (
  household_id bigint NOT NULL,
  household_type text NOT NULL,
  address text NOT NULL,
  district_code text NOT NULL,
  street_code text NOT NULL,
  community_code text NOT NULL,
  grid_code text NOT NULL,
  created_on date NOT NULL
);
CREATE TABLE person (
  person_id bigint NOT NULL,
  id_number text NOT NULL,
  name text NOT NULL,
  sex text NOT NULL,
  birth_date date NOT NULL,
  phone text,
  household_id bigint NOT NULL,
  household_type text NOT NULL,
  native_region_code text NOT NULL,
  district_code text NOT NULL,
  street_code text NOT NULL,
  community_code text NOT NULL,
  grid_code text NOT NULL,
  address text NOT NULL,
  registered_on date NOT NULL,
  status text NOT NULL,
  deregistered_on date
);
CREATE TABLE reference_photo (
  id_number text NOT NULL,
  photo_ref text,
  captured_on date NOT NULL
);
` }],
  social: [{ name: '0001-initial', up: COMMON + `
CREATE TABLE employment (
  employment_id bigint NOT NULL,
  id_number text NOT NULL,
  industry text NOT NULL,
  work_district_code text NOT NULL,
  work_street_code text NOT NULL,
  work_community_code text NOT NULL,
  work_grid_code text NOT NULL,
  start_date date NOT NULL,
  end_date date,
  monthly_wage integer NOT NULL
);
CREATE TABLE insurance (
  id_number text NOT NULL,
  insurance_type text NOT NULL,
  contribution_base integer NOT NULL,
  first_paid_month date NOT NULL,
  last_paid_month date NOT NULL
);
` }],
  health: [{ name: '0001-initial', up: COMMON + `
CREATE TABLE chronic_condition (
  record_id bigint NOT NULL,
  id_number text NOT NULL,
  condition text NOT NULL,
  diagnosed_on date NOT NULL,
  last_visit_on date NOT NULL,
  district_code text NOT NULL,
  street_code text NOT NULL,
  community_code text NOT NULL,
  grid_code text NOT NULL
);
CREATE TABLE pregnancy (
  pregnancy_id bigint NOT NULL,
  id_number text NOT NULL,
  registered_on date NOT NULL,
  expected_delivery date NOT NULL,
  status text NOT NULL,
  district_code text NOT NULL,
  street_code text NOT NULL,
  community_code text NOT NULL,
  grid_code text NOT NULL
);
CREATE TABLE birth (
  birth_id bigint NOT NULL,
  mother_id_number text NOT NULL,
  birth_date date NOT NULL,
  sex text NOT NULL,
  district_code text NOT NULL
);
` }],
  civil: [{ name: '0001-initial', up: COMMON + `
CREATE TABLE elderly_alone (
  id_number text NOT NULL,
  kind text NOT NULL,
  since date NOT NULL,
  district_code text NOT NULL,
  street_code text NOT NULL,
  community_code text NOT NULL,
  grid_code text NOT NULL
);
CREATE TABLE disability (
  id_number text NOT NULL,
  disability_type text NOT NULL,
  grade text NOT NULL,
  certified_on date NOT NULL,
  district_code text NOT NULL,
  street_code text NOT NULL,
  community_code text NOT NULL,
  grid_code text NOT NULL
);
CREATE TABLE subsidy (
  subsidy_id bigint NOT NULL,
  id_number text NOT NULL,
  subsidy_type text NOT NULL,
  monthly_amount integer NOT NULL,
  since date NOT NULL,
  until date,
  district_code text NOT NULL,
  street_code text NOT NULL,
  community_code text NOT NULL,
  grid_code text NOT NULL
);
CREATE TABLE death (
  id_number text NOT NULL,
  death_date date NOT NULL,
  district_code text NOT NULL
);
` }],
  housing: [{ name: '0001-initial', up: COMMON + `
CREATE TABLE rental_house (
  house_id bigint NOT NULL,
  address text NOT NULL,
  address_key text NOT NULL,
  owner_id_number text NOT NULL,
  district_code text NOT NULL,
  street_code text NOT NULL,
  community_code text NOT NULL,
  grid_code text NOT NULL,
  urban_village boolean NOT NULL,
  rooms integer NOT NULL,
  area_m2 integer NOT NULL,
  registered_on date NOT NULL
);
CREATE TABLE tenancy (
  tenancy_id bigint NOT NULL,
  house_id bigint NOT NULL,
  tenant_id_number text NOT NULL,
  start_date date NOT NULL,
  end_date date
);
CREATE TABLE self_declaration (
  declaration_id bigint NOT NULL,
  house_id bigint NOT NULL,
  declared_on date NOT NULL
);
` }],
  grid: [{ name: '0001-initial', up: COMMON + `
CREATE TABLE visit (
  visit_id bigint NOT NULL,
  id_number text NOT NULL,
  address_key text NOT NULL,
  district_code text NOT NULL,
  street_code text NOT NULL,
  community_code text NOT NULL,
  grid_code text NOT NULL,
  visited_on date NOT NULL,
  worker_id text NOT NULL,
  purpose text NOT NULL,
  photo_ref text
);
CREATE TABLE incident (
  incident_id bigint NOT NULL,
  address_key text NOT NULL,
  district_code text NOT NULL,
  street_code text NOT NULL,
  community_code text NOT NULL,
  grid_code text NOT NULL,
  reported_on date NOT NULL,
  category text NOT NULL
);
` }],
};

/**
 * 0002, every domain: the release ledger (disclosure/release-ledger.ts). What this domain has
 * released, cell by cell, with each cell's exact person count and contributor-set fingerprint, so
 * a later table of the same population can be guarded against differencing. It never leaves the
 * domain. `lab_guard_key` holds the domain's secret key for those fingerprints.
 */
const LEDGER: SqlMigration = { name: '0002-release-ledger', up: `
CREATE TABLE lab_release (
  release_id text PRIMARY KEY,
  released_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE lab_release_cell (
  release_id text NOT NULL REFERENCES lab_release (release_id) ON DELETE CASCADE,
  keyset text NOT NULL,
  cell text NOT NULL,
  units bigint NOT NULL,
  fingerprint text NOT NULL
);
CREATE INDEX lab_release_cell_keyset ON lab_release_cell (keyset, cell);
CREATE TABLE lab_guard_key (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  key bigint NOT NULL
);
INSERT INTO lab_guard_key (key) VALUES (('x' || substr(md5(gen_random_uuid()::text || clock_timestamp()::text), 1, 16))::bit(64)::bigint);
` };

/**
 * The ledger keeps suppressed cells too (flagged, with their fingerprint, never a value): a later
 * table must keep a cell suppressed when the same contributors were suppressed before, under any
 * keys, hence the index on fingerprints.
 */
const LEDGER_SUPPRESSED: SqlMigration = { name: '0003-ledger-suppressed-cells', up: `
ALTER TABLE lab_release_cell ADD COLUMN suppressed boolean NOT NULL DEFAULT false;
CREATE INDEX lab_release_cell_fingerprint ON lab_release_cell (fingerprint) WHERE suppressed;
` };

/**
 * Cross-domain protocol steps (docs/protocols.md, "PSI in pipelines"): `lab_psi_member` holds, per
 * job and step, the receiver's own keys that the other domain also holds (written by the receiver
 * in one transaction, read by the job's stages, deleted when the job ends or is cancelled).
 * Follow-up lists (I6): the outbox of row-level results owned by this domain, read by its stewards
 * only (through the server, over the queue); the control database keeps no row of them.
 */
const PSI: SqlMigration = { name: '0004-psi', up: `
CREATE TABLE lab_psi_member (
  job_id text NOT NULL,
  step_id text NOT NULL,
  item text NOT NULL,
  PRIMARY KEY (job_id, step_id, item)
);
CREATE TABLE lab_follow_up_list (
  list_id text PRIMARY KEY,
  job_id text NOT NULL,
  node_id text NOT NULL,
  title text NOT NULL,
  unit_kind text NOT NULL CHECK (unit_kind IN ('person', 'house')),
  row_count integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (job_id, node_id)
);
CREATE TABLE lab_follow_up_row (
  list_id text NOT NULL REFERENCES lab_follow_up_list (list_id) ON DELETE CASCADE,
  unit text NOT NULL,
  PRIMARY KEY (list_id, unit)
);
` };

/**
 * 0005, grid only: photos taken in the field (S5, `POST /api/domains/grid/photos`). The grid worker
 * stores the photo, its face template and quality figures here, with the visit row it adds to
 * `visit` (`photo_ref` = `field_photo:<photo_id>`), in one transaction. Field-capture visits take
 * their ids from `field_visit_id`, above any id the generator writes. Not a catalog dataset: no
 * pipeline reads it; the photo and the template never leave the domain (I1, I3).
 */
const FIELD_PHOTOS: SqlMigration = { name: '0005-field-photos', up: `
CREATE SEQUENCE field_visit_id START WITH 1000000000000;
CREATE TABLE field_photo (
  photo_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  visit_id bigint NOT NULL,
  id_number text NOT NULL,
  captured_by text NOT NULL,
  captured_at timestamptz NOT NULL DEFAULT now(),
  image bytea NOT NULL,
  image_sha256 text NOT NULL,
  model_id text NOT NULL,
  template bytea NOT NULL,
  face_box jsonb NOT NULL,
  landmarks jsonb NOT NULL,
  quality jsonb NOT NULL
);
CREATE INDEX field_photo_visit ON field_photo (visit_id);
CREATE INDEX field_photo_id_number ON field_photo (id_number);
` };

const withLedger = (d: DomainId): readonly SqlMigration[] => [...V1_MIGRATIONS[d], LEDGER, LEDGER_SUPPRESSED, PSI];

/**
 * 0006, registry and grid: face templates (S5; sandbox/crypto/face-match). The reference photo
 * and the grid visit carry the int8 template of their face (bytea, `model_id` names the model:
 * only templates of one model are ever compared) or, for a visit, why none could be made.
 * Templates are L4 identifiers: never output, never grouped on, and they never leave the domain.
 */
const FACE_TEMPLATES_REGISTRY: SqlMigration = { name: '0006-face-templates', up: `
ALTER TABLE reference_photo ADD COLUMN model_id text, ADD COLUMN template bytea;
` };
const FACE_TEMPLATES_GRID: SqlMigration = { name: '0006-face-templates', up: `
ALTER TABLE visit ADD COLUMN face_model_id text, ADD COLUMN face_template bytea, ADD COLUMN face_unusable text;
` };

/**
 * 0007, grid only: outcomes of face-compare steps (S5, operators/face-verify). The grid worker, the
 * probe holder, writes one row per compared visit (`visit_key` = the visit number as text) in one
 * transaction when the step ends; the job's stages read them (LEFT JOIN: a visit not compared is
 * 'unusable'); deleted when the job ends or is cancelled, as PSI members are.
 */
const FACE_OUTCOME: SqlMigration = { name: '0007-face-outcome', up: `
CREATE TABLE lab_face_outcome (
  job_id text NOT NULL,
  step_id text NOT NULL,
  visit_key text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('pass', 'fail', 'unusable')),
  PRIMARY KEY (job_id, step_id, visit_key)
);
` };

/**
 * 0008, registry only: reference photos enrolled inside the registry domain (S5,
 * `npm run lab -- face enroll`, sandbox/runtime/worker/reference-enroll.ts). The image, its hash, the
 * face box, landmarks and quality figures are kept here; the int8 template goes to `reference_photo`
 * (`photo_ref` = `reference_image:<photo_id>`, `model_id` the engine's), written together in one
 * transaction. Not a catalog dataset: no pipeline reads it; photo and template never leave the domain.
 */
const REFERENCE_PHOTOS: SqlMigration = { name: '0008-reference-photos', up: `
CREATE TABLE reference_image (
  photo_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id_number text NOT NULL,
  enrolled_by text NOT NULL,
  enrolled_at timestamptz NOT NULL DEFAULT now(),
  image bytea NOT NULL,
  image_sha256 text NOT NULL,
  model_id text NOT NULL,
  face_box jsonb NOT NULL,
  landmarks jsonb NOT NULL,
  quality jsonb NOT NULL
);
CREATE INDEX reference_image_id_number ON reference_image (id_number);
` };

export const DOMAIN_MIGRATIONS: Record<DomainId, readonly SqlMigration[]> = {
  registry: [...withLedger('registry'), FACE_TEMPLATES_REGISTRY, REFERENCE_PHOTOS], social: withLedger('social'), health: withLedger('health'),
  civil: withLedger('civil'), housing: withLedger('housing'), grid: [...withLedger('grid'), FIELD_PHOTOS, FACE_TEMPLATES_GRID, FACE_OUTCOME],
};
