/**
 * The shapes the workspace reads from the lab's API (see /api/openapi.json). Written out here
 * because the browser never imports server code; tests/e2e drives the real server, so a drift
 * between these and the routes shows up there.
 */

export interface Bilingual { readonly zh: string; readonly en: string }

export type Role = 'analyst' | 'officer' | 'researcher' | 'steward' | 'admin';

export interface User {
  readonly username: string;
  readonly displayName: string;
  readonly role: Role;
  readonly domain: string | null;
}

export interface SessionInfo { readonly user: User; readonly csrfToken: string }

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly nodeId?: string;
  readonly field?: string;
  readonly span?: { readonly start: number; readonly end: number };
}

export interface PipelineErrors extends ErrorBody { readonly errors?: readonly ErrorBody[] }

export type Level = 'L1' | 'L2' | 'L3' | 'L4';

export interface CatalogColumn {
  readonly name: string;
  readonly type: string;
  readonly semantic: string;
  readonly level: Level;
  readonly label: Bilingual;
  readonly nullable: boolean;
  readonly values: Readonly<Record<string, Bilingual>> | null;
  readonly bounds: readonly [number, number] | null;
  readonly geoLevel: string | null;
}

export interface CatalogDataset {
  readonly id: string;
  readonly domain: string;
  readonly table: string;
  readonly label: Bilingual;
  readonly description: Bilingual;
  readonly unit: { readonly column: string; readonly kind: string };
  readonly columns: readonly CatalogColumn[];
}

export interface Catalog { readonly datasets: readonly CatalogDataset[] }

export interface GeoUnit {
  readonly code: string;
  readonly level: 'district' | 'street' | 'community' | 'grid';
  readonly parentCode: string | null;
  readonly name: Bilingual;
  readonly urbanVillage: boolean;
}

export type PortType = 'rows' | 'table';

export interface UiHint {
  readonly widget: 'expression' | 'dataset' | 'column' | 'tags' | 'text';
  readonly port?: string;
  readonly multiple?: boolean;
  readonly placeholder?: Bilingual;
}

/** The part of JSON Schema (draft 2020-12) the inspector understands; anything else is shown as JSON text. */
export interface JsonSchema {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  readonly title?: string;
  readonly description?: string;
  /** A bilingual label an operator may attach with zod `.meta({ label })`. */
  readonly label?: Bilingual;
}

export type OperatorCategory = 'source' | 'transform' | 'statistics' | 'output';

export interface OperatorInfo {
  readonly ref: string;
  readonly id: string;
  readonly version: number;
  readonly label: Bilingual;
  readonly help: Bilingual;
  readonly category: OperatorCategory;
  readonly policyAction: string;
  readonly inputs: Readonly<Record<string, PortType>>;
  readonly outputs: Readonly<Record<string, PortType>>;
  readonly params: JsonSchema;
  readonly ui: Readonly<Record<string, UiHint>>;
}

export interface TagInfo {
  readonly id: string;
  readonly label: Bilingual;
  readonly category: string;
  readonly dataset: string;
  readonly level: Level;
}

export interface OperatorRegistry {
  readonly operators: readonly OperatorInfo[];
  readonly tags: { readonly categories: readonly { readonly id: string; readonly label: Bilingual }[]; readonly tags: readonly TagInfo[] };
}

export interface PipelineNodeDoc {
  readonly id: string;
  readonly op: string;
  readonly label?: string;
  readonly inputs?: Readonly<Record<string, string>>;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly position?: { readonly x: number; readonly y: number };
}

export interface PipelineDocument {
  readonly specVersion: 1;
  readonly name: string;
  readonly description?: string;
  readonly nodes: readonly PipelineNodeDoc[];
}

export interface ColumnOut { readonly name: string; readonly type: string; readonly level: string; readonly identifier: boolean }

export interface NodeOutput { readonly kind: PortType; readonly domain: string; readonly columns: readonly ColumnOut[] }

export interface ValidationResult {
  readonly valid: true;
  readonly nodes: readonly { readonly id: string; readonly op: string; readonly outputs: Readonly<Record<string, NodeOutput>> }[];
}

