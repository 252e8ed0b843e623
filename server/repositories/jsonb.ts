import { sql, type RawBuilder } from 'kysely';

/**
 * A JSON value as a jsonb parameter. Sent as text and cast: postgres.js (and PGlite) would
 * JSON-encode a string parameter bound straight to a jsonb column a second time, storing a
 * jsonb *string* instead of the object.
 */
export const jsonb = (value: unknown): RawBuilder<string> => sql<string>`CAST(${JSON.stringify(value)}::text AS jsonb)`;
