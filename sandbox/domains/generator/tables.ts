import { createHash, type Hash } from 'node:crypto';
import { CATALOG } from '../catalog/index.ts';
import type { DomainId } from '../domain-ids.ts';

/**
 * The tables the generator fills: every dataset of the catalog, in catalog order. Rows are
 * emitted in COPY text format with the catalog's column order; the index of a table in this list
 * is how the generator addresses it.
 */
export interface TableSpec {
  /** `<domain>.<table>`, the dataset id. */
  readonly id: string;
  readonly domain: DomainId;
  readonly table: string;
  readonly columns: readonly string[];
}

export const TABLES: readonly TableSpec[] = CATALOG.map((d) => ({ id: d.id, domain: d.domain, table: d.table, columns: d.columns.map((c) => c.name) }));

const indexOf = (id: string): number => {
  const i = TABLES.findIndex((t) => t.id === id);
  if (i < 0) throw new Error(`generator: dataset ${id} is not in the catalog`);
  return i;
};

/** Table indices (positions in TABLES). */
export const T = {
  household: indexOf('registry.household'),
  person: indexOf('registry.person'),
  referencePhoto: indexOf('registry.reference_photo'),
  employment: indexOf('social.employment'),
  insurance: indexOf('social.insurance'),
  chronic: indexOf('health.chronic_condition'),
  pregnancy: indexOf('health.pregnancy'),
  birth: indexOf('health.birth'),
  elderlyAlone: indexOf('civil.elderly_alone'),
  disability: indexOf('civil.disability'),
  subsidy: indexOf('civil.subsidy'),
  death: indexOf('civil.death'),
  rentalHouse: indexOf('housing.rental_house'),
  tenancy: indexOf('housing.tenancy'),
  selfDeclaration: indexOf('housing.self_declaration'),
  visit: indexOf('grid.visit'),
  incident: indexOf('grid.incident'),
} as const;

/** Receives encoded COPY text (whole lines) for one table. */
export type ChunkSink = (table: number, bytes: Uint8Array, rows: number) => void;

/**
 * Tables whose rows may hold non-ASCII text (Chinese names and addresses); every other table is
 * pure ASCII and is encoded as Latin-1, which for ASCII is a plain copy and much cheaper than UTF-8.
 * A unit test checks that the ASCII tables really are ASCII.
 */
export const UTF8_TABLES: ReadonlySet<string> = new Set(['registry.household', 'registry.person', 'housing.rental_house']);

const FLUSH_CHARS = 32 * 1024;

/**
 * Collects the rows of one task for every table and hands them on in encoded chunks of whole
 * lines, hashing what it emitted (SHA-256 per table, in emission order), so the city's content
 * hash does not depend on how tasks are spread over threads.
 *
 * Rows are built as template strings and joined per chunk: on the machines we measured, V8's
 * native join and encoding beat writing bytes field by field from JavaScript (docs/benchmarks.md).
 */
export class RowWriter {
  private readonly lines: string[][] = TABLES.map(() => []);
  private readonly chars: number[] = TABLES.map(() => 0);
  private readonly hashes: Hash[] = TABLES.map(() => createHash('sha256'));
  private readonly utf8: boolean[] = TABLES.map((t) => UTF8_TABLES.has(t.id));
  readonly rows: number[] = TABLES.map(() => 0);

  constructor(private readonly sink: ChunkSink) {}

  /** Adds one row: the fields joined with tabs (NULL as `\\N`), no trailing newline. */
  add(table: number, line: string): void {
    const lines = this.lines[table];
    if (!lines) throw new Error(`no table ${table}`);
    lines.push(line);
    const chars = (this.chars[table] ?? 0) + line.length + 1;
    this.chars[table] = chars;
    if (chars >= FLUSH_CHARS) this.flush(table);
  }

  flush(table: number): void {
    const lines = this.lines[table];
    if (!lines || lines.length === 0) return;
    const n = lines.length;
    lines.push('');
    const text = lines.join('\n');
    const buffer = Buffer.from(text, this.utf8[table] ? 'utf8' : 'latin1');
    // Small Buffers live in Node's shared pool; copy those so the chunk can be transferred.
    const owned = buffer.byteOffset === 0 && buffer.buffer.byteLength === buffer.byteLength;
    const bytes = owned ? new Uint8Array(buffer.buffer, 0, buffer.byteLength) : Uint8Array.from(buffer);
    this.lines[table] = [];
    this.chars[table] = 0;
    this.hashes[table]?.update(bytes);
    this.rows[table] = (this.rows[table] ?? 0) + n;
    this.sink(table, bytes, n);
  }

  /** Flushes everything; returns per-table row counts and hex digests. */
  finish(): { rows: number[]; digests: string[] } {
    for (let i = 0; i < TABLES.length; i++) this.flush(i);
    return { rows: [...this.rows], digests: this.hashes.map((h) => h.digest('hex')) };
  }
}

/** `\N` (NULL) in COPY text. */
export const N = '\\N';
