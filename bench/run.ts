/**
 * `npm run bench -- <name> [flags]`: runs bench/<name>.ts, whose `run(argv)` parses its own
 * flags (node:util parseArgs) and ends with one JSON line on stdout (see support/report.ts).
 * Add a bench by adding a row to the table below.
 */
type BenchModule = { run(argv: string[]): Promise<void> };

const benches: Record<string, { load: () => Promise<BenchModule>; summary: string }> = {
  actor: {
    load: () => import('./actor.js'),
    summary: 'durable claims/s of one show (group commit) vs a 64-connection UPDATE-per-claim baseline; recovery time; memory per show',
  },
  fanout: {
    load: () => import('./fanout.js'),
    summary: 'seat-map diffs to 1,000/5,000 socket watchers under a steady hold stream: delivery delay, diffs/s, no missed change (msgpack vs JSON)',
  },
  routing: {
    load: () => import('./routing.js'),
    summary: 'sharding: the cross-worker hop (p50/p99, owner-answered vs forwarded reads) and holds/s with 1, 2 and 4 workers',
  },
  queue: {
    load: () => import('./queue.js'),
    summary: 'waiting room: 1,000,000 fans join over HTTP keep-alive (joins/s, latency, server RSS growth, SQL check); queue:serving delay at 5,000 sockets',
  },
};

function usage(): string {
  const rows = Object.entries(benches).map(([name, bench]) => `  ${name.padEnd(10)} ${bench.summary}`);
  return ['usage: npm run bench -- <name> [flags]   (npm run bench -- <name> --help for its flags)', '', 'benches:', ...rows].join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const name = argv[0];
  if (name === undefined || name.startsWith('-')) {
    console.error(usage());
    process.exitCode = name === '--help' || name === '-h' ? 0 : 2;
    return;
  }
  const bench = benches[name];
  if (bench === undefined) {
    console.error(`unknown bench "${name}"\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  const module = await bench.load();
  await module.run(argv.slice(1));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
