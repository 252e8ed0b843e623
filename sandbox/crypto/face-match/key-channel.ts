import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import { LabError, t } from '../../errors/index.ts';

/**
 * The sealed side channel of a comparison session: the lookup keys P sends (ID numbers) and the
 * status bytes R returns must reach the other domain but not the coordinator that relays them.
 * Each side makes an X25519 key pair per session; the shared secret goes through HKDF-SHA-256
 * (salt: the session id) into one AES-256-GCM key per direction. A nonce is the batch number (each
 * direction seals batch b once), the associated data binds kind, job, session and batch, so a
 * sealed blob moved to another message fails authentication (LAB-E192).
 *
 * The model is the lab's: honest-but-curious domains and coordinator (an active coordinator could
 * swap the X25519 keys; integrity against it is out of scope, as for the other protocols).
 */
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const INFO = 'DataLab-face-match-v1';

export type Direction = 'probe-to-reference' | 'reference-to-probe';

export class KeyChannel {
  readonly publicKey: Uint8Array;
  #privateKey: KeyObject | undefined;
  #keys: Map<Direction, Buffer> | undefined;

  constructor(private readonly session: string) {
    const pair = generateKeyPairSync('x25519');
    this.#privateKey = pair.privateKey;
    this.publicKey = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519_PREFIX.length));
  }

  get ready(): boolean { return this.#keys !== undefined; }

  /** Derives the two direction keys from the peer's public key; the private key is dropped. */
  connect(peerPublicKey: Uint8Array): void {
    const priv = this.#privateKey;
    if (!priv || this.#keys) throw new LabError('LAB-E193', { detail: t('密钥通道已建立', 'the key channel is already set up') });
    if (peerPublicKey.byteLength !== 32) throw new LabError('LAB-E192', { detail: t('对方的 X25519 公钥长度错误', 'the peer\'s X25519 key has the wrong length') });
    let shared: Buffer;
    try {
      const peer = createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, peerPublicKey]), format: 'der', type: 'spki' });
      shared = diffieHellman({ privateKey: priv, publicKey: peer });
    } catch (cause) {
      throw new LabError('LAB-E192', { detail: t('对方的 X25519 公钥无效', 'the peer\'s X25519 key is invalid'), cause });
    }
    if (shared.every((b) => b === 0)) throw new LabError('LAB-E192', { detail: t('对方的 X25519 公钥无效', 'the peer\'s X25519 key is invalid') });
    const salt = Buffer.from(this.session, 'hex');
    const key = (d: Direction): Buffer => Buffer.from(hkdfSync('sha256', shared, salt, `${INFO} ${d}`, 32));
    this.#keys = new Map([['probe-to-reference', key('probe-to-reference')], ['reference-to-probe', key('reference-to-probe')]]);
    shared.fill(0);
    this.#privateKey = undefined;
  }

  #key(d: Direction): Buffer {
    const k = this.#keys?.get(d);
    if (!k) throw new LabError('LAB-E193', { detail: t('密钥通道尚未建立', 'the key channel is not set up yet') });
    return k;
  }

  seal(d: Direction, batch: number, aad: string, plain: Uint8Array): Uint8Array {
    const c = createCipheriv('aes-256-gcm', this.#key(d), nonce(d, batch));
    c.setAAD(Buffer.from(aad, 'utf8'));
    const out = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  open(d: Direction, batch: number, aad: string, sealed: Uint8Array): Uint8Array {
    const key = this.#key(d);
    if (sealed.byteLength < 16) throw new LabError('LAB-E192', { detail: t('密封数据过短', 'the sealed data is too short') });
    try {
      const c = createDecipheriv('aes-256-gcm', key, nonce(d, batch));
      c.setAAD(Buffer.from(aad, 'utf8'));
      c.setAuthTag(sealed.subarray(sealed.byteLength - 16));
      const out = Buffer.concat([c.update(sealed.subarray(0, sealed.byteLength - 16)), c.final()]);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (cause) {
      throw new LabError('LAB-E192', { detail: t('密封数据未通过认证', 'the sealed data failed authentication'), cause });
    }
  }

  /** Zeroes the direction keys and drops the private key. */
  wipe(): void {
    for (const k of this.#keys?.values() ?? []) k.fill(0);
    this.#keys = undefined;
    this.#privateKey = undefined;
  }

  get wiped(): boolean { return this.#keys === undefined && this.#privateKey === undefined; }
}

function nonce(d: Direction, batch: number): Buffer {
  const n = Buffer.alloc(12);
  n[0] = d === 'probe-to-reference' ? 1 : 2;
  n.writeUInt32BE(batch, 8);
  return n;
}
