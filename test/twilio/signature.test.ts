import { createHash, createHmac } from 'node:crypto';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import {
  computeTwilioSignature,
  isValidTwilioJsonSignature,
  isValidTwilioSignature,
  type TwilioParams,
} from '../../src/twilio/signature.js';

// twilio-node's own test vector.
const TOKEN = '12345';
const URL_ = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675309',
  Digits: '1234',
  From: '+14158675309',
  To: '+18005551212',
};
const EXPECTED = 'RSOYDt4T1cUTdK1PDd93/VVr8B8=';

describe('computeTwilioSignature', () => {
  it('matches the published test vector', () => {
    expect(computeTwilioSignature(TOKEN, URL_, PARAMS)).toBe(EXPECTED);
  });

  it('does not depend on the order the params were given in', () => {
    const reversed = Object.fromEntries(Object.entries(PARAMS).reverse());
    expect(computeTwilioSignature(TOKEN, URL_, reversed)).toBe(EXPECTED);
  });

  it('sorts names case-sensitively (uppercase before lowercase), as twilio-node does', () => {
    const params = { b: '1', B: '2', a: '3', A: '4', _x: '5' };
    expect(computeTwilioSignature(TOKEN, URL_, params)).toBe(twilio.getExpectedTwilioSignature(TOKEN, URL_, params));
    // And the order matters at all: a case-insensitive sort would give another string.
    const data = URL_ + 'A4B2_x5a3b1';
    expect(computeTwilioSignature(TOKEN, URL_, params)).toBe(hmac(TOKEN, data));
  });

  it('includes empty values', () => {
    const withEmpty = computeTwilioSignature(TOKEN, URL_, { ...PARAMS, Body: '' });
    expect(withEmpty).not.toBe(EXPECTED);
    expect(withEmpty).toBe(twilio.getExpectedTwilioSignature(TOKEN, URL_, { ...PARAMS, Body: '' }));
  });

  it('signs repeated keys once per distinct value, values sorted (like twilio-node)', () => {
    const a = { To: '+1', MediaUrl: ['https://b.example/2', 'https://a.example/1'] };
    const b = { To: '+1', MediaUrl: ['https://a.example/1', 'https://b.example/2'] };
    expect(computeTwilioSignature(TOKEN, URL_, a)).toBe(computeTwilioSignature(TOKEN, URL_, b));
    expect(computeTwilioSignature(TOKEN, URL_, a)).toBe(twilio.getExpectedTwilioSignature(TOKEN, URL_, a));
    expect(computeTwilioSignature(TOKEN, URL_, a)).toBe(
      hmac(TOKEN, URL_ + 'MediaUrlhttps://a.example/1MediaUrlhttps://b.example/2To+1'),
    );
  });
});

