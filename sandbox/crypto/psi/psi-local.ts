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
    // Each list goes on as soon as it exists (the coordinator relays in the same way), so the
    // threads always have work queued while either side deduplicates, shuffles or compares.
    const deliver = async (list: Uint8Array[], from: PsiRole): Promise<void> => {
      await Promise.all(pass(list, from).map(async (m) => {
        if (from === 'receiver') await deliver(await s.handle(m), 'sender');
        else await r.handle(m);
      }));
    };
    await Promise.all([r.start(receiverItems).then((m1) => deliver(m1, 'receiver')), s.start(senderItems).then((m2) => deliver(m2, 'sender'))]);
    return { receiver: r.result(), sender: s.result(), messages, bytes, wiped: { receiver: await r.close(), sender: await s.close() } };
  } finally {
    await Promise.all([r.close(), s.close()]);
  }
}
