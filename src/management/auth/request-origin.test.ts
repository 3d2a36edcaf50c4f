import { describe, expect, it } from 'vitest';
import { hostName, isHostAllowed, isOriginAllowed } from './request-origin.js';

const policy = { allowedHosts: ['deploy.local'], trustedOrigins: ['https://deploy.example.org'] };

describe('isHostAllowed', () => {
  it.each([
    ['127.0.0.1:5000', true],
    ['[::1]:5000', true],
    ['192.168.1.20', true],
    ['localhost:5000', true],
    ['Deploy.Local:5000', true],
    ['attacker.example:5000', false],
    ['127.0.0.1.attacker.example', false],
    [undefined, false],
  ])('Host %s → %s', (host, want) => expect(isHostAllowed(host, policy)).toBe(want));

  it.each([
    ['[::1]:5000', '::1'],
    ['example.org:80', 'example.org'],
    ['::1', '::1'],
  ])('hostName(%s) = %s', (host, want) => expect(hostName(host)).toBe(want));
});

describe('isOriginAllowed', () => {
  const self = 'http://127.0.0.1:5000';
  it.each([
    ['same origin', { origin: 'http://127.0.0.1:5000' }, true],
    ['trusted origin', { origin: 'https://deploy.example.org' }, true],
    ['other port', { origin: 'http://127.0.0.1:5001' }, false],
    ['other scheme', { origin: 'https://127.0.0.1:5000' }, false],
    ['foreign site', { origin: 'http://evil.example' }, false],
    ['opaque origin', { origin: 'null' }, false],
    ['referer of ours', { referer: 'http://127.0.0.1:5000/venues' }, true],
    ['foreign referer', { referer: 'http://evil.example/x' }, false],
    ['broken referer', { referer: 'not a url' }, false],
    ['no browser headers (curl, scripts)', {}, true],
  ])('%s → %s', (_name, headers, want) => expect(isOriginAllowed(headers, self, policy)).toBe(want));
});
