import type { Logger } from 'pino';
import type { Lang } from '../sandbox/errors/index.ts';
import type { SessionUser } from './services/auth.service.ts';

/** The per-request variables middleware puts on `c.var`. */
export interface AppVariables {
  /** Set by `request-id`: the accepted or generated request id. */
  requestId: string;
  /** Set by `request-id`: a child logger carrying the request id. */
  logger: Logger;
  /** Set by `session` when the request carries a valid session cookie. */
  user?: SessionUser;
  /** Set by `session`: the session's id (SHA-256 of the token) and CSRF token. */
  session?: { id: string; csrfToken: string };
}

export interface AppEnv {
  Variables: AppVariables;
}

export type { Lang };
