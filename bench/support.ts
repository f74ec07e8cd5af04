/**
 * What the benches share. They store clones of a real session document, one
 * the app wrote when a client signed in, each under its own id and user:
 * hand-made documents drift from what the app writes (fields, types, the TTL
 * date); clones cannot. They start the app as deployed (productionNodeFlags).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient, ObjectId } from 'mongodb';
import type { SessionDocument } from '../src/sessions/session-document';
import { SESSION_COLLECTION, SESSION_TOKEN_BYTES } from '../src/sessions/session.constants';
import { freePort, waitForPort } from '../src/database/ports';
import { sessionStorageId } from '../src/sessions/session-id';

/** The session cookie's name; the benches start the app with it (SESSION_COOKIE_NAME) over plain HTTP (COOKIE_SECURE=false: no `__Host-` prefix). */
export const SESSION_COOKIE = 'session_token';
const INSERT_BATCH = 5_000;
const ROOT = join(__dirname, '..');

/** The flags production starts node with: those of the Dockerfile's CMD, before the script. */
export function productionNodeFlags(): string[] {
  const command = /^CMD (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  if (!command) throw new Error('No CMD ["node", …] line in the Dockerfile');
  const argv = JSON.parse(command) as string[];
  return argv.slice(1, argv.indexOf('dist/main.js'));
}

const START_TIMEOUT_MS = 60_000;
/** Production requires PUBLIC_URL (an https origin, for passkeys); the benchmarks sign in with passwords only. */
export const BENCH_PUBLIC_URL = 'https://sessions.example.com';

/**
 * The built app started as deployed (`node <flags> dist/main.js`,
 * NODE_ENV=production, a random secret, plain-HTTP cookies) on a free port,
 * with `env` on top; resolves once it answers /health/ready.
 */
export async function startProductionApp(
  uri: string,
  env: Record<string, string> = {},
  nodeFlags = productionNodeFlags(),
): Promise<{ process: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeFlags, 'dist/main.js'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      MONGODB_URI: uri,
      SESSION_SECRET: randomBytes(48).toString('base64url'),
      COOKIE_SECURE: 'false',
      PUBLIC_URL: BENCH_PUBLIC_URL,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitForPort(port, START_TIMEOUT_MS, () => child.exitCode !== null);
    const url = `http://127.0.0.1:${port}`;
    for (let ready = false; !ready;) ready = (await fetch(`${url}/health/ready`).catch(() => undefined))?.ok ?? false;
    return { process: child, url };
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
}

/** Signs in through the JSON API like a client would; returns the Cookie header to send. */
export async function signIn(url: string, credentials: { email: string; password: string }): Promise<string> {
  const csrf = await fetch(`${url}/api/auth/csrf`);
  const csrfCookie = csrf.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);
  const { token } = (await csrf.json()) as { token: string };
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': token, cookie: csrfCookie.join('; ') },
    body: JSON.stringify(credentials),
  });
  if (login.status !== 200) throw new Error(`sign-in failed: ${login.status} ${await login.text()}`);
  return login.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

/** The `sessions` document's `_id` of the session a Cookie header carries (`session_token=s:<token>.<signature>`). */
export function sessionIdOf(cookieHeader: string): string {
  const value = cookieHeader
    .split(/;\s*/)
    .find((part) => part.startsWith(`${SESSION_COOKIE}=`))
    ?.slice(SESSION_COOKIE.length + 1);
  if (!value) throw new Error(`no ${SESSION_COOKIE} cookie in "${cookieHeader}"`);
  return sessionStorageId(decodeURIComponent(value).slice(2).split('.')[0]);
}

/** The stored document of the session `cookieHeader` carries, as the app wrote it. */
export async function readSession(uri: string, cookieHeader: string): Promise<SessionDocument> {
  const client = await MongoClient.connect(uri);
  try {
    const id = sessionIdOf(cookieHeader);
    const document = await client.db().collection<SessionDocument>(SESSION_COLLECTION).findOne({ _id: id });
    if (!document) throw new Error(`session ${id.slice(0, 12)}… is not in the ${SESSION_COLLECTION} collection`);
    return document;
  } finally {
    await client.close();
  }
}

/**
 * Stores `count` clones of `original`, each with a fresh id (as the app makes
 * them: a hash of a new random token) and another user; `change` may alter
 * each. Returns the clones' ids.
 */
export async function storeClones(
  uri: string,
  original: SessionDocument,
  count: number,
  change: (clone: SessionDocument) => SessionDocument = (clone) => clone,
  log: (message: string) => void = () => {},
): Promise<string[]> {
  const client = await MongoClient.connect(uri);
  const ids: string[] = [];
  try {
    const sessions = client.db().collection<SessionDocument>(SESSION_COLLECTION);
    const started = Date.now();
    for (let from = 0; from < count; from += INSERT_BATCH) {
      const batch = Array.from({ length: Math.min(INSERT_BATCH, count - from) }, () =>
        change({
          ...original,
          _id: sessionStorageId(randomBytes(SESSION_TOKEN_BYTES).toString('base64url')),
          session: { ...original.session, userId: new ObjectId().toHexString() },
        }),
      );
      await sessions.insertMany(batch);
      ids.push(...batch.map(({ _id }) => _id));
    }
    log(`Stored ${count.toLocaleString('en')} clones of a signed-in session in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return ids;
  } finally {
    await client.close();
  }
}
