/**
 * `GET /api/auth/me` at a fixed rate for `npm run bench:storm`, in its own
 * process (in the bench's, the storm's clients would delay the answers'
 * handling), forked once and driven by messages (MeLoad), so each run starts
 * the moment it is asked for. Open loop: request i is due at start + i / rate
 * whatever the answers before it, as signed-in people click at their own
 * pace, and its latency counts from that moment, so time spent waiting for a
 * free connection counts too.
 */
import { Agent, get } from 'node:http';

export interface MeLoad {
  url: string;
  cookie: string;
  rate: number;
  connections: number;
  seconds: number;
}

/** Every latency in ms, and the failures and non-2xx answers. */
export interface MeLatencies {
  latencies: number[];
  errors: number;
}

/** Longer than any answer the targets allow: a request without an answer by then is an error. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * One request; its latency, or, when it fails or its answer is not 2xx, an
 * error with an infinite latency, so failures count in the p99 instead of
 * leaving it.
 */
function one(agent: Agent, { url, cookie }: MeLoad, due: number, into: MeLatencies): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      if (!ok) into.errors++;
      into.latencies.push(ok ? performance.now() - due : Infinity);
      resolve();
    };
    const request = get(`${url}/api/auth/me`, { agent, headers: { cookie }, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      response.resume();
      response.on('end', () => settle((response.statusCode ?? 0) < 300));
      // A connection reset in the middle of the body ends no response: it closes it.
      response.on('close', () => settle(false));
    });
    request.on('timeout', () => request.destroy(new Error('no answer in time')));
    request.on('error', () => settle(false));
  });
}

async function run(load: MeLoad): Promise<MeLatencies> {
  const agent = new Agent({ keepAlive: true, maxSockets: load.connections });
  const result: MeLatencies = { latencies: [], errors: 0 };
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < Math.round(load.rate * load.seconds); i++) {
    const due = start + (i * 1000) / load.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(one(agent, load, due, result));
  }
  await Promise.all(pending);
  agent.destroy();
  return result;
}

process.on('message', (load: MeLoad) => {
  void run(load).then((result) => process.send!(result));
});
