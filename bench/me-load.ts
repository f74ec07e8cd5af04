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

/** Every latency in ms, and what each failure was: a non-2xx status with its error code, or the socket's error. */
export interface MeLatencies {
  latencies: number[];
  failures: string[];
}

/** Longer than any answer the targets allow: a request without an answer by then is an error. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * One request; its latency, or, when it fails or its answer is not 2xx, a
 * failure with an infinite latency, so failures count in the p99 instead of
 * leaving it.
 */
function one(agent: Agent, { url, cookie }: MeLoad, due: number, into: MeLatencies): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (failure?: string) => {
      if (settled) return;
      settled = true;
      if (failure !== undefined) into.failures.push(failure);
      into.latencies.push(failure === undefined ? performance.now() - due : Infinity);
      resolve();
    };
    const request = get(`${url}/api/auth/me`, { agent, headers: { cookie }, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      const status = response.statusCode ?? 0;
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => settle(status < 300 ? undefined : `${status} ${errorCode(body)}`.trim()));
      // A connection reset in the middle of the body ends no response: it closes it.
      response.on('close', () => settle(`${status}, body cut off`));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
  });
}

/** The error registry's code in an error answer's JSON body, if it has one. */
function errorCode(body: string): string {
  try {
    return String((JSON.parse(body) as { code?: unknown }).code ?? '');
  } catch {
    return '';
  }
}

async function run(load: MeLoad): Promise<MeLatencies> {
  const agent = new Agent({ keepAlive: true, maxSockets: load.connections });
  const result: MeLatencies = { latencies: [], failures: [] };
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