describe('isValidTwilioSignature', () => {
  it('accepts the test vector', () => {
    expect(isValidTwilioSignature(TOKEN, EXPECTED, URL_, PARAMS)).toBe(true);
  });

  it('rejects a tampered param value, an added param and a removed param', () => {
    expect(isValidTwilioSignature(TOKEN, EXPECTED, URL_, { ...PARAMS, Digits: '1235' })).toBe(false);
    expect(isValidTwilioSignature(TOKEN, EXPECTED, URL_, { ...PARAMS, Extra: 'x' })).toBe(false);
    const { Digits: _d, ...without } = PARAMS;
    expect(isValidTwilioSignature(TOKEN, EXPECTED, URL_, without)).toBe(false);
  });

  it('rejects an empty param that was not signed, and accepts it when it was', () => {
    expect(isValidTwilioSignature(TOKEN, EXPECTED, URL_, { ...PARAMS, Body: '' })).toBe(false);
    const signed = computeTwilioSignature(TOKEN, URL_, { ...PARAMS, Body: '' });
    expect(isValidTwilioSignature(TOKEN, signed, URL_, { ...PARAMS, Body: '' })).toBe(true);
    expect(isValidTwilioSignature(TOKEN, signed, URL_, PARAMS)).toBe(false);
  });

  it('rejects a tampered URL (path, query, scheme, host)', () => {
    for (const url of [
      'https://mycompany.com/myapp.php?foo=1&bar=3',
      'https://mycompany.com/myapp.php?foo=1',
      'https://mycompany.com/other.php?foo=1&bar=2',
      'http://mycompany.com/myapp.php?foo=1&bar=2',
      'https://evil.com/myapp.php?foo=1&bar=2',
      'https://mycompany.com/myapp.php?bar=2&foo=1',
    ]) {
      expect(isValidTwilioSignature(TOKEN, EXPECTED, url, PARAMS), url).toBe(false);
    }
  });

  it('rejects the wrong token, a missing, empty, truncated or garbage signature', () => {
    expect(isValidTwilioSignature('12346', EXPECTED, URL_, PARAMS)).toBe(false);
    expect(isValidTwilioSignature(TOKEN, undefined, URL_, PARAMS)).toBe(false);
    expect(isValidTwilioSignature(TOKEN, '', URL_, PARAMS)).toBe(false);
    expect(isValidTwilioSignature(TOKEN, EXPECTED.slice(0, -1), URL_, PARAMS)).toBe(false);
    expect(isValidTwilioSignature(TOKEN, EXPECTED + 'A', URL_, PARAMS)).toBe(false);
    expect(isValidTwilioSignature(TOKEN, 'é'.repeat(14), URL_, PARAMS)).toBe(false);
    expect(isValidTwilioSignature('', computeTwilioSignature('', URL_, PARAMS), URL_, PARAMS)).toBe(false);
  });

  it('tries the URL with and without the default port', () => {
    const withPort = 'https://mycompany.com:443/myapp.php?foo=1&bar=2';
    // Signed without the port, received with it, and the other way round.
    expect(isValidTwilioSignature(TOKEN, EXPECTED, withPort, PARAMS)).toBe(true);
    const signedWithPort = computeTwilioSignature(TOKEN, withPort, PARAMS);
    expect(signedWithPort).not.toBe(EXPECTED);
    expect(isValidTwilioSignature(TOKEN, signedWithPort, URL_, PARAMS)).toBe(true);

    const httpUrl = 'http://example.com/sms?x=1';
    const sig = computeTwilioSignature(TOKEN, httpUrl, PARAMS);
    expect(isValidTwilioSignature(TOKEN, sig, 'http://example.com:80/sms?x=1', PARAMS)).toBe(true);
    // Another scheme's default port is not a default port.
    expect(isValidTwilioSignature(TOKEN, sig, 'http://example.com:443/sms?x=1', PARAMS)).toBe(false);
  });

  it('does not strip a non-default port', () => {
    const sig = computeTwilioSignature(TOKEN, 'https://mycompany.com/myapp.php', PARAMS);
    expect(isValidTwilioSignature(TOKEN, sig, 'https://mycompany.com:8443/myapp.php', PARAMS)).toBe(false);
    const sig8443 = computeTwilioSignature(TOKEN, 'https://mycompany.com:8443/myapp.php', PARAMS);
    expect(isValidTwilioSignature(TOKEN, sig8443, 'https://mycompany.com:8443/myapp.php', PARAMS)).toBe(true);
  });

  it('handles userinfo and IPv6 hosts when adding the port', () => {
    const url = 'https://user:pw@[::1]/hook';
    const sig = computeTwilioSignature(TOKEN, 'https://user:pw@[::1]:443/hook', PARAMS);
    expect(isValidTwilioSignature(TOKEN, sig, url, PARAMS)).toBe(true);
  });

  it('agrees with twilio-node validateRequest on random params', () => {
    const rnd = mulberry32(20240611);
    const alphabet = 'aAbBzZ09_-+ =&?%/.:;éü€😀\n';
    const str = (max: number) => {
      let s = '';
      const n = Math.floor(rnd() * (max + 1));
      for (let i = 0; i < n; i++) s += [...alphabet][Math.floor(rnd() * [...alphabet].length)];
      return s;
    };
    const hosts = ['https://example.com', 'https://example.com:443', 'http://example.com', 'http://127.0.0.1:3000'];
    for (let i = 0; i < 300; i++) {
      const params: TwilioParams = {};
      const count = Math.floor(rnd() * 8);
      for (let j = 0; j < count; j++) {
        const name = ['Body', 'body', 'From', 'To', 'MediaUrl', 'NumMedia', 'X'][Math.floor(rnd() * 7)] + str(2);
        params[name] = rnd() < 0.2 ? [str(6), str(6), str(6)] : str(12);
      }
      const url = `${hosts[i % hosts.length]}/twilio/AC${i}/sms${rnd() < 0.5 ? '?tenant=t' + i : ''}`;
      const token = str(10) + 'x';
      const sig = computeTwilioSignature(token, url, params);
      expect(sig).toBe(twilio.getExpectedTwilioSignature(token, url, params));

      const ours = isValidTwilioSignature(token, sig, url, params);
      const theirs = twilio.validateRequest(token, sig, url, params as Record<string, string>);
      expect(ours).toBe(true);
      expect(theirs).toBe(true);

      const tampered = { ...params, Body: (typeof params['Body'] === 'string' ? params['Body'] : '') + 'x' };
      expect(isValidTwilioSignature(token, sig, url, tampered)).toBe(false);
      expect(twilio.validateRequest(token, sig, url, tampered as Record<string, string>)).toBe(false);

      const otherSig = computeTwilioSignature(token + 'y', url, params);
      expect(isValidTwilioSignature(token, otherSig, url, params)).toBe(
        twilio.validateRequest(token, otherSig, url, params as Record<string, string>),
      );
    }
  });
});

