import { clientHintsOf, MAX_BRANDS, parseBrands, parseMobile, parsePlatform } from './client-hints';

describe('parseBrands', () => {
  it.each([
    ['Chrome', '"Not/A)Brand";v="8", "Chromium";v="126", "Google Chrome";v="126"', ['Chromium', 'Google Chrome']],
    ['Edge', '"Microsoft Edge";v="126", "Not-A.Brand";v="24", "Chromium";v="126"', ['Chromium', 'Microsoft Edge']],
    ['Samsung Internet', '"Chromium";v="121", "Not A(Brand";v="99", "Samsung Internet";v="25.0"', ['Chromium', 'Samsung Internet']],
    ['an older GREASE brand', '" Not A;Brand";v="99", "Chromium";v="96", "Google Chrome";v="96"', ['Chromium', 'Google Chrome']],
    ['another order', '"Google Chrome";v="126", "Chromium";v="126", "Not=A?Brand";v="8"', ['Chromium', 'Google Chrome']],
    [
      'tabs and no spaces between members',
      '"Chromium";v="126",\t"Google Chrome";v="126","Not_A Brand";v="8"',
      ['Chromium', 'Google Chrome'],
    ],
    ['brands without versions', '"Chromium", "Google Chrome"', ['Chromium', 'Google Chrome']],
    ['escaped quotes and backslashes', '"A \\"quoted\\" \\\\ brand";v="1"', ['A "quoted" \\ brand']],
    ['a repeated brand', '"Chromium";v="126", "Chromium";v="127"', ['Chromium']],
  ])('reads %s', (_, header, brands) => {
    expect(parseBrands(header)).toEqual(brands);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['only the GREASE brand', '"Not/A)Brand";v="8"'],
    ['an unbalanced quote', '"Google Chrome;v="126", "Chromium";v="126"'],
    ['an unterminated string', '"Chromium";v="126", "Google Chrome'],
    ['a token instead of a string', 'Chromium;v="126"'],
    ['an integer version', '"Chromium";v=126'],
    ['another parameter', '"Chromium";x="1"'],
    ['two parameters', '"Chromium";v="1";v="2"'],
    ['a trailing comma', '"Chromium";v="126",'],
    ['an empty member', '"Chromium";v="126", , "Google Chrome";v="126"'],
    ['an inner list', '("Chromium" "Google Chrome")'],
    ['a bad escape', '"Chro\\mium";v="126"'],
    ['a control character', '"Chro\u0001mium";v="126"'],
    ['a character beyond ASCII', '"Chrömium";v="126"'],
    ['garbage after a member', '"Chromium";v="126" x'],
    ['a brand longer than 64 characters', `"${'B'.repeat(65)}";v="1"`],
    ['a 10 KB header', `"Chromium";v="126", ${'"Not A;Brand";v="99", '.repeat(500)}"Google Chrome";v="126"`],
    ['more than the brand limit', Array.from({ length: MAX_BRANDS + 1 }, (_, i) => `"Brand ${i}";v="1"`).join(', ')],
  ])('refuses %s', (_, header) => {
    expect(parseBrands(header)).toBeUndefined();
  });
});

describe('parsePlatform and parseMobile', () => {
  it('read an sf-string and an sf-boolean', () => {
    expect(parsePlatform('"Android"')).toBe('Android');
    expect(parsePlatform(' "Chrome OS" ')).toBe('Chrome OS');
    expect(parseMobile('?1')).toBe(true);
    expect(parseMobile('?0')).toBe(false);
  });

  it.each(['', '""', 'Android', '"Android', '"Android" "Linux"', `"${'W'.repeat(33)}"`, '"Andr\u00f6id"'])(
    'refuse the platform %j',
    (value) => {
      expect(parsePlatform(value)).toBeUndefined();
    },
  );

  it.each(['', '1', '?2', '?1;a', 'true', '? 1'])('refuse the mobile flag %j', (value) => {
    expect(parseMobile(value)).toBeUndefined();
  });
});

describe('clientHintsOf', () => {
  it('keeps only the hints that parse, and none when none does', () => {
    const headers: Record<string, string> = { 'sec-ch-ua': '"Chromium";v="126', 'sec-ch-ua-platform': '"Windows"' };
    expect(clientHintsOf((name) => headers[name])).toEqual({ platform: 'Windows' });
    expect(clientHintsOf(() => undefined)).toBeUndefined();
    expect(clientHintsOf(() => 'x'.repeat(10_000))).toBeUndefined();
  });
});
