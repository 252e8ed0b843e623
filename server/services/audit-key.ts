import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LabError, t } from '../../sandbox/errors/index.ts';

/**
 * The Ed25519 key that signs the audit trail's checkpoints. The coordinator holds it in a file of
 * its own (PKCS#8 PEM, mode 0600): `LAB_AUDIT_SIGNING_KEY_FILE`, else
 * `<LAB_DATA_DIR>/secrets/audit-signing-key.pem`. It is created on first start when missing; the
 * public half is written beside it (`….pub.pem`) so an auditor can verify with that alone (point
 * `LAB_AUDIT_SIGNING_KEY_FILE` at the public file: verification works, signing does not).
 *
 * The key never goes into the control database: a database superuser who rewrites the chain
 * cannot sign a matching checkpoint.
 */
export interface AuditKey {
  /** First 16 hex digits of SHA-256 over the public key (SPKI DER). Stored with each checkpoint. */
  readonly keyId: string;
  readonly publicKey: KeyObject;
  /** Base64 Ed25519 signature; absent for a verify-only (public) key. */
  readonly sign?: (message: Buffer) => string;
  verify(message: Buffer, signatureBase64: string): boolean;
}

export const AUDIT_KEY_ENV = 'LAB_AUDIT_SIGNING_KEY_FILE';

/** Where the signing key lives for this data folder and environment. */
export function auditKeyPath(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[AUDIT_KEY_ENV]?.trim();
  return fromEnv ? resolve(fromEnv) : join(dataDir, 'secrets', 'audit-signing-key.pem');
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex').slice(0, 16);
}

function fromKeys(publicKey: KeyObject, privateKey: KeyObject | undefined): AuditKey {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw unusable('the key is not an Ed25519 key');
  return {
    keyId: keyIdOf(publicKey),
    publicKey,
    ...(privateKey ? { sign: (message: Buffer) => sign(null, message, privateKey).toString('base64') } : {}),
    verify: (message, signatureBase64) => {
      const sig = Buffer.from(signatureBase64, 'base64');
      if (sig.length !== 64) return false;
      try {
        return verify(null, message, publicKey, sig);
      } catch {
        return false;
      }
    },
  };
}

const unusable = (en: string, zh = en, cause?: unknown) => new LabError('LAB-E092', { detail: t(zh, en), ...(cause !== undefined ? { cause } : {}) });

/** Reads a key file: a private key signs and verifies, a public key only verifies. Undefined when missing. */
export function readAuditKey(path: string): AuditKey | undefined {
  if (!existsSync(path)) return undefined;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (cause) {
    throw unusable(`cannot read ${path}`, `无法读取 ${path}`, cause);
  }
  try {
    if (pem.includes('PRIVATE KEY')) {
      const privateKey = createPrivateKey(pem);
      return fromKeys(createPublicKey(privateKey), privateKey);
    }
    return fromKeys(createPublicKey(pem), undefined);
  } catch (cause) {
    if (cause instanceof LabError) throw cause;
    throw unusable(`${path} does not hold a PEM key`, `${path} 不是 PEM 格式的密钥`, cause);
  }
}

/** Reads the key, creating it (and its public half) when the file does not exist. */
export function loadOrCreateAuditKey(path: string): { key: AuditKey; created: boolean } {
  const existing = readAuditKey(path);
  if (existing) return { key: existing, created: false };
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  writeFileSync(publicPath(path), publicKey.export({ format: 'pem', type: 'spki' }), { mode: 0o644 });
  return { key: fromKeys(publicKey, privateKey), created: true };
}

export const publicPath = (path: string) => path.replace(/\.pem$/, '') + '.pub.pem';

/** How often the coordinator signs the head: every `LAB_AUDIT_CHECKPOINT_MINUTES` (default 10) and every 100 entries. */
export function auditCheckpointMinutes(env: NodeJS.ProcessEnv = process.env): number {
  const text = env['LAB_AUDIT_CHECKPOINT_MINUTES']?.trim();
  if (!text) return 10;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 24 * 60) {
    throw new LabError('LAB-E031', { detail: t(`LAB_AUDIT_CHECKPOINT_MINUTES 须为 0 到 1440 之间的数（收到 ${JSON.stringify(text)}）`, `LAB_AUDIT_CHECKPOINT_MINUTES must be a number above 0 and at most 1440 (got ${JSON.stringify(text)})`), field: 'LAB_AUDIT_CHECKPOINT_MINUTES' });
  }
  return n;
}