/** awaiting_approval: officers must approve first (the policy decided); rejected: an officer said no (job.error carries the reason). */
export type JobState = 'awaiting_approval' | 'rejected' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Researchers' outputs: pending until an officer releases, returns or rejects them. */
export type ReviewState = 'pending' | 'released' | 'returned' | 'rejected';

export interface StageInfo { readonly id: string; readonly domain: string; readonly state: string; readonly error?: unknown }

export interface JobApproval { readonly officer: string; readonly decision: 'approve' | 'reject'; readonly reason: string; readonly at: string }

export interface Job {
  readonly id: string;
  readonly pipelineId: string;
  readonly state: JobState;
  readonly progress: number;
  readonly error: unknown;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly stages: readonly StageInfo[];
  /** The policy version that decided the run. */
  readonly policyVersion: number | null;
  /** Distinct officers who must approve before the job runs (0: none). */
  readonly approvalsRequired: number;
  readonly approvals: readonly JobApproval[];
  readonly reviewState: ReviewState | null;
  readonly projectId: string | null;
  /** ε charged to the project (researchers), an exact decimal. */
  readonly epsilon: string | null;
  /** The pipeline document the job runs (a snapshot: what officers approve). */
  readonly pipeline?: PipelineDocument;
}

/** POST /api/pipelines/{id}/runs. */
export interface RunStarted { readonly jobId: string; readonly state: 'queued' | 'awaiting_approval'; readonly approvalsRequired: number }

export interface ReleasedColumn {
  readonly name: string;
  readonly role: 'key' | 'measure';
  readonly label?: Bilingual;
  readonly geoLevel?: string;
  readonly measure?: string;
}

export interface ReleasedRow {
  readonly keys: readonly (string | null)[];
  readonly grouping: number;
  readonly values: readonly (number | null)[];
  readonly suppressed: boolean;
  readonly rounded: boolean;
  readonly allOfParent: boolean;
}

export interface ReleasedTable {
  readonly columns: readonly ReleasedColumn[];
  readonly rows: readonly ReleasedRow[];
  readonly guard: {
    /** `staff`: threshold, secondary suppression, rounding. `researcher-dp`: DP noise, then threshold and rounding. */
    readonly rule: 'staff' | 'researcher-dp';
    readonly threshold: number;
    readonly rounding: number;
    readonly cells: number;
    readonly suppressed: number;
    readonly cellKeyNoise?: number;
    /** Researchers: discrete Laplace noise of `scale` (= 1/ε) on each of the `noisyCells` finest cells. */
    readonly dp?: { readonly mechanism: string; readonly epsilon: string; readonly noisyCells: number; readonly scale: string };
  };
}

export interface JobResult { readonly jobId: string; readonly tables: readonly { readonly stageId: string; readonly domain: string; readonly table: ReleasedTable }[] }

/** How the policy in force decided a run (policies/engine.ts `Decision`). */
export interface RunDecision {
  readonly decision: 'allow' | 'needs-approval' | 'deny';
  readonly approvalsRequired: number;
  readonly policyVersion: number;
  /** The @id of the policies that determined the decision. */
  readonly policies: readonly string[];
}

/** GET /api/approvals: one job waiting for an officer (approval or output review). */
export interface InboxItem {
  readonly jobId: string;
  readonly pipelineId: string;
  readonly ownerId: number;
  readonly requesterRole: Role | null;
  readonly createdAt: string;
  /** Highest classification read, 1–4. */
  readonly maxLevel: number | null;
  readonly domains: unknown;
  readonly approvalsRequired: number;
  readonly projectId: string | null;
  readonly epsilon: string | null;
  readonly decision: unknown;
  readonly policyVersion: number | null;
}

export interface Inbox { readonly approvals: readonly InboxItem[]; readonly reviews: readonly InboxItem[] }

export interface ApproveOutcome { readonly state: JobState; readonly approvals: number; readonly approvalsRequired: number }

/** A stored policy version (GET /api/policies/current, /api/policies/{version}). */
export interface PolicyVersion {
  readonly version: number;
  readonly hash: string;
  readonly cedar: string;
  readonly params: unknown;
  readonly comment: string;
  readonly createdBy: number | null;
  readonly createdAt: string;
  readonly schema: string;
}

export interface PolicyVersionInfo { readonly version: number; readonly hash: string; readonly createdBy: number | null; readonly comment: string; readonly createdAt: string }

