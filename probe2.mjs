import { PGlite } from '@electric-sql/pglite';
const t0 = Date.now();
const dbs = [];
for (let i = 0; i < 7; i++) { const db = new PGlite(`/tmp/pgl/${i}`); await db.waitReady; dbs.push(db); }
console.log('7 pglite reopen', Date.now() - t0, 'ms rss', (process.memoryUsage().rss / 2**20).toFixed(0));
const m = new PGlite(); await m.waitReady; console.log('mem', Date.now()-t0);
