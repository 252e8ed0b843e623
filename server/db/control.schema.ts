import type { ColumnType, Generated } from 'kysely';

/** Kysely types of the control database (see control.migrations.ts). */
export interface ControlSchema {
  app_user: {
    id: Generated<number>;
    username: string;
    display_name: string;
    role: 'analyst' | 'officer' | 'researcher' | 'steward' | 'admin';
    domain: string | null;
    password_hash: string;
    disabled: Generated<boolean>;
    failed_logins: Generated<number>;
    locked_until: Date | null;
    created_at: Generated<Date>;
  };
  user_session: {
    id: string;
    user_id: number;
    csrf_token: string;
    created_at: Generated<Date>;
    expires_at: Date;
    last_seen_at: Generated<Date>;
  };
  catalog_dataset: {
    id: string;
    domain: string;
    table_name: string;
    label_zh: string;
    label_en: string;
    description_zh: string;
    description_en: string;
    unit_column: string;
    unit_kind: string;
  };
  catalog_column: {
    dataset_id: string;
    name: string;
    position: number;
    col_type: string;
    semantic: string;
    level: 'L1' | 'L2' | 'L3' | 'L4';
    label_zh: string;
    label_en: string;
    nullable: boolean;
    code_values: ColumnType<unknown, string | null, string | null> | null;
    bounds: ColumnType<unknown, string | null, string | null> | null;
    geo_level: string | null;
  };
  geo_unit: {
    code: string;
    level: 'district' | 'street' | 'community' | 'grid';
    parent_code: string | null;
    name_zh: string;
    name_en: string;
    urban_village: boolean;
  };
  pipeline: {
    id: string;
    owner_id: number;
    name: string;
    spec: ColumnType<unknown, string, string>;
    spec_hash: string;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
    /** Set when its owner deleted it while jobs still refer to it (hidden, kept for the audit trail). */
    deleted_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  };
  job: {
    id: string;
    pipeline_id: string;
    owner_id: number;
    spec: ColumnType<unknown, string, string>;
    spec_hash: string;
    state: JobState;
    error: ColumnType<unknown, string | null, string | null> | null;
    created_at: Generated<Date>;
    finished_at: Date | null;
    requester_role: string | null;
    policy_version: number | null;
    decision: ColumnType<unknown, string | null, string | null> | null;
    bound_hash: string | null;
    approvals_required: Generated<number>;
    max_level: number | null;
    domains: ColumnType<unknown, string | null, string | null> | null;
    project_id: string | null;
    epsilon: ColumnType<string | null, string | null, string | null>;
    review_state: ReviewState | null;
  };
  job_stage: {
    job_id: string;
    stage_id: string;
    domain: string;
    state: JobState;
    error: ColumnType<unknown, string | null, string | null> | null;
    result: ColumnType<unknown, string | null, string | null> | null;
    finished_at: Date | null;
  };
  job_event: {
    id: Generated<number>;
    job_id: string;
    at: Generated<Date>;
    kind: string;
    data: ColumnType<unknown, string, string>;
  };
  audit_entry: {
    seq: number;
    at: Date;
    actor_kind: 'user' | 'system' | 'anonymous';
    actor_user_id: number | null;
    actor_username: string | null;
    actor_role: string | null;
    action: string;
    resource_type: string;
    resource_id: string | null;
    decision: AuditDecision | null;
    policy_version: string | null;
    pipeline_hash: string | null;
    detail: ColumnType<unknown, string, never>;
    prev_hash: string;
    hash: string;
  };
  audit_head: {
    id: number;
    seq: number;
    hash: string;
    checkpoint_id: number;
  };
  audit_checkpoint: {
    id: number;
    seq: number;
    head_hash: string;
    at: Date;
    key_id: string;
    prev_signature: string;
    signature: string;
  };
  policy_version: {
    version: number;
    cedar: string;
    params: ColumnType<unknown, string, never>;
    hash: string;
    created_by: number | null;
    comment: Generated<string>;
    created_at: Generated<Date>;
  };
  project: { id: string; name: string; created_at: Generated<Date> };
  project_member: { project_id: string; user_id: number };
  dp_budget: {
    user_id: number;
    project_id: string;
    total: ColumnType<string, string, string>;
    spent: ColumnType<string, string | undefined, string>;
  };
  dp_charge: { job_id: string; user_id: number; project_id: string; epsilon: ColumnType<string, string, never>; at: Generated<Date> };
  approval: {
    id: Generated<number>;
    job_id: string;
    officer_id: number;
    decision: 'approve' | 'reject';
    reason: string;
    bound_hash: string;
    policy_version: number;
    created_at: Generated<Date>;
    expires_at: Date;
  };
  output_review: {
    id: Generated<number>;
    job_id: string;
    reviewer_id: number;
    from_state: string;
    to_state: 'released' | 'returned' | 'rejected';
    reason: string;
    at: Generated<Date>;
  };
  city_snapshot: {
    id: number;
    seed: string;
    persons: number;
    as_of: string;
    generator_version: string;
    loaded_at: Generated<Date>;
  };
}

/** What a policy decided about an audited action (null: no decision was involved). */
export type AuditDecision = 'allow' | 'needs-approval' | 'deny';

export type JobState = 'awaiting_approval' | 'rejected' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type ReviewState = 'pending' | 'released' | 'returned' | 'rejected';

export type UserRole = ControlSchema['app_user']['role'];
export const USER_ROLES: readonly UserRole[] = ['analyst', 'officer', 'researcher', 'steward', 'admin'];
