import { toString } from 'qrcode';

/**
 * A QR code of `text` as an SVG document, drawn on the server: the page
 * needs no script to show it, and it carries presentation attributes only
 * (no style), so the CSP stays `'self'`.
 */
export function qrCodeSvg(text: string): Promise<string> {
  return toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
