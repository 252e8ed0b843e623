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

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface StageInfo { readonly id: string; readonly domain: string; readonly state: string; readonly error?: unknown }

export interface Job {
  readonly id: string;
  readonly pipelineId: string;
  readonly state: JobState;
  readonly progress: number;
  readonly error: unknown;
  readonly stages: readonly StageInfo[];
}

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
  readonly guard: { readonly rule: string; readonly threshold: number; readonly rounding: number; readonly cells: number; readonly suppressed: number; readonly cellKeyNoise?: number };
}

export interface JobResult { readonly jobId: string; readonly tables: readonly { readonly stageId: string; readonly domain: string; readonly table: ReleasedTable }[] }
