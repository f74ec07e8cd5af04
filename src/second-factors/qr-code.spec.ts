import { qrCodeSvg } from './qr-code';

describe('qrCodeSvg', () => {
  it('draws an SVG document with no script or style, which a strict CSP shows as it is', async () => {
    const svg = await qrCodeSvg('otpauth://totp/Sessions:ada%40example.test?secret=JBSWY3DPEHPK3PXP&issuer=Sessions');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* viewBox="0 0 \d+ \d+"/);
    expect(svg).not.toMatch(/<script|<style|style=|on\w+=/i);
  });
});