/** One problem of a policy text or its parameters (422 LAB-E130 `problems`). */
export interface PolicyProblem {
  readonly message: string;
  readonly line: number | null;
  readonly column: number | null;
  readonly policyId: string | null;
  readonly help: string | null;
}

export interface PolicyCheckOk { readonly valid: true; readonly cedar: string; readonly policyIds: readonly string[] }

export type AuditDecision = 'allow' | 'needs-approval' | 'deny';

export interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  readonly actor: { readonly kind: 'user' | 'system' | 'anonymous'; readonly userId: number | null; readonly username: string | null; readonly role: string | null };
  readonly action: string;
  readonly resource: { readonly type: string; readonly id: string | null };
  readonly decision: AuditDecision | null;
  readonly policyVersion: string | null;
  readonly pipelineHash: string | null;
  readonly detail: unknown;
  readonly hash: string;
}

export interface AuditPage { readonly entries: readonly AuditEntry[]; readonly headSeq: number; readonly next: number | null }

export interface AuditVerification {
  readonly ok: boolean;
  readonly entries: number;
  readonly checkpoints: number;
  readonly head: { readonly seq: number; readonly hash: string };
  readonly firstBad: { readonly seq: number; readonly reason: string; readonly checkpointId?: number; readonly message: string } | null;
}

export interface BudgetCharge { readonly jobId: string; readonly epsilon: string; readonly at: string }

/** A researcher's privacy budget in one project; ε values are exact decimals as text. */
export interface PrivacyBudget { readonly projectId: string; readonly total: string; readonly spent: string; readonly remaining: string; readonly charges: readonly BudgetCharge[] }

/** GET /api/pipelines: one of your saved pipelines. */
export interface PipelineListItem {
  readonly id: string;
  readonly name: string;
  readonly specHash: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Jobs run from it, and when the newest started. */
  readonly jobs: number;
  readonly lastRunAt: string | null;
}

/** GET /api/pipelines/{id}: a saved pipeline with its document. */
export interface SavedPipeline {
  readonly id: string;
  readonly name: string;
  readonly specHash: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly spec: PipelineDocument;
}

/** GET /api/jobs: a job you may read (yours; officers everyone's). */
export interface JobListItem {
  readonly id: string;
  readonly pipelineId: string;
  readonly pipelineName: string | null;
  /** The requester's display name. */
  readonly owner: string;
  readonly own: boolean;
  readonly requesterRole: Role | null;
  readonly state: JobState;
  readonly reviewState: ReviewState | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly maxLevel: number | null;
  readonly domains: readonly string[];
  readonly approvalsRequired: number;
  readonly projectId: string | null;
  readonly epsilon: string | null;
  readonly policyVersion: number | null;
}

/** POST /api/pipelines/disclosure-preview: what the guard will do, for you, under the policy in force (no data read). */
export interface DisclosurePreview {
  readonly rule: 'staff' | 'researcher-dp';
  readonly policyVersion: number;
  readonly threshold: number;
  readonly rounding: number;
  readonly cellKeyNoise: number | null;
  readonly maxLevels: number;
  readonly dp: { readonly epsilon: string; readonly mechanism: string } | null;
  readonly review: boolean;
  readonly tables: readonly {
    readonly nodeId: string;
    readonly tableNodeId: string;
    readonly domain: string;
    readonly keys: readonly { readonly name: string; readonly geoLevel: string | null; readonly margin: boolean }[];
    readonly groupingSets: readonly (readonly string[])[];
    readonly measures: readonly { readonly name: string; readonly kind: string; readonly dominance: boolean }[];
  }[];
}

/** GET /api/domains/{id}/follow-ups: a follow-up list kept inside the domain (I6), stewards of that domain only. */
export interface FollowUpListInfo {
  /** `<jobId>~<node id>` */
  readonly listId: string;
  readonly jobId: string;
  readonly title: string;
  readonly unitKind: 'person' | 'house';
  readonly count: number;
  readonly createdAt: string;
}

/** GET /api/domains/{id}/follow-ups/{listId}: the list's rows (ID numbers or house numbers), read from the domain. */
export interface FollowUpRows { readonly list: FollowUpListInfo; readonly rows: readonly string[] }
