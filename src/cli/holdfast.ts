import { parseArgs } from 'node:util';

/**
 * `npx holdfast ops status | move <show> <worker> | pin <show> <worker> | unpin <show> |
 * drain <worker> | undrain <worker>`: the shard operations over the REST ops API.
 */
const usage = `usage: holdfast ops <command> [--url URL] [--token ADMIN_TOKEN] [--json]

commands:
  status                  live workers, draining workers, pins and the owner of every show
  move <show> <worker>    move a show to a worker now (recorded as a pin)
  pin <show> <worker>     same as move: the show stays there until unpinned
  unpin <show>            give the show back to the hash ring
  drain <worker>          move every unpinned show off a worker
  undrain <worker>        let a drained worker take its share again

environment: HOLDFAST_URL (default http://127.0.0.1:3000), ADMIN_TOKEN (default holdfast-admin)`;

interface ClusterView {
  answered_by: string;
  workers: string[];
  draining: string[];
  pins: Record<string, string>;
  owners: Record<string, string | null>;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: process.env['HOLDFAST_URL'] ?? 'http://127.0.0.1:3000' },
      token: { type: 'string', default: process.env['ADMIN_TOKEN'] ?? 'holdfast-admin' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [group, command, ...args] = positionals;
  if (values.help || group !== 'ops' || command === undefined) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(new URL(path, values.url), {
      method,
      headers: { authorization: `Bearer ${values.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const payload: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const problem = payload as { code?: string; detail?: string } | null;
      throw new Error(`${response.status} ${problem?.code ?? ''}: ${problem?.detail ?? response.statusText}`);
    }
    return payload;
  };
  const need = (count: number): string[] => {
    if (args.length !== count) throw new Error(`ops ${command} takes ${count} argument(s)\n\n${usage}`);
    return args;
  };
  let result: unknown;
  switch (command) {
    case 'status':
      result = await call('GET', '/v1/ops/cluster');
      if (!values.json) return printStatus(result as ClusterView);
      break;
    case 'move':
    case 'pin': {
      const [show, worker] = need(2);
      result = await call('POST', `/v1/ops/shows/${encodeURIComponent(show!)}/move`, { worker_id: worker });
      break;
    }
    case 'unpin': {
      const [show] = need(1);
      result = await call('DELETE', `/v1/ops/shows/${encodeURIComponent(show!)}/pin`);
      break;
    }
    case 'drain':
    case 'undrain': {
      const [worker] = need(1);
      result = await call('POST', `/v1/ops/workers/${encodeURIComponent(worker!)}/drain`, { draining: command === 'drain' });
      if (!values.json) return printStatus(result as ClusterView);
      break;
    }
    default:
      console.error(`unknown command ${command}\n\n${usage}`);
      return 2;
  }
  console.log(JSON.stringify(result, null, values.json ? 0 : 2));
  return 0;
}

function printStatus(view: ClusterView): number {
  const showsOf = new Map<string, string[]>();
  for (const [show, owner] of Object.entries(view.owners)) showsOf.set(owner ?? '(none)', [...(showsOf.get(owner ?? '(none)') ?? []), show]);
  console.log(`answered by ${view.answered_by}; ${view.workers.length} live worker(s)`);
  for (const worker of view.workers) {
    const flags = [view.draining.includes(worker) ? 'draining' : '', ...Object.entries(view.pins).filter(([, pinned]) => pinned === worker).map(([show]) => `pin:${show}`)].filter(Boolean);
    console.log(`  ${worker.padEnd(24)} ${String(showsOf.get(worker)?.length ?? 0).padStart(5)} show(s)  ${flags.join(' ')}`);
  }
  for (const [show, owner] of Object.entries(view.owners).sort()) console.log(`    ${show.padEnd(40)} → ${owner ?? '(no live worker)'}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
