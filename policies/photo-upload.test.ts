import { describe, expect, it } from 'vitest';
import { checkBundle, defaultBundle } from './bundle.ts';
import { PolicyEngine, type Principal, type Role } from './engine.ts';

const bundle = defaultBundle();
const checked = checkBundle(bundle.cedar, bundle.params);
if (!checked.ok) throw new Error(`default policy invalid: ${checked.problems[0]?.message ?? ''}`);
const engine = new PolicyEngine(checked.bundle, 1);
const user = (role: Role, domain: string | null = null): Principal => ({ id: 5, username: 'u5', role, domain });

describe('photo.upload under the default policy (S5 field photos)', () => {
  it('allows the grid domain’s stewards to upload to the grid domain', () => {
    const d = engine.decide(user('steward', 'grid'), 'photo.upload', { type: 'Domain', id: 'grid' });
    expect(d).toMatchObject({ decision: 'allow', policies: ['photo-upload-grid-steward'] });
  });

  it.each([
    ['steward', 'registry', 'grid'], ['steward', 'grid', 'registry'], ['steward', 'health', 'health'],
    ['analyst', null, 'grid'], ['officer', null, 'grid'], ['researcher', null, 'grid'], ['admin', null, 'grid'],
  ] as const)('denies a %s of %s uploading to %s', (role, domain, target) => {
    expect(engine.decide(user(role, domain), 'photo.upload', { type: 'Domain', id: target }).decision).toBe('deny');
  });
});
