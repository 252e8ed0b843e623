import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench -- <name> [args…]`: runs tests/bench/<name>.bench.ts, which exports
 * `run(argv: string[]): Promise<void>`. Without a name, lists the benchmarks.
 */
interface BenchModule { run(argv: string[]): Promise<void> }

const here = fileURLToPath(new URL('.', import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).map((f) => f.slice(0, -'.bench.ts'.length));
if (!name || !/^[a-z0-9-]+$/.test(name) || !existsSync(`${here}/${name}.bench.ts`)) {
  process.stderr.write(`usage: npm run bench -- <name> [args]\nbenchmarks: ${available.join(', ')}\n`);
  process.exit(name ? 1 : 0);
}
const mod = (await import(`./${name}.bench.ts`)) as BenchModule;
await mod.run(rest);
