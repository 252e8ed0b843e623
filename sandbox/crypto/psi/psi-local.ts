import type { PsiItem, PsiWipeReport } from './psi-party.ts';
import type { PsiRole } from './psi-message.ts';
import { PsiReceiver, PsiSender, type PsiReceiverResult, type PsiSenderResult, type PsiSessionOptions } from './psi.protocol.ts';

export interface LocalPsiOptions extends Omit<PsiSessionOptions, 'padTo'> {
  readonly receiverPadTo?: number;
  readonly senderPadTo?: number;
  /** Sees every message as the coordinator would relay it. */
  readonly relay?: (message: Uint8Array, from: PsiRole) => void;
}

export interface LocalPsiRun {
  readonly receiver: PsiReceiverResult;
  readonly sender: PsiSenderResult;
  readonly messages: number;
  readonly bytes: number;
  readonly wiped: { readonly receiver: PsiWipeReport; readonly sender: PsiWipeReport };
}

/**
 * Both parties of one session in this process, messages handed over in memory (the coordinator's
 * relay in miniature): for tests, benchmarks and a bucket run by one worker. Keys are wiped at the
 * end whatever happens.
 */
export async function runPsiLocally(receiverItems: readonly PsiItem[], senderItems: readonly PsiItem[], options: LocalPsiOptions): Promise<LocalPsiRun> {
  const { receiverPadTo, senderPadTo, relay, ...common } = options;
  const [r, s] = await Promise.all([
    PsiReceiver.create({ ...common, ...(receiverPadTo !== undefined ? { padTo: receiverPadTo } : {}) }),
    PsiSender.create({ ...common, ...(senderPadTo !== undefined ? { padTo: senderPadTo } : {}) }),
  ]);
  let messages = 0, bytes = 0;
  const pass = (list: Uint8Array[], from: PsiRole): Uint8Array[] => {
    for (const m of list) { messages++; bytes += m.length; relay?.(m, from); }
    return list;
  };
  try {
    const [m1, m2] = await Promise.all([r.start(receiverItems), s.start(senderItems)]);
    pass(m1, 'receiver');
    pass(m2, 'sender');
    const [m3] = await Promise.all([
      Promise.all(m1.map((m) => s.handle(m))),
      Promise.all(m2.map((m) => r.handle(m))),
    ]);
    await Promise.all(pass(m3.flat(), 'sender').map((m) => r.handle(m)));
    return { receiver: r.result(), sender: s.result(), messages, bytes, wiped: { receiver: await r.close(), sender: await s.close() } };
  } finally {
    await Promise.all([r.close(), s.close()]);
  }
}
