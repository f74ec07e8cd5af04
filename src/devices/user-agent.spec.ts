import { describeUserAgent, deviceFamily } from './user-agent';

describe('describeUserAgent', () => {
  it('names browser and OS', () => {
    expect(describeUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0')).toEqual({
      browser: 'Firefox 128',
      os: 'Windows 10',
    });
    expect(
      describeUserAgent(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      ),
    ).toEqual({ browser: 'Mobile Safari 17', os: 'iOS 17.5' });
  });

  it('says Unknown for a missing or odd header', () => {
    expect(describeUserAgent(undefined)).toEqual({ browser: 'Unknown', os: 'Unknown' });
    expect(describeUserAgent('curl/8.5.0')).toEqual({ browser: 'Unknown', os: 'Unknown' });
  });

  it('gives the family and engine without versions, so an update is the same device', () => {
    expect(deviceFamily('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0')).toEqual({
      browser: 'Firefox',
      os: 'Windows',
      engine: 'Gecko',
    });
    expect(deviceFamily('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0')).toEqual({
      browser: 'Firefox',
      os: 'Windows',
      engine: 'Gecko',
    });
    expect(deviceFamily(undefined)).toEqual({ browser: 'Unknown', os: 'Unknown', engine: 'Unknown' });
  });
});
