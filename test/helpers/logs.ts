import { Writable } from 'node:stream';

export type LogLine = Record<string, unknown> & { msg?: string };

/** A log destination for createTestApp that keeps every line the app writes, raw and parsed. */
export function captureLogs(): { destination: Writable; raw: string[]; lines: () => LogLine[] } {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { destination, raw, lines: () => raw.map((line) => JSON.parse(line) as LogLine) };
}
