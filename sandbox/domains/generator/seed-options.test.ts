import { describe, expect, it } from 'vitest';
import { DOMAIN_IDS, type DomainId } from '../domain-ids.ts';
import type { Database } from '../../store/database.ts';
import { geographyFor, seedCity, type SeedOptions } from './index.ts';
import { LabError } from '../../errors/index.ts';

/** A stand-in handle: validation must refuse bad options before touching any database. */
const untouched = (name: string): Database => ({
  name, engine: 'postgres',
  get kysely(): never { throw new Error('validation must not touch the database'); },
  exec: () => Promise.reject(new Error('validation must not touch the database')),
  copyIn: () => Promise.reject(new Error('validation must not touch the database')),
  readOnlyQuery: () => Promise.reject(new Error('validation must not touch the database')),
  ping: () => Promise.resolve(),
  close: () => Promise.resolve(),
});
const domains = Object.fromEntries(DOMAIN_IDS.map((d) => [d, untouched(d)])) as Record<DomainId, Database>;
const base: SeedOptions = { persons: 10_000, seed: 's', domains };

async function refusal(o: Partial<SeedOptions>): Promise<LabError> {
  try {
    await seedCity({ ...base, ...o } as SeedOptions);
  } catch (e) {
    if (e instanceof LabError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('seedCity options', () => {
  it.each([
    [{ persons: 9_999 }, 'persons'], [{ persons: 25_000_001 }, 'persons'], [{ persons: 10_000.5 }, 'persons'],
    [{ seed: '' }, 'seed'], [{ seed: 'x'.repeat(201) }, 'seed'],
    [{ asOf: '2026-02-30' }, 'asOf'], [{ asOf: '26-06-30' }, 'asOf'], [{ asOf: '1999-12-31' }, 'asOf'],
    [{ truthFile: ' ' }, 'truthFile'], [{ threads: -1 }, 'threads'],
  ] as [Partial<SeedOptions>, string][])('refuses %j naming the field %s (LAB-E030)', async (o, field) => {
    const e = await refusal(o);
    expect(e.code).toBe('LAB-E030');
    expect(e.field).toBe(field);
  });

  it('refuses a missing domain database', async () => {
    const { grid: _grid, ...five } = domains;
    const e = await refusal({ domains: five as Record<DomainId, Database> });
    expect(e.field).toBe('domains.grid');
  });

  it('geographyFor validates too and returns the units', () => {
    expect(() => geographyFor(5, 's')).toThrow(LabError);
    const units = geographyFor(10_000, 's');
    expect(units.filter((u) => u.level === 'district')).toHaveLength(11);
  });
});