describe('isValidTwilioJsonSignature (bodySHA256)', () => {
  const body = JSON.stringify({ MessageSid: 'SM' + 'a'.repeat(32), Status: 'delivered', note: 'é😀' });
  const hash = createHash('sha256').update(body, 'utf8').digest('hex');
  const url = `https://hooks.example.com/twilio/json?tenant=1&bodySHA256=${hash}`;
  const sig = computeTwilioSignature(TOKEN, url, {});

  it('accepts a correct body and signature (and twilio-node agrees)', () => {
    expect(isValidTwilioJsonSignature(TOKEN, sig, url, body)).toBe(true);
    expect(twilio.validateRequestWithBody(TOKEN, sig, url, body)).toBe(true);
  });

  it('accepts the URL with the default port added', () => {
    const withPort = url.replace('hooks.example.com', 'hooks.example.com:443');
    expect(isValidTwilioJsonSignature(TOKEN, sig, withPort, body)).toBe(true);
  });

  it('rejects a tampered body', () => {
    expect(isValidTwilioJsonSignature(TOKEN, sig, url, body + ' ')).toBe(false);
    expect(twilio.validateRequestWithBody(TOKEN, sig, url, body + ' ')).toBe(false);
  });

  it('rejects a body hash that matches but a signature over another URL', () => {
    const other = url.replace('tenant=1', 'tenant=2');
    expect(isValidTwilioJsonSignature(TOKEN, sig, other, body)).toBe(false);
  });

  it('rejects a URL without bodySHA256, a bad URL, a missing signature, the wrong token', () => {
    const bare = 'https://hooks.example.com/twilio/json?tenant=1';
    expect(isValidTwilioJsonSignature(TOKEN, computeTwilioSignature(TOKEN, bare, {}), bare, body)).toBe(false);
    expect(isValidTwilioJsonSignature(TOKEN, sig, 'not a url', body)).toBe(false);
    expect(isValidTwilioJsonSignature(TOKEN, undefined, url, body)).toBe(false);
    expect(isValidTwilioJsonSignature('54321', sig, url, body)).toBe(false);
  });

  it('rejects a body signed as form params instead of the URL alone', () => {
    const formSig = computeTwilioSignature(TOKEN, url, { body });
    expect(isValidTwilioJsonSignature(TOKEN, formSig, url, body)).toBe(false);
  });
});

/** The definition spelled out, independent of the implementation under test. */
function hmac(token: string, data: string): string {
  return createHmac('sha1', token).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** Small seeded PRNG so a failure is reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
