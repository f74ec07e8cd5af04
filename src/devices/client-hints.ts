/**
 * The low-entropy User-Agent Client Hints Chromium browsers send by default to
 * secure origins (no Accept-CH needed): `Sec-CH-UA` (brands), `Sec-CH-UA-Platform`
 * and `Sec-CH-UA-Mobile`. Parsed strictly as RFC 8941 structured fields: a value
 * that is malformed or out of bounds counts as not sent, so nothing unbounded is
 * ever kept or compared.
 */
export interface ClientHints {
  /** Brand names without versions or the GREASE brand, sorted: ["Chromium", "Google Chrome"]. */
  brands?: string[];
  /** "Android", "Windows", "macOS"…: it stays the same when a phone asks for the desktop site. */
  platform?: string;
  /** Whether the browser asks for mobile pages: it flips with "Desktop site". */
  mobile?: boolean;
}

/** Header values longer than these are not from a browser: real ones are under 100 characters. */
export const MAX_BRANDS_HEADER_LENGTH = 512;
export const MAX_BRANDS = 8;
export const MAX_BRAND_LENGTH = 64;
export const MAX_PLATFORM_LENGTH = 32;
const MAX_VERSION_LENGTH = 32;

/** Chromium adds a made-up brand ("Not=A?Brand", " Not A;Brand"…) that changes between versions (GREASE). */
const GREASE_BRAND = /^[^A-Za-z0-9]*Not[^A-Za-z0-9]*A[^A-Za-z0-9]*Brand[^A-Za-z0-9]*$/;

/** The hints a request carries; undefined when it carries none worth keeping. */
export function clientHintsOf(header: (name: string) => string | undefined): ClientHints | undefined {
  const hints: ClientHints = {};
  const brands = parseBrands(header('sec-ch-ua'));
  const platform = parsePlatform(header('sec-ch-ua-platform'));
  const mobile = parseMobile(header('sec-ch-ua-mobile'));
  if (brands !== undefined) hints.brands = brands;
  if (platform !== undefined) hints.platform = platform;
  if (mobile !== undefined) hints.mobile = mobile;
  return Object.keys(hints).length > 0 ? hints : undefined;
}

/** `"Google Chrome";v="126", "Not.A/Brand";v="8", "Chromium";v="126"` → ["Chromium", "Google Chrome"]. */
export function parseBrands(value: string | undefined): string[] | undefined {
  if (value === undefined || value.length > MAX_BRANDS_HEADER_LENGTH) return undefined;
  const parser = new FieldParser(value);
  const names = new Set<string>();
  parser.skipSpaces();
  while (!parser.done()) {
    const brand = parser.string(MAX_BRAND_LENGTH);
    if (brand === undefined || !parser.versionParameter()) return undefined;
    if (!GREASE_BRAND.test(brand)) names.add(brand);
    if (names.size > MAX_BRANDS) return undefined;
    parser.skipOptionalWhitespace();
    if (parser.done()) break;
    if (!parser.take(',')) return undefined;
    parser.skipOptionalWhitespace();
    if (parser.done()) return undefined;
  }
  return names.size > 0 ? [...names].sort() : undefined;
}

/** `"Android"` → Android; an empty or malformed value → undefined. */
export function parsePlatform(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parser = new FieldParser(value);
  parser.skipSpaces();
  const platform = parser.string(MAX_PLATFORM_LENGTH);
  parser.skipSpaces();
  return platform && parser.done() ? platform : undefined;
}

/** `?1` → true, `?0` → false; anything else → undefined. */
export function parseMobile(value: string | undefined): boolean | undefined {
  const trimmed = value?.replace(/^ +| +$/g, '');
  return trimmed === '?1' ? true : trimmed === '?0' ? false : undefined;
}

/** Just enough of RFC 8941 for these three fields: sf-string items with an optional `v` string parameter. */
class FieldParser {
  private at = 0;

  constructor(private readonly input: string) {}

  done(): boolean {
    return this.at >= this.input.length;
  }

  take(char: string): boolean {
    if (this.input[this.at] !== char) return false;
    this.at++;
    return true;
  }

  skipSpaces(): void {
    while (this.input[this.at] === ' ') this.at++;
  }

  /** OWS between list members: spaces and tabs. */
  skipOptionalWhitespace(): void {
    while (this.input[this.at] === ' ' || this.input[this.at] === '\t') this.at++;
  }

  /** An sf-string of printable ASCII with `\"` and `\\` escapes, at most `max` characters once unescaped. */
  string(max: number): string | undefined {
    if (!this.take('"')) return undefined;
    let text = '';
    while (!this.done()) {
      const char = this.input[this.at++];
      if (char === '"') return text;
      if (char === '\\') {
        const escaped = this.input[this.at++];
        if (escaped !== '"' && escaped !== '\\') return undefined;
        text += escaped;
      } else {
        const code = char.charCodeAt(0);
        if (code < 0x20 || code > 0x7e) return undefined;
        text += char;
      }
      if (text.length > max) return undefined;
    }
    return undefined;
  }

  /** A brand's parameters: at most one, `;v="<version>"` (versions are read, never kept). */
  versionParameter(): boolean {
    if (!this.take(';')) return true;
    this.skipSpaces();
    return this.take('v') && this.take('=') && this.string(MAX_VERSION_LENGTH) !== undefined && this.input[this.at] !== ';';
  }
}
