import type { NestExpressApplication } from '@nestjs/platform-express';
import hbs from 'hbs';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { plural } from './plural';

export const VIEWS_DIR = join(__dirname, '..', '..', '..', 'views');
export const PUBLIC_DIR = join(__dirname, '..', '..', '..', 'public');
const PARTIALS_DIR = join(VIEWS_DIR, 'partials');

/** Short times in one zone, which the page names (the admin console's). */
interface ZonedTimes {
  dateTime(at: Date): string;
}

function isZonedTimes(value: unknown): value is ZonedTimes {
  return typeof value === 'object' && value !== null && typeof (value as Partial<ZonedTimes>).dateTime === 'function';
}

/**
 * `{{datetime at}}`: "2026-11-28 04:09:33 UTC", unambiguous for people in any
 * time zone; `{{datetime at zonedTimes}}`: as that page's zone shows times.
 */
function formatDateTime(value: unknown, ...rest: unknown[]): string {
  const date = value instanceof Date ? value : new Date(String(value));
  if (Number.isNaN(date.getTime())) return '';
  if (isZonedTimes(rest[0])) return rest[0].dateTime(date);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Handlebars with a layout and partials; partials are read synchronously so the first render finds them. */
export function configureViews(app: NestExpressApplication): void {
  for (const file of readdirSync(PARTIALS_DIR).filter((name) => name.endsWith('.hbs'))) {
    hbs.registerPartial(basename(file, '.hbs'), readFileSync(join(PARTIALS_DIR, file), 'utf8'));
  }
  hbs.registerHelper('datetime', formatDateTime);
  hbs.registerHelper('time', (value: unknown) => (value instanceof Date ? value.toISOString().slice(11, 16) : ''));
  hbs.registerHelper('isoDate', (value: unknown) => (value instanceof Date ? value.toISOString() : ''));
  // `{{plural n "user"}}`, `{{plural n "entry" "entries"}}`: the word only, beside a count shown on its own.
  hbs.registerHelper('plural', (count: unknown, singular: string, ...rest: unknown[]) =>
    plural(Number(count), singular, rest.length > 1 ? String(rest[0]) : undefined),
  );
  hbs.registerHelper('eq', (left: unknown, right: unknown) => left === right);
  hbs.registerHelper('concat', (...parts: unknown[]) => parts.slice(0, -1).join(''));
  app.setBaseViewsDir(VIEWS_DIR);
  app.setViewEngine('hbs');
  app.set('view options', { layout: 'layouts/main' });
}
